"""Rule score_scene: every map source of one scene against its attention map and fixations."""

import numpy as np

from meaningmaps.atomic import save_csv
from meaningmaps.data.fixation_tables import read_fixation_table
from meaningmaps.evaluation.scores import score_scene
from meaningmaps.maps.empirical_center import fixated_pixels, pool_other_scenes, size_note
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    scene = sm.wildcards.scene
    attention = np.load(sm.input.attention).astype(np.float64)
    maps = {s: np.load(p).astype(np.float64) for s, p in zip(sm.params.sources, sm.input.maps, strict=True)}
    tables = {s: read_fixation_table(p) for s, p in zip(sm.params.scenes, sm.input.tables, strict=True)}
    sizes = {s: tuple(v) for s, v in sm.params.sizes.items()}
    h, w = sizes[scene]
    fixated = fixated_pixels(tables[scene], h, w)
    other = baseline = None
    if len(tables) > 1:
        note = size_note(sizes, scene)
        if note:
            print(f"shuffled AUC negatives: {note}")
        other = fixated_pixels(pool_other_scenes(tables, sizes, scene), h, w)
        baseline = np.load(sm.input.baseline[0]).astype(np.float64)
    else:
        print("one scene only: no other scenes' fixations, so auc_shuffled and information_gain are NaN")
    scores = score_scene(scene, attention, maps, [tuple(p) for p in sm.params.semipartial], fixated=fixated,
                         other=other, baseline=baseline, auc_splits=sm.params.auc["splits"],
                         auc_step=sm.params.auc["step"], seed=sm.params.seed)
    save_csv(sm.output[0], scores)
    print(scores.to_string(index=False))
