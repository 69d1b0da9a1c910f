"""Rule attention: one scene's attention map from the fixations (antonioGaussian smoothing)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

import numpy as np  # noqa: E402

from meaningmaps.atomic import save_npy  # noqa: E402
from meaningmaps.attention import attention_map  # noqa: E402
from meaningmaps.figures import save_map_preview  # noqa: E402
from meaningmaps.fixations import scene_fixations  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    h, w = sm.params.size
    fix, dropped = scene_fixations(sm.input.fixations, sm.wildcards.scene, h, w, outside=sm.params.outside,
                                   settings=sm.params.settings)
    if dropped:
        print(f"dropped {dropped} fixations outside the image (dataset.fixations_outside: drop)")
    m = attention_map(fix, h, w, fc=sm.params.fc, weight=sm.params.weight, wrap=sm.params.wrap)
    print(f"{len(fix)} fixations from {fix['subject'].nunique()} subjects")
    save_npy(sm.output.npy, m.astype(np.float32))
    save_map_preview(m, sm.output.png)
