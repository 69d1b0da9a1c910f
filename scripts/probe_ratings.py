"""Rule probe_ratings: one scene's patches rated by its fold's ridge probe."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "src"))  # noqa: F821

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from meaningmaps.atomic import save_csv  # noqa: E402
from meaningmaps.probe import Ridge, predict_ridge  # noqa: E402
from meaningmaps.rule_support import logged  # noqa: E402

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    data = np.load(sm.params.features)
    rating = predict_ridge(Ridge.load(sm.input.ridge), data["features"])
    save_csv(sm.output[0], pd.DataFrame({"scale": data["scale"], "k": data["k"], "rating": rating}))
    print(f"{len(rating)} patches, mean rating {rating.mean():.3f}")
