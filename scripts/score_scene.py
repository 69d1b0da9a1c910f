"""Rule score_scene: every map source of one scene against its attention map and fixations."""

import numpy as np

from meaningmaps.atomic import save_csv
from meaningmaps.data.fixation_tables import scene_table
from meaningmaps.evaluation.scores import score_scene
from meaningmaps.maps.empirical_center import fixated_pixels, load_pool, others_from_pool, pool_note
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    scene = sm.wildcards.scene
    attention = np.load(sm.input.attention).astype(np.float64)
    maps = {s: np.load(p).astype(np.float64) for s, p in zip(sm.params.sources, sm.input.maps, strict=True)}
    own = scene_table(sm.input.tables, scene)
    h, w = sm.params.size
    fixated = fixated_pixels(own, h, w)
    other = baseline = None
    if sm.input.pool:
        pool = load_pool(sm.input.pool[0])
        note = pool_note(pool, (h, w))
        if note:
            print(f"shuffled AUC negatives: {note}")
        other = (others_from_pool(pool, own, scene) > 0).astype(np.float64)  # as fixated_pixels
        baseline = np.load(sm.input.baseline[0]).astype(np.float64)
    else:
        print("one scene only: no other scenes' fixations, so auc_shuffled and information_gain are NaN")
    scores = score_scene(scene, attention, maps, [tuple(p) for p in sm.params.semipartial], fixated=fixated,
                         other=other, baseline=baseline, auc_splits=sm.params.auc["splits"],
                         auc_step=sm.params.auc["step"], seed=sm.params.seed)
    save_csv(sm.output[0], scores)
    print(scores.to_string(index=False))
