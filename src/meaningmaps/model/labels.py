"""Per-patch answer labels (category 1..6 and its name) for the question-answer training data.

Two sources:

* :func:`labels_from_ratings`: the raters' individual ratings of each patch (a long table), made
  into one category per patch by a documented rule (nearest / median / mode);
* :func:`labels_from_map`: for studies that only publish meaning-map images: the map's mean inside
  each patch, cut into six equal-width bins over the map's value range;
* :func:`labels_from_grey_map` (``model.labels.rule: paper``): the paper's own rule, exactly as its
  ``dataset.ipynb`` (zhanshicu/meaning-map) computes it: the mean grey level (0-255) of the map
  image's non-zero pixels under the patch (0 when there are none), cut at <= 42 / 84 / 126 / 168 / 210.

Both return the same columns: scale, k, mean_rating, n_ratings, label (int 1..6), category (str),
rows ordered fine then coarse (then any other scale in order of appearance), k ascending.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..maps.patch_grid import SCALES, PatchGrid
from ..matlab import matlab_round
from .prompting import CATEGORIES

RULES = ("nearest", "median", "mode")  # from ratings; "paper" is a rule for map images
PAPER_CUTS = (42, 84, 126, 168, 210)  # dataset.ipynb mean_score_to_likert: <= each cut
COLUMNS = ["scale", "k", "mean_rating", "n_ratings", "label", "category"]


def _scale_order(scales) -> list[str]:
    """fine, coarse first (those present), then other scales in order of first appearance."""
    seen = list(dict.fromkeys(scales))
    return [s for s in SCALES if s in seen] + [s for s in seen if s not in SCALES]


def _finish(out: pd.DataFrame) -> pd.DataFrame:
    order = {s: i for i, s in enumerate(_scale_order(out["scale"]))}
    out = out.assign(_o=out["scale"].map(order)).sort_values(["_o", "k"], kind="stable")
    out["label"] = out["label"].astype(int)
    out["category"] = [CATEGORIES[i - 1] for i in out["label"]]
    return out.drop(columns="_o")[COLUMNS].reset_index(drop=True)


def _round_label(x) -> np.ndarray:
    """Nearest category 1..6, halves away from zero (MATLAB ``round``: 2.5 -> 3, 3.5 -> 4)."""
    return np.clip(matlab_round(x), 1, 6).astype(int)


def _mode_label(values: np.ndarray) -> int:
    counts = np.bincount(values.astype(int), minlength=7)
    return int(np.argmax(counts))  # argmax returns the first (lowest) of tied maxima


def labels_from_ratings(frame: pd.DataFrame, rule: str = "nearest", path=None) -> pd.DataFrame:
    """One label per patch from individual ratings (columns scale, k, rating; rater etc. ignored).

    ``mean_rating`` is the mean of all the patch's ratings (with one rating per rater and patch,
    the mean over raters) and ``n_ratings`` their count, whatever the rule. ``label`` by ``rule``:

    * ``"nearest"``: the category nearest to the mean rating; a mean exactly halfway between two
      categories goes up (MATLAB ``round``, half away from zero): ratings [2, 3] -> 2.5 -> 3.
    * ``"median"``: the median of the ratings, rounded the same way ([2, 3] -> 2.5 -> 3,
      [1, 1, 6] -> 1).
    * ``"mode"``: the most frequent rating; a tie goes to the lowest tied category
      ([2, 2, 5, 5] -> 2). Needs whole-number ratings.

    ``path`` only names the source file in error messages. A ``scene`` column, if present, must
    hold one scene (call once per scene).
    """
    if rule not in RULES:
        raise InputError("config", f"label rule {rule!r} does not make labels from ratings.",
                         f"set model.labels.rule to one of {RULES} (paper reads a map image: model.labels.from "
                         "a dataset.maps source).")
    missing = [c for c in ("scale", "k", "rating") if c not in frame.columns]
    if missing:
        raise InputError(path, f"ratings lack column(s) {missing}.",
                         "per-rating tables need columns scale, k, rating (one row per individual rating).")
    if "scene" in frame.columns and frame["scene"].nunique() > 1:
        raise InputError(path, f"holds ratings of {frame['scene'].nunique()} scenes.",
                         "make labels one scene at a time.")
    if frame.empty:
        raise InputError(path, "holds no ratings.", "give at least one rating per patch.")
    r = pd.to_numeric(frame["rating"], errors="coerce").to_numpy(dtype=float)
    k = pd.to_numeric(frame["k"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(r) | (r < 1) | (r > 6) | ~np.isfinite(k)
    if bad.any():
        raise InputError(path, f"{int(bad.sum())} row(s) with a rating outside 1-6, or not a number, or no patch "
                         f"number k (first at data row {int(np.argmax(bad)) + 1}).",
                         "ratings are on the six-point scale 1 (very low) .. 6 (very high).")
    if rule == "mode" and np.any(r != np.round(r)):
        raise InputError(path, "rule 'mode' needs whole-number ratings, but some are fractional.",
                         "use model.labels.rule: nearest or median.")
    data = pd.DataFrame({"scale": frame["scale"].astype(str).to_numpy(), "k": k.astype(int), "rating": r})
    rows = []
    for (scale, kk), g in data.groupby(["scale", "k"], sort=False):
        vals = g["rating"].to_numpy()
        mean = vals.sum() / vals.size  # exact for whole-number ratings: 2.5 stays 2.5
        if rule == "nearest":
            label = int(_round_label(mean))
        elif rule == "median":
            label = int(_round_label(np.median(vals)))
        else:
            label = _mode_label(vals)
        rows.append((scale, int(kk), float(mean), int(vals.size), label))
    return _finish(pd.DataFrame(rows, columns=["scale", "k", "mean_rating", "n_ratings", "label"]))


def map_bins(values, lo: float, hi: float) -> np.ndarray:
    """Bin 1..6 of each value over six equal-width bins ``np.linspace(lo, hi, 7)``.

    Bins are half-open ``[e_i, e_{i+1})`` except the last, which includes ``hi`` (as MATLAB
    ``discretize``): a value on an inner edge goes to the upper bin, ``hi`` itself to bin 6.
    """
    edges = np.linspace(lo, hi, 7)
    return np.searchsorted(edges[1:-1], np.asarray(values, dtype=float), side="right") + 1


def labels_from_map(map2d, grid: PatchGrid, path=None) -> pd.DataFrame:
    """The paper's labels from a meaning-map image: patch means cut into six equal bins.

    Each patch's value is the map's mean inside its circular mask (``grid.full_mask``). The six
    bins span the MAP's range ``[map.min(), map.max()]`` (not the patch means' range), with
    edges ``np.linspace(min, max, 7)``; see :func:`map_bins` for the edge convention.
    ``mean_rating`` holds the patch's mean map value and ``n_ratings`` is 0.
    """
    m = np.asarray(map2d, dtype=np.float64)
    if m.ndim != 2 or m.shape != (grid.height, grid.width):
        raise InputError(path, f"map shape {m.shape} does not match the scene's {grid.height}x{grid.width} grid.",
                         "give a 2-D map of the scene's size (height x width).")
    if not np.isfinite(m).all():
        raise InputError(path, f"map has {int((~np.isfinite(m)).sum())} NaN or infinite value(s).",
                         "fill the map's missing values before making labels.")
    lo, hi = float(m.min()), float(m.max())
    if not hi > lo:
        raise InputError(path, f"map is constant ({lo:g}), so it has no range to cut into six bins.",
                         "use a map with varying values, or ratings (model.labels.from: human).")
    rows = []
    for scale, patches in grid.patches.items():
        for p in patches:
            vals = m[p.rows, p.cols][p.mask]  # the pixels of grid.full_mask(scale, k), read via the bounding box
            rows.append((scale, p.k, float(vals.mean()), 0))
    out = pd.DataFrame(rows, columns=["scale", "k", "mean_rating", "n_ratings"])
    out["label"] = map_bins(out["mean_rating"].to_numpy(), lo, hi)
    return _finish(out)


def paper_label(mean_grey) -> np.ndarray:
    """Category 1..6 of mean grey levels by the paper's cuts (``<= 42`` very low ... ``> 210`` very high)."""
    return np.searchsorted(np.asarray(PAPER_CUTS, dtype=float), np.asarray(mean_grey, dtype=float), side="left") + 1


