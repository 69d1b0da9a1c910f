"""The toolkit's map builder, for per-patch ratings from any source (human, model, probe).

Per pixel and scale: the mean of the ratings of every patch of that scale covering it (all
individual ratings pooled, as the toolkit's per-pixel lists are); then the mean of the two scales'
maps; then ``imgaussfilt(map, sigma)`` (sigma = 10 px in the toolkit).

The paper's builder (``meaning_map.builder: paper``; ``plot_smoothed_meaning_map_from_csv`` of the
paper's ``generate_meaning_map.py``, zhanshicu/meaning-map), for replication: in float32, per
pixel the sum of the ratings of every covering patch of BOTH scales pooled over their count (one
mean, not a mean of the scales' means; an uncovered pixel 0), then ``scipy.ndimage.gaussian_filter
(map, sigma)`` (sigma 5 px; 'reflect' borders, truncated at 4 sigma), then raised to a power (3).
A rating of 0 (the paper's score of an answer outside its table) counts like any other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter

from ..errors import InputError
from .patch_grid import PatchGrid, ScaleSpec
from .smoothing import imgaussfilt

BUILDERS = ("toolkit", "paper")

REQUIRED_COLUMNS = ("scale", "k", "rating")


def check_ratings_frame(frame: pd.DataFrame, grid: PatchGrid, path=None, scale_range=(1.0, 6.0),
                        complete: bool = True) -> None:
    """Fail fast on a per-patch ratings table that does not fit the grid or the scale. ``complete``:
    every patch must be rated (else only no unknown patch; an unrated patch is left out of the map)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(path, f"per-patch ratings lack column(s) {missing}.",
                         "a ratings CSV needs columns scale (fine|coarse), k (1-based patch number) and rating.")
    r = pd.to_numeric(frame["rating"], errors="coerce").to_numpy(dtype=float)
    lo, hi = scale_range
    bad = ~np.isfinite(r) | (r < lo) | (r > hi)
    if bad.any():
        raise InputError(path, f"{int(bad.sum())} rating(s) outside {lo:g}-{hi:g} or not numbers "
                         f"(first at row {int(np.argmax(bad)) + 2}).",
                         "ratings are on the six-point scale 1 (very low) .. 6 (very high).")
    for scale, patches in grid.patches.items():
        sub = frame[frame["scale"] == scale]
        ks = set(pd.to_numeric(sub["k"], errors="coerce").dropna().astype(int))
        expected = set(range(1, len(patches) + 1))
        if ks != expected if complete else not ks <= expected:
            lacking = sorted(expected - ks)[:5]
            extra = sorted(ks - expected)[:5]
            raise InputError(path, f"{scale} ratings do not cover patches 1..{len(patches)} "
                             f"(missing e.g. {lacking}, unknown e.g. {extra}).",
                             "rate every patch of both scales of the configured grid.")
    unknown = set(frame["scale"]) - set(grid.patches)
    if unknown:
        raise InputError(path, f"unknown scale(s) {sorted(unknown)}.", f"use {sorted(grid.patches)}.")


def scale_map(frame: pd.DataFrame, grid: PatchGrid, scale: str) -> np.ndarray:
    """Unsmoothed one-scale map: per pixel, mean of all ratings of the covering patches."""
    sub = frame[frame["scale"] == scale]
    g = sub.groupby("k")["rating"].agg(["sum", "count"])
    sums = np.zeros((grid.height, grid.width))
    counts = np.zeros((grid.height, grid.width))
    for p in grid.patches[scale]:
        if p.k not in g.index:  # unrated (model.inference.unparsable: drop)
            continue
        s, n = g.loc[p.k, "sum"], g.loc[p.k, "count"]
        sums[p.rows, p.cols] += p.mask * s
        counts[p.rows, p.cols] += p.mask * n
    if (counts == 0).any():
        raise InputError(None, f"the {scale} grid leaves {int((counts == 0).sum())} pixels uncovered, "
                         "so the map is undefined there.",
                         f"raise patches.{scale}.n or the diameter so the patches tile the scene.")
    return sums / counts


def unsmoothed_map(frame: pd.DataFrame, grid: PatchGrid) -> np.ndarray:
    """Mean of the scales' maps, before smoothing."""
    return np.mean([scale_map(frame, grid, s) for s in grid.patches], axis=0)


def meaning_map(frame: pd.DataFrame, grid: PatchGrid, sigma: float = 10.0) -> np.ndarray:
    """The toolkit's meaning map: mean of the scales' maps, then imgaussfilt(., sigma)."""
    return imgaussfilt(unsmoothed_map(frame, grid), sigma)


def paper_meaning_map(frame: pd.DataFrame, grid: PatchGrid, sigma: float = 5.0, power: float = 3.0) -> np.ndarray:
    """The paper's map (float32): the pooled per-pixel mean of every rating row of both scales, in
    the rows' order as the paper's loop adds them, ``gaussian_filter(., sigma)``, ``** power``."""
    patches = {(scale, p.k): p for scale, ps in grid.patches.items() for p in ps}
    total = np.zeros((grid.height, grid.width), dtype=np.float32)
    count = np.zeros((grid.height, grid.width), dtype=np.float32)
    for scale, k, rating in zip(frame["scale"], pd.to_numeric(frame["k"]).astype(int), frame["rating"], strict=True):
        p = patches[(scale, int(k))]
        total[p.rows, p.cols][p.mask] += rating  # as the paper's `meaning_map[...][mask] += score`
        count[p.rows, p.cols][p.mask] += 1
    count[count == 0] = 1
    return np.power(gaussian_filter(total / count, sigma=sigma), power)


def map_from_ratings(ratings_csv, size: tuple[int, int], specs: list[ScaleSpec], sigma: float,
                     column: str = "rating", builder: str = "toolkit", power: float = 3.0,
                     unparsable: str = "error") -> np.ndarray:
    """The meaning map from a per-patch ratings CSV (column ``column`` as the rating), by the toolkit's
    builder or the paper's (:func:`paper_meaning_map`). ``unparsable`` (generate mode's setting for
    the ratings' source): ``zero`` admits ratings of 0, ``drop`` unrated patches."""
    frame = pd.read_csv(ratings_csv)
    if column != "rating":
        if column not in frame.columns:
            raise InputError(ratings_csv, f"has no column {column!r}.")
        frame = frame.assign(rating=frame[column])
    grid = PatchGrid(size[0], size[1], specs)
    lowest = 0.0 if unparsable == "zero" else 1.0
    check_ratings_frame(frame, grid, ratings_csv, scale_range=(lowest, 6.0), complete=unparsable != "drop")
    if builder == "paper":
        return paper_meaning_map(frame, grid, sigma, power)
    return meaning_map(frame, grid, sigma)
