"""Hayes-toolkit rating matrices: load, detect the scales, average, and recover per-patch ratings.

A rating matrix (.mat variable ``rating_matrix``) is an H x W x 2 cell array; each cell holds every
rating of every patch of that layer's scale covering the pixel. The layer order is not fixed: it is
detected by matching each layer's list lengths to the coverage counts of the fine and coarse grids.

Recovery: a pixel's list is the multiset union of its covering patches' lists. For every rating
value v, ``count_v(pixel) = sum over covering patches of count_v(patch)`` is a linear system in the
per-patch counts; it is solved exactly (integer, then checked against every pixel), so the
recovered lists rebuild the matrix exactly or an error says why they cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import InputError
from ..maps.patch_grid import PatchGrid
from .mat_files import loadmat
from .mat_writer import save_cell_matrix

LIKERT = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)


@dataclass
class RatingLayer:
    """One layer flattened: list length per pixel (H x W), and all values concatenated in
    row-major pixel order."""

    lengths: np.ndarray
    values: np.ndarray

    @property
    def shape(self):
        return self.lengths.shape

    def pixel_index(self) -> np.ndarray:
        """Flat pixel index of every value in ``values``."""
        return np.repeat(np.arange(self.lengths.size), self.lengths.ravel())

    def mean_map(self) -> np.ndarray:
        """Per-pixel mean of the list (NaN where the list is empty)."""
        sums = np.bincount(self.pixel_index(), weights=self.values, minlength=self.lengths.size)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (sums / self.lengths.ravel()).reshape(self.lengths.shape)


def load_rating_matrix(path) -> list[RatingLayer]:
    """Read a toolkit .mat file into its layers, checking shape and rating range."""
    path = Path(path)
    try:
        mat = loadmat(path)  # v5 (scipy) or v7.3 (h5py), the same structures
    except InputError:
        raise
    except Exception as exc:  # scipy raises several types for bad files
        raise InputError(path, f"cannot be read as a MATLAB .mat file ({exc}).",
                         "re-export the rating matrix with MATLAB save(..., '-v7').") from exc
    if "rating_matrix" not in mat:
        raise InputError(path, f"has no variable 'rating_matrix' (found {sorted(k for k in mat if not k.startswith('__'))}).",
                         "point dataset.ratings at the Hayes-toolkit rating matrices.")
    cells = mat["rating_matrix"]
    if cells.ndim != 3 or cells.shape[2] != 2 or cells.dtype != object:
        raise InputError(path, f"'rating_matrix' must be an H x W x 2 cell array, got {cells.dtype} {cells.shape}.",
                         "use the toolkit's rating matrix (one cell of ratings per pixel, fine and coarse layers).")
    layers = []
    for layer in range(2):
        flat = cells[:, :, layer].ravel()
        lengths = np.fromiter((c.size for c in flat), dtype=np.int64, count=flat.size)
        values = _layer_values(flat, path, layer, cells.shape) if lengths.sum() else np.zeros(0)
        layers.append(RatingLayer(lengths.reshape(cells.shape[:2]), values))
    for layer in layers:
        bad = ~np.isin(layer.values, LIKERT)  # the toolkit's build_meaning_map asserts the same
        if bad.any():
            values = np.unique(layer.values[bad])  # sorted, NaN last and once
            shown = ", ".join(_value_text(v) for v in values[:5]) + (" ..." if values.size > 5 else "")
            raise InputError(path, f"holds {int(bad.sum())} rating(s) outside 1-6 or not whole numbers "
                             f"(e.g. {shown}).",
                             "ratings must be on the toolkit's six-point Likert scale: 1, 2, 3, 4, 5 or 6.")
    return layers


def _layer_values(flat, path, layer: int, shape) -> np.ndarray:
    """Every cell's ratings of one layer, concatenated as float64. A cell that is not numbers (text,
    which numpy would read "4" as 4 and MATLAB as the character code 52; a nested cell; complex
    values) is found and refused by :func:`_cell_values`."""
    if {getattr(c, "dtype", _OBJECT).kind for c in flat} <= _NUMERIC_KINDS:
        return np.concatenate([np.asarray(c, dtype=np.float64).ravel() for c in flat])
    return np.concatenate([_cell_values(c, path, i, layer, shape) for i, c in enumerate(flat)])


_OBJECT = np.dtype(object)
_NUMERIC_KINDS = set("iufb")


def _cell_values(cell, path, index: int, layer: int, shape) -> np.ndarray:
    """One cell's ratings as float64; a cell of text, cells or complex numbers is refused, naming it
    (1-based, as MATLAB indexes it) and what it holds."""
    a = np.asarray(cell)
    if a.dtype.kind in _NUMERIC_KINDS:
        return a.astype(np.float64).ravel()
    row, col = np.unravel_index(index, shape[:2])
    if a.dtype.kind in "US":
        held = f"the text {''.join(map(str, a.ravel().tolist()))[:40]!r}"
    elif a.dtype.kind == "c":
        held = f"complex numbers (e.g. {a.ravel()[0]})"
    elif a.dtype.kind == "O":
        held = "a cell array (a cell inside the cell)"
    else:
        held = f"values of type {a.dtype.name}"
    raise InputError(path, f"rating_matrix({row + 1},{col + 1},{layer + 1}) holds {held}, not ratings (numbers 1-6).",
                     "use the toolkit's rating matrix: every cell a row of numeric ratings (1-6), or empty.")


def _value_text(v: float) -> str:
    """A rating as a message shows it: NaN and infinities spelled out (never ``nan``)."""
    if np.isnan(v):
        return "NaN (not a number)"
    return f"{v:g}" if np.isfinite(v) else ("Inf" if v > 0 else "-Inf")


def assign_scales(layers: list[RatingLayer], grid: PatchGrid, path=None) -> dict[str, RatingLayer]:
    """Map scale name -> layer by matching list lengths to ``raters x coverage`` of each grid."""
    if layers[0].shape != (grid.height, grid.width):
        raise InputError(path, f"rating matrix is {layers[0].shape[1]}x{layers[0].shape[0]} (WxH) "
                         f"but the scene is {grid.width}x{grid.height}.",
                         "use the rating matrix made for this scene image, at the same resolution.")
    cover = {s: grid.coverage(s) for s in grid.patches}
    out = {}
    for number, layer in enumerate(layers, start=1):
        matches = [s for s, c in cover.items() if _lengths_match(layer.lengths, c)]
        if not matches:
            raise InputError(path, *_mismatch(layer, number, grid, cover))
        if len(matches) > 1:
            raise InputError(path, f"layer {number}'s rating counts match both the {' and '.join(matches)} grids.",
                             "give the two scales different patches.<scale>.n or diameters, as the toolkit does.")
        if matches[0] in out:
            raise InputError(path, f"both layers match the {matches[0]} grid.",
                             "check patches.<scale>.n and diameter_px against the toolkit settings used to "
                             "collect the ratings.")
        out[matches[0]] = layer
    return out


#: Below this fraction of a scene's pixels disagreeing with the closest grid, the file is blamed
#: even when whole patches do not explain the disagreement.
FEW_PIXELS = 0.02


def _mismatch(layer: RatingLayer, number: int, grid: PatchGrid, cover: dict) -> tuple[str, str]:
    """(problem, fix) for a layer that fits no grid. When the closest grid fits but for whole
    patches with a rating too many or too few (or but for a few pixels), name them and blame the
    file; else blame the grid settings."""
    fits = {s: _closest_fit(layer.lengths, c) for s, c in cover.items()}
    scale = min(fits, key=lambda s: fits[s][1].sum())
    per_patch, off = fits[scale]
    n_off, n_all = int(off.sum()), off.size
    odd, explained = _odd_patches(layer.lengths - per_patch * cover[scale], grid, scale)
    where = f"layer {number} (rating_matrix(:,:,{number}))"
    if per_patch < 1 or not (explained or n_off <= FEW_PIXELS * n_all):
        return (f"{where}: its rating counts match no patch grid of the configured scales "
                f"({', '.join(sorted(cover))}); the closest, {scale}, disagrees at {n_off} of {n_all} pixels.",
                "check patches.<scale>.n and diameter_px against the toolkit settings used to collect the ratings.")
    row, col = (int(v) for v in np.argwhere(off)[0])
    want = per_patch * int(cover[scale][row, col])
    odd_text = f"; these are the pixels of {scale} {odd}" if explained else ""
    return (f"{where} fits the {scale} grid with {per_patch} ratings per patch except at {n_off} of {n_all} "
            f"pixels (e.g. x={col + 1}, y={row + 1}, 1-based: {int(layer.lengths[row, col])} ratings, {want} "
            f"expected){odd_text}. When only a few pixels disagree, the file, not the grid settings, is the "
            "likely cause.",
            f"rebuild the rating matrix so that every {scale} patch has the same number of ratings (remove the "
            "duplicated rating, or add the missing one); only if many pixels disagree, check "
            "patches.<scale>.n and diameter_px.")


def _closest_fit(lengths: np.ndarray, coverage: np.ndarray) -> tuple[int, np.ndarray]:
    """(the most common whole number of ratings per patch r, the pixels whose list length is not
    r x coverage)."""
    covered = coverage > 0
    ratio = lengths[covered] / coverage[covered]
    whole = ratio[ratio == np.round(ratio)]
    if whole.size:
        values, counts = np.unique(whole, return_counts=True)
        per_patch = int(values[np.argmax(counts)])
    else:
        per_patch = 0
    return per_patch, lengths != per_patch * coverage


def _odd_patches(excess: np.ndarray, grid: PatchGrid, scale: str) -> tuple[str, bool]:
    """('patch k (n ratings too many), ...', whether these patches explain every pixel's excess):
    the patches all of whose pixels have too many (or too few) ratings."""
    found, rebuilt = [], np.zeros_like(excess)
    for p in grid.patches[scale]:
        vals = excess[p.rows, p.cols][p.mask]
        if vals.size and ((vals > 0).all() or (vals < 0).all()):
            n = int(np.sign(vals[0]) * np.min(np.abs(vals)))
            rebuilt[p.rows, p.cols] += p.mask * n
            found.append(f"patch {p.k} ({abs(n)} rating{'s' if abs(n) > 1 else ''} too {'many' if n > 0 else 'few'})")
    listed = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
    return listed, bool(found) and np.array_equal(rebuilt, excess)


def _lengths_match(lengths: np.ndarray, coverage: np.ndarray) -> bool:
    """True if lists are empty exactly where no patch covers and every other pixel's list length is
    coverage x r for one common number of ratings per patch r."""
    if ((lengths == 0) != (coverage == 0)).any():
        return False
    covered = coverage > 0
    ratio = lengths[covered] / coverage[covered]
    return bool(np.all(ratio == ratio[0])) if ratio.size else False


def recover_patch_ratings(layer: RatingLayer, grid: PatchGrid, scale: str, path=None) -> list[np.ndarray]:
    """Solve for each patch's rating multiset; return one sorted array per patch (k = 1..N).

    Raises InputError if the lists are not exactly the union of per-patch lists.
    """
    patches = grid.patches[scale]
    h, w = grid.height, grid.width
    rows, cols = [], []
    for j, p in enumerate(patches):
        rr, cc = np.nonzero(p.mask)
        flat = (rr + p.row_min - 1) * w + (cc + p.col_min - 1)
        rows.append(flat)
        cols.append(np.full(flat.size, j))
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    a = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(h * w, len(patches)))
    levels, vidx = np.unique(layer.values, return_inverse=True)
    counts = np.zeros((h * w, levels.size))
    np.add.at(counts, (layer.pixel_index(), vidx), 1.0)
    ata = (a.T @ a).toarray()
    atb = a.T @ counts
    try:
        sol = np.linalg.solve(ata, atb)
    except np.linalg.LinAlgError as exc:
        raise InputError(path, f"the {scale} patches' ratings are not identifiable from the matrix "
                         "(the coverage system is singular).",
                         f"check patches.{scale}.n and diameter_px: a grid whose patches cannot be told apart "
                         "by the pixels they cover is not the toolkit's.") from exc
    c = np.rint(sol)
    if (np.abs(sol - c) > 1e-6).any() or (c < 0).any() or not np.array_equal(a @ c, counts):
        raise InputError(path, f"the {scale} layer is not the union of per-patch rating lists on the "
                         "configured grid: per-patch ratings cannot be recovered exactly.",
                         "check that the matrix was built by the Hayes toolkit with these patch settings.")
    c = c.astype(np.int64)
    return [np.repeat(levels, c[j]) for j in range(len(patches))]


def ratings_frame(scene: str, recovered: dict[str, list[np.ndarray]]) -> pd.DataFrame:
    """Long per-patch table: one row per rating (scene, scale, k, rating)."""
    parts = []
    for scale, lists in recovered.items():
        for k, vals in enumerate(lists, start=1):
            parts.append(pd.DataFrame({"scene": scene, "scale": scale, "k": k, "rating": vals}))
    return pd.concat(parts, ignore_index=True)


def build_rating_matrix(grid: PatchGrid, ratings: dict[str, list[np.ndarray]],
                        layer_order=("coarse", "fine")) -> np.ndarray:
    """Build a toolkit-style H x W x 2 cell array from per-patch rating lists.

    ``ratings[scale][k-1]`` is patch k's list. Each pixel's cell lists the ratings of its covering
    patches in patch order, as a 1 x n row. ``layer_order`` defaults to the order seen in the
    published files (coarse first).
    """
    h, w = grid.height, grid.width
    cells = np.empty((h, w, 2), dtype=object)
    for layer, scale in enumerate(layer_order):
        lists = [[] for _ in range(h * w)]
        for p, vals in zip(grid.patches[scale], ratings[scale], strict=True):
            rr, cc = np.nonzero(p.mask)
            vals = list(np.asarray(vals, dtype=np.float64))
            for flat in ((rr + p.row_min - 1) * w + (cc + p.col_min - 1)):
                lists[flat].extend(vals)
        for flat, lst in enumerate(lists):
            cells[flat // w, flat % w, layer] = np.array(lst, dtype=np.float64).reshape(1, -1)
    return cells


def save_rating_matrix(path, cells: np.ndarray) -> None:
    """Write ``cells`` as a .mat file with variable ``rating_matrix`` (atomically)."""
    save_cell_matrix(path, cells, "rating_matrix", compress=True)
