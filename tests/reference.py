"""Reference computations the tests check the package against; not part of the package.

Each is written independently of the code it checks (no shared helper), so that the two agreeing
means something.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from meaningmaps.data.rating_matrix import RatingLayer
from meaningmaps.maps.patch_grid import PatchGrid


def patch_means(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean rating and rating count per patch (what a label per patch is made from)."""
    g = frame.groupby(["scale", "k"])["rating"]
    return pd.DataFrame({"mean_rating": g.mean(), "n_ratings": g.size()}).reset_index()


def rebuilds_exactly(frame: pd.DataFrame, layers: dict[str, RatingLayer], grid: PatchGrid) -> bool:
    """True if the per-patch lists rebuild every pixel's rating multiset of the matrix's layers.

    Independent of the solver: it histograms each patch's list over its mask and compares.
    """
    h, w = grid.height, grid.width
    for scale, layer in layers.items():
        levels = np.unique(np.concatenate([layer.values, frame["rating"].to_numpy(float)]))
        want = np.zeros((h * w, levels.size))
        np.add.at(want, (layer.pixel_index(), np.searchsorted(levels, layer.values)), 1)
        got = np.zeros((h, w, levels.size))
        sub = frame[frame["scale"] == scale]
        for p in grid.patches[scale]:
            vals = sub.loc[sub["k"] == p.k, "rating"].to_numpy(float)
            hist = np.bincount(np.searchsorted(levels, vals), minlength=levels.size)
            got[p.rows, p.cols] += p.mask[..., None] * hist
        if not np.array_equal(got.reshape(h * w, -1), want):
            return False
    return True


def matrix_meaning_map(layers_by_scale: dict[str, RatingLayer]) -> np.ndarray:
    """The toolkit's unsmoothed map straight from the matrix: mean of each layer, mean of layers."""
    return np.mean([layer.mean_map() for layer in layers_by_scale.values()], axis=0)


def semipartial_r(y, x, control) -> float:
    """Signed semipartial correlation r(y, residual of x regressed on control, with intercept), by
    least squares on the raw (uncentred) variables with a column of ones: its square must equal
    ``metrics.semipartial_r2``. 0.0 when x is a linear function of control."""
    y, x, control = (np.asarray(v, dtype=np.float64).ravel() for v in (y, x, control))
    design = np.column_stack([np.ones_like(control), control])
    coef, *_ = np.linalg.lstsq(design, x, rcond=None)
    resid = x - design @ coef
    if np.dot(resid, resid) <= 1e-20 * np.dot(x - x.mean(), x - x.mean()):
        return 0.0
    return float(np.corrcoef(y, resid)[0, 1])


def pysaliency_log_density(saliency_map, minimum_value: float) -> np.ndarray:
    """log of pysaliency.metrics.convert_saliency_map_to_density(saliency_map, minimum_value), step by
    step as pysaliency writes it: shift a map with negatives to a minimum of 0, add the minimum value,
    divide by the sum; then the log."""
    s = np.array(saliency_map, dtype=float)
    if s.min() < 0:
        s = s - s.min()
    s = s + minimum_value
    total = s.sum()
    s = s / total if total else np.full_like(s, 1.0 / s.size)
    with np.errstate(divide="ignore"):
        return np.log(s)
