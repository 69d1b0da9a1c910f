"""Rule center_empirical: one scene's empirical centre bias, the attention map of every other
scene's fixations (leave one scene out)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

import numpy as np  # noqa: E402

from meaningmaps.atomic import save_npy  # noqa: E402
from meaningmaps.empirical_center import empirical_center_map, size_note  # noqa: E402
from meaningmaps.figures import save_map_preview  # noqa: E402
from meaningmaps.fixation_tables import read_fixation_table  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    scene = sm.wildcards.scene
    tables = {s: read_fixation_table(p) for s, p in zip(sm.params.others, sm.input.tables, strict=True)}
    sizes = {s: tuple(v) for s, v in sm.params.sizes.items()}
    note = size_note({s: sizes[s] for s in [scene, *tables]}, scene)
    if note:
        print(note)
    m = empirical_center_map(tables, sizes, scene, fc=sm.params.fc, weight=sm.params.weight, wrap=sm.params.wrap)
    print(f"{sum(len(t) for t in tables.values())} fixations of {len(tables)} other scene(s)")
    save_npy(sm.output.npy, m.astype(np.float32))
    save_map_preview(m, sm.output.png)
