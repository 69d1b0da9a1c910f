"""Rule attention: one scene's attention map from the fixations (antonioGaussian smoothing)."""

import numpy as np

from meaningmaps.atomic import save_npy
from meaningmaps.data.fixations import scene_fixations
from meaningmaps.evaluation.figures import save_map_preview
from meaningmaps.maps.attention import attention_map
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    h, w = sm.params.size
    fix, dropped = scene_fixations(sm.input.fixations, sm.wildcards.scene, h, w, outside=sm.params.outside,
                                   settings=sm.params.settings)
    if dropped:
        print(f"dropped {dropped} fixations outside the image (dataset.fixations_outside: drop)")
    m = attention_map(fix, h, w, fc=sm.params.fc, weight=sm.params.weight, wrap=sm.params.wrap)
    print(f"{len(fix)} fixations from {fix['subject'].nunique()} subjects")
    save_npy(sm.output.npy, m.astype(np.float32))
    save_map_preview(m, sm.output.png)
