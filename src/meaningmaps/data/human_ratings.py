"""Human per-patch ratings for one scene, from a toolkit rating matrix (.mat) or a CSV.

From a rating matrix the per-patch lists are recovered exactly (``rating_matrix``), and the
recovered lists are checked to rebuild every pixel's list before anything is written.

A CSV has a header line and one row per individual rating, with columns ``scale`` (fine or
coarse), ``k`` (the 1-based patch number of the toolkit grid) and ``rating`` (1-6); optional
``rater`` and ``scene`` columns, and any others, are kept. It is held to what a rating matrix
holds: every patch of both scales rated, the same number of ratings for every patch of a scale
(the map pools all ratings, so a patch rated twice as often weighs twice as much), and with a
``rater`` column no rater rating a patch twice. Errors name the file's line numbers and show the
cells (an empty one as "an empty cell"). Comma-separated, '.' decimals: a file separated by ';',
tabs or '|' is refused, naming its separator (:mod:`meaningmaps.data.csv_format`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..maps.meaning_map import check_ratings_frame
from ..maps.patch_grid import PatchGrid
from .csv_format import cell_text, refuse_other_separator
from .empty_files import not_a_data_file
from .rating_matrix import RatingLayer, assign_scales, load_rating_matrix, ratings_frame, recover_patch_ratings

CSV_COLUMNS = ("scale", "k", "rating")
RATING_RANGE = (1.0, 6.0)
#: Lines spelled out in a message (the count says how many there are in all).
MAX_LINES = 8
_CSV_FIX = ("a ratings CSV has a header line and one row per rating: scale (fine or coarse), k (the 1-based "
            "patch number), rating (1-6), optionally rater.")


def human_ratings(path, scene: str, grid: PatchGrid) -> pd.DataFrame:
    """Long table scene, scale, k, rating (+ a CSV's other columns) for every individual rating of
    every patch, sorted by scale and k."""
    path = Path(path)
    why = not_a_data_file(path)
    if why:
        raise InputError(path, f"{why}, so it holds no ratings.", "replace it with the scene's rating matrix (.mat) or "
                         "ratings CSV (re-copy it if the copy was cut short), or leave the scene out with "
                         "dataset.scenes.")
    if path.suffix.lower() == ".mat":
        by_scale = assign_scales(load_rating_matrix(path), grid, path)
        frame = ratings_from_layers(by_scale, scene, grid, path)
    else:
        frame = read_ratings_csv(path, scene, grid)
    check_ratings_frame(frame, grid, path)
    return frame.sort_values(["scale", "k"], kind="stable").reset_index(drop=True)


def read_ratings_csv(path, scene: str, grid: PatchGrid) -> pd.DataFrame:
    """A per-patch ratings CSV, checked cell by cell and against the grid (module docstring)."""
    path = Path(path)
    raw = _read_text_table(path)
    _check_scene_column(raw, scene, path)
    frame = _parse_cells(raw, grid, path)
    check_patches_covered(frame, grid, path)
    check_no_duplicate_ratings(frame, path)
    check_even_counts(frame, path)
    frame = frame.assign(scene=scene)
    cols = ["scene", *CSV_COLUMNS] + [c for c in frame.columns if c not in ("scene", *CSV_COLUMNS, "line")]
    return frame[cols]


def _read_text_table(path: Path) -> pd.DataFrame:
    """Every cell as text ('' when empty), blank lines dropped, and a ``line`` column: the row's line
    number in the file (the header is line 1)."""
    refuse_other_separator(path, "columns scale, k, rating[, rater]")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except Exception as exc:  # pandas raises several types for unreadable files
        raise InputError(path, f"cannot be read as CSV ({exc}).", _CSV_FIX) from exc
    missing = [c for c in CSV_COLUMNS if c not in raw.columns]
    if missing:
        header = ", ".join(map(str, raw.columns))
        raise InputError(path, f"lacks column(s) {', '.join(missing)} (its header has {header}).", _CSV_FIX)
    raw = raw.assign(line=np.arange(len(raw)) + 2)
    blank = (raw.drop(columns="line").apply(lambda c: c.str.strip()) == "").all(axis=1)
    raw = raw[~blank].reset_index(drop=True)
    if raw.empty:
        raise InputError(path, "has no ratings (only a header).", _CSV_FIX)
    return raw


def _check_scene_column(raw: pd.DataFrame, scene: str, path) -> None:
    if "scene" not in raw.columns:
        return
    other = raw[raw["scene"].str.strip() != scene]
    if len(other):
        names = sorted(set(other["scene"]))[:5]
        raise InputError(path, f"holds rows for other scenes ({', '.join(_shown(n) for n in names)}; "
                         f"{_lines(other['line'])}).", "one ratings CSV per scene, named <scene>.csv.")


def _parse_cells(raw: pd.DataFrame, grid: PatchGrid, path) -> pd.DataFrame:
    """scale, k, rating as str, int, float; a bad cell fails naming its lines and values."""
    scale = raw["scale"].str.strip()
    bad = ~scale.isin(list(grid.patches))
    _fail_cells(raw, bad, "scale", path, f"is not one of {', '.join(grid.patches)}",
                f"write the patch's scale as {' or '.join(grid.patches)}.")
    k = pd.to_numeric(raw["k"].str.strip(), errors="coerce").to_numpy(dtype=float)
    n_patches = scale.map({s: len(p) for s, p in grid.patches.items()}).to_numpy(dtype=float)
    bad = ~np.isfinite(k) | (k != np.round(k))
    _fail_cells(raw, bad, "k", path, "is not a whole patch number",
                "k is the 1-based number of the patch in its scale's toolkit grid (a whole number).")
    bad = (k < 1) | (k > n_patches)
    _fail_cells(raw, bad, "k", path, "is not a patch of the configured grid "
                f"(fine has {len(grid.patches.get('fine', []))}, coarse {len(grid.patches.get('coarse', []))} patches)",
                "check patches.<scale>.n and diameter against the grid the ratings were collected on.")
    rating = pd.to_numeric(raw["rating"].str.strip(), errors="coerce").to_numpy(dtype=float)
    lo, hi = RATING_RANGE
    bad = ~np.isfinite(rating) | (rating < lo) | (rating > hi)
    _fail_cells(raw, bad, "rating", path, f"is outside {lo:g}-{hi:g} or not a number",
                "ratings are on the six-point scale 1 (very low) .. 6 (very high).")
    return raw.assign(scale=scale, k=k.astype(np.int64), rating=rating)


def _fail_cells(raw: pd.DataFrame, bad: np.ndarray, column: str, path, problem: str, fix: str) -> None:
    bad = np.asarray(bad, dtype=bool)
    if not bad.any():
        return
    rows = raw[bad]
    shown = ", ".join(f"line {line} ({_shown(v)})" for line, v in
                      zip(rows["line"][:MAX_LINES], rows[column][:MAX_LINES], strict=True))
    more = f" and {len(rows) - MAX_LINES} more" if len(rows) > MAX_LINES else ""
    raise InputError(path, f"{len(rows)} row(s) whose {column} {problem}: {shown}{more}.", fix)


def check_patches_covered(frame: pd.DataFrame, grid: PatchGrid, path) -> None:
    """Every patch of every scale has at least one rating."""
    for scale, patches in grid.patches.items():
        have = set(frame.loc[frame["scale"] == scale, "k"].tolist())
        lacking = [p.k for p in patches if p.k not in have]
        if lacking:
            listed = ", ".join(map(str, lacking[:10])) + (" ..." if len(lacking) > 10 else "")
            raise InputError(path, f"{scale} ratings do not cover patches 1..{len(patches)}: {len(lacking)} patch(es) "
                             f"have no rating ({listed}).",
                             "rate every patch of both scales of the configured grid (or check patches.<scale>.n).")


def check_no_duplicate_ratings(frame: pd.DataFrame, path) -> None:
    """With a rater column: no rater rates the same patch twice (a pasted-twice block, say). Rows
    with an empty rater cell name no rater and are not compared."""
    if "rater" not in frame.columns:
        return
    named = frame[frame["rater"].astype(str).str.strip() != ""]
    dup = named[named.duplicated(["rater", "scale", "k"], keep=False)]
    if dup.empty:
        return
    groups = [f"rater {_shown(r)}, {s} patch {k}: {_lines(g['line'])}"
              for (r, s, k), g in dup.groupby(["rater", "scale", "k"], sort=False)]
    more = f"; and {len(groups) - MAX_LINES} more" if len(groups) > MAX_LINES else ""
    raise InputError(path, f"{len(groups)} patch(es) rated twice or more by the same rater ("
                     f"{'; '.join(groups[:MAX_LINES])}{more}).",
                     "remove the duplicated rows (each rater rates a patch once), then rerun.")


def check_even_counts(frame: pd.DataFrame, path) -> None:
    """Every patch of a scale has the same number of ratings, as a rating matrix must."""
    for scale, sub in frame.groupby("scale", sort=False):
        counts = sub.groupby("k").size()
        usual = int(counts.mode().max())
        odd = counts[counts != usual]
        if odd.empty:
            continue
        shown = "; ".join(f"patch {int(k)} has {int(n)} ({_lines(sub.loc[sub['k'] == k, 'line'])})"
                          for k, n in odd.head(MAX_LINES).items())
        more = f"; and {len(odd) - MAX_LINES} more" if len(odd) > MAX_LINES else ""
        raise InputError(path, f"{scale} patches have unequal numbers of ratings: {len(counts) - len(odd)} have "
                         f"{usual}, but {shown}{more}.",
                         "give every patch of a scale the same number of ratings (remove duplicated rows, or add the "
                         "missing ones): the map pools all ratings, so a patch with more ratings weighs more.")


def _lines(lines) -> str:
    lines = [int(v) for v in lines]
    text = ", ".join(map(str, lines[:MAX_LINES])) + (" ..." if len(lines) > MAX_LINES else "")
    return f"line{'s' if len(lines) > 1 else ''} {text}"


def _shown(value) -> str:
    """A cell as a message shows it: "an empty cell" for an empty cell, else quoted."""
    return cell_text(str(value))


def ratings_from_layers(by_scale: dict[str, RatingLayer], scene: str, grid: PatchGrid, path=None) -> pd.DataFrame:
    """Per-patch ratings recovered from a rating matrix's layers (already assigned to scales)."""
    recovered = {s: recover_patch_ratings(by_scale[s], grid, s, path) for s in grid.patches}
    return ratings_frame(scene, recovered)
