"""Rule attention: one scene's attention map from its fixation table (antonioGaussian smoothing)."""

import numpy as np

from meaningmaps.atomic import save_npy
from meaningmaps.data.fixation_tables import scene_table
from meaningmaps.maps.attention import attention_map
from meaningmaps.maps.preview import save_map_preview
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    h, w = sm.params.size
    fix = scene_table(sm.input.tables, sm.wildcards.scene)
    m = attention_map(fix, h, w, fc=sm.params.fc, weight=sm.params.weight, wrap=sm.params.wrap)
    print(f"{len(fix)} fixations from {fix['subject'].nunique()} subjects")
    save_npy(sm.output.npy, m.astype(np.float32))
    save_map_preview(m, sm.output.png)
