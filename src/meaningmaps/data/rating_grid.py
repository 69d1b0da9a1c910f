"""The patch grid a toolkit rating matrix was collected on, read from the matrix itself.

Why: ``patches.*`` must be the grid the raters rated, and a lab's data folder rarely says which it
was (the demo's half-size scenes need N = 328 and 109, not the toolkit's 300 and 108). Each layer of
a rating matrix holds, per pixel, every rating of every patch covering it, so its list lengths are
``r x coverage`` (r ratings per patch) and the coverage pattern identifies the grid.

How: the toolkit's grid depends on N only through its spacing ``px = round(sqrt(H W / N))``, and
its coverage is periodic with period ``px`` away from the borders; the smallest period of the
layer's middle row and column is the candidate spacing (larger ones are tried after it). For the
grid of that spacing (built by ``patch_grid.grid_centres``, the smallest N that gives it) the
diameter is the integer d whose circles ``(row - cy)^2 + (col - cx)^2 < (d/2)^2`` count every
pixel's patches in proportion to its list length, checked on every pixel with
``PatchGrid.coverage``. Several N give one spacing and several d can give the same masks: any of
them makes the same patches, ratings and maps, and the range is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..maps.patch_grid import PatchGrid, ScaleSpec, grid_centres
from ..matlab import matlab_round


@dataclass
class InferredScale:
    n: int  # the smallest N with this grid
    n_max: int  # the largest N with the same grid
    diameter: int  # the smallest diameter (px) with these masks
    diameter_max: int
    ratings_per_patch: int


def _n_range(height: int, width: int, px: int) -> tuple[int, int] | None:
    """The N that give spacing ``px`` (round as MATLAB: half away from zero)."""
    area = height * width
    ns = [n for n in range(max(1, int(area / (px + 0.5) ** 2) - 1), int(area / max(px - 0.5, 0.25) ** 2) + 2)
          if int(matlab_round(np.sqrt(area) / np.sqrt(n))) == px]
    return (min(ns), max(ns)) if ns else None


def _periods(line: np.ndarray, limit: int) -> list[int]:
    """Periods p (ascending) of ``line`` over its middle half."""
    n = line.size
    lo, hi = n // 4, 3 * n // 4
    return [p for p in range(1, min(limit, hi - lo)) if np.array_equal(line[lo:hi - p], line[lo + p:hi])]


def _fits(lengths: np.ndarray, coverage: np.ndarray) -> int:
    """r when ``lengths == r * coverage`` everywhere (r >= 1), else 0."""
    covered = coverage > 0
    if ((lengths > 0) != covered).any() or not covered.any():
        return 0
    r = lengths[covered] / coverage[covered]
    return int(r[0]) if np.all(r == r[0]) and r[0] == int(r[0]) and r[0] >= 1 else 0


def infer_scale(lengths: np.ndarray) -> InferredScale | None:
    """The grid (N, diameter) of one rating-matrix layer's list lengths (H x W), or None."""
    lengths = np.asarray(lengths)
    h, w = lengths.shape
    limit = max(h, w) // 2
    candidates = sorted(set(_periods(lengths[h // 2], limit)) & set(_periods(lengths[:, w // 2], limit)))
    rng = np.random.default_rng(0)
    sample = (rng.integers(0, h, 400), rng.integers(0, w, 400))
    for px in candidates:
        ns = _n_range(h, w, px)
        if ns is None:
            continue
        rows, cols, _ = grid_centres(h, w, ns[0])
        cy, cx = np.meshgrid(rows, cols, indexing="ij")
        # 4 x squared distance of each sampled pixel (1-based) to each centre: covered when < d^2
        d4 = np.sort(4 * ((sample[0][:, None] + 1 - cy.ravel()) ** 2 + (sample[1][:, None] + 1 - cx.ravel()) ** 2),
                     axis=1)
        want = lengths[sample].astype(np.int64)
        diameters = np.arange(1, 2 * max(h, w))
        counts = np.stack([np.searchsorted(row, diameters * diameters) for row in d4], axis=1)  # D x samples
        top = counts.max(axis=1, keepdims=True)
        ok = (top[:, 0] > 0) & np.all(want * top == counts * want.max(), axis=1) & np.all((counts > 0) == (want > 0),
                                                                                           axis=1)
        fitting = [int(d) for d in diameters[ok]]
        for d in fitting:
            r = _fits(lengths, PatchGrid(h, w, [ScaleSpec("s", ns[0], float(d))]).coverage("s"))
            if r:
                same = [e for e in fitting if e >= d and _fits(lengths, PatchGrid(
                    h, w, [ScaleSpec("s", ns[0], float(e))]).coverage("s")) == r]
                return InferredScale(ns[0], ns[1], d, max(same), r)
    return None


def infer_grid(layers) -> dict[str, InferredScale] | None:
    """{fine, coarse} (the smaller diameter is fine) of a rating matrix's two layers
    (``rating_matrix.load_rating_matrix``), or None when a layer fits no toolkit grid."""
    found = [infer_scale(layer.lengths) for layer in layers]
    if len(found) != 2 or any(f is None for f in found):
        return None
    fine, coarse = sorted(found, key=lambda s: s.diameter)
    return {"fine": fine, "coarse": coarse}
