"""Rule noise_ceiling: one scene's split-half attention-map r and its Spearman-Brown ceiling."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

import pandas as pd  # noqa: E402

from meaningmaps.atomic import save_csv  # noqa: E402
from meaningmaps.fixation_tables import read_fixation_table  # noqa: E402
from meaningmaps.noise_ceiling import CEILING_COLUMNS, scene_ceiling  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    h, w = sm.params.size
    fix = read_fixation_table(sm.input[0])
    row = scene_ceiling(fix, sm.wildcards.scene, h, w, fc=sm.params.fc, weight=sm.params.weight,
                        wrap=sm.params.wrap, random_splits=sm.params.splits, seed=sm.params.seed)
    if row["n_subjects"] < 2:
        print(f"only {row['n_subjects']} subject(s): no split, the ceiling is NaN")
    table = pd.DataFrame([row], columns=CEILING_COLUMNS)
    save_csv(sm.output[0], table)
    print(table.to_string(index=False))
