"""Rule noise_ceiling: one scene's split-half attention-map r and its Spearman-Brown ceiling."""

import pandas as pd

from meaningmaps.atomic import save_csv
from meaningmaps.data.fixation_tables import scene_table
from meaningmaps.evaluation.noise_ceiling import CEILING_COLUMNS, scene_ceiling
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    h, w = sm.params.size
    fix = scene_table(sm.input.tables, sm.wildcards.scene)
    row = scene_ceiling(fix, sm.wildcards.scene, h, w, fc=sm.params.fc, weight=sm.params.weight,
                        wrap=sm.params.wrap, random_splits=sm.params.splits, seed=sm.params.seed)
    if row["n_subjects"] < 2:
        print(f"only {row['n_subjects']} subject(s): no split, the ceiling is NaN")
    table = pd.DataFrame([row], columns=CEILING_COLUMNS)
    save_csv(sm.output[0], table)
    print(table.to_string(index=False))
