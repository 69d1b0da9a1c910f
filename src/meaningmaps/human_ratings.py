"""Human per-patch ratings for one scene, from a toolkit rating matrix (.mat) or a CSV.

From a rating matrix the per-patch lists are recovered exactly (``rating_matrix``), and the
recovered lists are checked to rebuild every pixel's list before anything is written. A CSV must
have columns scale, k, rating (one row per individual rating; a rater column is kept if present).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .meaning_map import check_ratings_frame
from .patch_grid import PatchGrid
from .rating_matrix import (RatingLayer, assign_scales, load_rating_matrix, ratings_frame,
                            recover_patch_ratings)


def human_ratings(path, scene: str, grid: PatchGrid) -> pd.DataFrame:
    """Long table scene, scale, k, rating for every individual rating of every patch."""
    path = Path(path)
    if path.suffix.lower() == ".mat":
        by_scale = assign_scales(load_rating_matrix(path), grid, path)
        frame = ratings_from_layers(by_scale, scene, grid, path)
    else:
        try:
            frame = pd.read_csv(path)
        except Exception as exc:
            raise InputError(path, f"cannot be read as CSV ({exc}).") from exc
        if "scene" in frame.columns:
            other = set(frame["scene"].astype(str)) - {scene}
            if other:
                raise InputError(path, f"holds rows for other scenes {sorted(other)[:5]}.",
                                 "one ratings CSV per scene, named <scene>.csv.")
        frame = frame.assign(scene=scene)
        cols = ["scene", "scale", "k", "rating"] + [c for c in frame.columns if c not in ("scene", "scale", "k", "rating")]
        frame = frame[cols]
    check_ratings_frame(frame, grid, path)
    return frame.sort_values(["scale", "k"], kind="stable").reset_index(drop=True)


def ratings_from_layers(by_scale: dict[str, RatingLayer], scene: str, grid: PatchGrid, path=None) -> pd.DataFrame:
    """Per-patch ratings recovered from a rating matrix's layers (already assigned to scales)."""
    recovered = {s: recover_patch_ratings(by_scale[s], grid, s, path) for s in grid.patches}
    return ratings_frame(scene, recovered)


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