def labels_from_grey_map(map2d, grid: PatchGrid, path=None) -> pd.DataFrame:
    """The paper's labels from a meaning-map image's grey levels (whole numbers 0..255).

    Per patch: the mean of the grey levels above 0 inside the patch's mask (pixels of grey level 0
    are left out, as the paper's ``patch_array[patch_array > 0]`` leaves out the black outside of
    the circle and any black inside it; no such pixel: 0), cut by :func:`paper_label`.
    ``mean_rating`` holds that mean grey level and ``n_ratings`` the number of pixels averaged.
    """
    m = np.asarray(map2d, dtype=np.float64)
    if m.ndim != 2 or m.shape != (grid.height, grid.width):
        raise InputError(path, f"map shape {m.shape} does not match the scene's {grid.height}x{grid.width} grid.",
                         "give a 2-D map of the scene's size (height x width).")
    if not (np.isfinite(m).all() and (m == np.round(m)).all() and m.min() >= 0 and m.max() <= 255):
        raise InputError(path, f"holds values outside the whole numbers 0..255 ({m.min():g}..{m.max():g}), so it "
                         "has no grey levels: label rule paper reads an 8-bit greyscale map image, as the paper "
                         "read its PNG meaning maps.",
                         "give the maps as 8-bit greyscale images (a dataset.maps source) or use "
                         "model.labels.rule: nearest with ratings.")
    grey = m.astype(np.uint8)
    rows = []
    for scale, patches in grid.patches.items():
        for p in patches:
            vals = grey[p.rows, p.cols][p.mask]
            nz = vals[vals > 0]
            rows.append((scale, p.k, float(np.mean(nz)) if nz.size else 0.0, int(nz.size)))
    out = pd.DataFrame(rows, columns=["scale", "k", "mean_rating", "n_ratings"])
    out["label"] = paper_label(out["mean_rating"].to_numpy())
    return _finish(out)
