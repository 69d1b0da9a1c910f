"""Rule center_empirical: one scene's empirical centre bias, the attention map of every other
scene's fixations (leave one scene out)."""

import numpy as np

from meaningmaps.atomic import save_npy
from meaningmaps.data.fixation_tables import read_fixation_table
from meaningmaps.evaluation.figures import save_map_preview
from meaningmaps.maps.empirical_center import empirical_center_map, size_note
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
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
