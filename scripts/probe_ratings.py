"""Rule probe_ratings: one scene's patches rated by its fold's ridge probe."""

import numpy as np
import pandas as pd

from meaningmaps.atomic import save_csv
from meaningmaps.model.probe import Ridge, predict_ridge
from meaningmaps.workflow.rule_support import logged

with logged(snakemake):
    sm = snakemake
    data = np.load(sm.params.features)
    rating = predict_ridge(Ridge.load(sm.input.ridge), data["features"])
    save_csv(sm.output[0], pd.DataFrame({"scale": data["scale"], "k": data["k"], "rating": rating}))
    print(f"{len(rating)} patches, mean rating {rating.mean():.3f}")
