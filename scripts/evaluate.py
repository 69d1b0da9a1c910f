"""Rule evaluate: per-scene scores and noise ceilings together; per source the means with
bootstrap CIs and the mean ceiling; paired tests with Holm-adjusted p values."""

import pandas as pd

from meaningmaps.atomic import save_csv
from meaningmaps.evaluation.scores import ceiling_table, summarize
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    scores = pd.concat([pd.read_csv(p) for p in sm.input.scenes], ignore_index=True)
    ceiling = ceiling_table([pd.read_csv(p, dtype={"scene": str}) for p in sm.input.ceiling])
    summary, pairwise = summarize(scores, n_boot=sm.params.n_boot, seed=sm.params.seed, ceiling=ceiling)
    save_csv(sm.output.scores, scores)
    save_csv(sm.output.summary, summary)
    save_csv(sm.output.pairwise, pairwise)
    save_csv(sm.output.ceiling, ceiling)
    print(summary.to_string(index=False))
    print(f"mean noise ceiling {ceiling['ceiling'].mean():.4f} over {ceiling['ceiling'].notna().sum()} scene(s)")
