"""Rule evaluate: per-scene scores together; mean r per source with bootstrap CI; paired tests."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

import pandas as pd  # noqa: E402

from meaningmaps.atomic import save_csv  # noqa: E402
from meaningmaps.evaluation import summarize  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    scores = pd.concat([pd.read_csv(p) for p in sm.input], ignore_index=True)
    summary, pairwise = summarize(scores, n_boot=sm.params.n_boot, seed=sm.params.seed)
    save_csv(sm.output.scores, scores)
    save_csv(sm.output.summary, summary)
    save_csv(sm.output.pairwise, pairwise)
    print(summary.to_string(index=False))
