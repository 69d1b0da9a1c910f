"""The toolkit's map builder, for per-patch ratings from any source (human, model, probe).

Per pixel and scale: the mean of the ratings of every patch of that scale covering it (all
individual ratings pooled, as the toolkit's per-pixel lists are); then the mean of the two scales'
maps; then ``imgaussfilt(map, sigma)`` (sigma = 10 px in the toolkit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .patch_grid import PatchGrid, ScaleSpec
from .smoothing import imgaussfilt

REQUIRED_COLUMNS = ("scale", "k", "rating")


def check_ratings_frame(frame: pd.DataFrame, grid: PatchGrid, path=None, scale_range=(1.0, 6.0)) -> None:
    """Fail fast on a per-patch ratings table that does not fit the grid or the scale."""
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
        if ks != expected:
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


def map_from_ratings(ratings_csv, size: tuple[int, int], specs: list[ScaleSpec], sigma: float,
                     column: str = "rating") -> np.ndarray:
    """The toolkit's meaning map from a per-patch ratings CSV (column ``column`` as the rating)."""
    frame = pd.read_csv(ratings_csv)
    if column != "rating":
        if column not in frame.columns:
            raise InputError(ratings_csv, f"has no column {column!r}.")
        frame = frame.assign(rating=frame[column])
    grid = PatchGrid(size[0], size[1], specs)
    check_ratings_frame(frame, grid, ratings_csv)
    return meaning_map(frame, grid, sigma)
