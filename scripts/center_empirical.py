"""Rule center_empirical: one scene's empirical centre bias, the attention map of every other
scene's fixations (leave one scene out): the pool of its image size minus its own fixations."""

import numpy as np

from meaningmaps.atomic import save_npy
from meaningmaps.data.fixation_tables import scene_table
from meaningmaps.maps.empirical_center import empirical_center_from_pool, load_pool, pool_note
from meaningmaps.maps.preview import save_map_preview
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    scene = sm.wildcards.scene
    own = scene_table(sm.input.tables, scene)
    pool = load_pool(sm.input.pool)
    note = pool_note(pool, sm.params.size)
    if note:
        print(note)
    m = empirical_center_from_pool(pool, own, scene, fc=sm.params.fc, weight=sm.params.weight, wrap=sm.params.wrap)
    print(f"{pool['n_fixations'] - len(own)} fixations of {pool['n_scenes'] - 1} other scene(s)")
    save_npy(sm.output.npy, m.astype(np.float32))
    save_map_preview(m, sm.output.png)
