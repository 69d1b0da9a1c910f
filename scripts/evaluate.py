"""Rule evaluate: per-scene scores and noise ceilings together; per source the means with
bootstrap CIs and the mean ceiling; paired tests with Holm-adjusted p values."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

import pandas as pd  # noqa: E402

from meaningmaps.atomic import save_csv  # noqa: E402
from meaningmaps.evaluation import ceiling_table, summarize  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    scores = pd.concat([pd.read_csv(p) for p in sm.input.scenes], ignore_index=True)
    ceiling = ceiling_table([pd.read_csv(p, dtype={"scene": str}) for p in sm.input.ceiling])
    summary, pairwise = summarize(scores, n_boot=sm.params.n_boot, seed=sm.params.seed, ceiling=ceiling)
    save_csv(sm.output.scores, scores)
    save_csv(sm.output.summary, summary)
    save_csv(sm.output.pairwise, pairwise)
    save_csv(sm.output.ceiling, ceiling)
    print(summary.to_string(index=False))
    print(f"mean noise ceiling {ceiling['ceiling'].mean():.4f} over {ceiling['ceiling'].notna().sum()} scene(s)")
