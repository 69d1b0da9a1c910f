"""Fixation data adapters: every supported layout becomes one tidy table.

Attention maps (``attention.py``) need the fixations of each scene as pixel positions. Eye-tracking
data arrive in different layouts; each adapter here turns one layout into the same table, so the
rest of the workflow never sees a layout:

======== ======= =================================================================================
column   dtype   meaning
======== ======= =================================================================================
scene    str     the scene's image file stem (``basketball_net`` for ``basketball_net.jpg``)
row      float   1-based pixel row (y), MATLAB convention: pixel r covers [r - 0.5, r + 0.5)
col      float   1-based pixel column (x), same convention
duration float   fixation duration in ms; NaN where the source has none
subject  str     participant id
======== ======= =================================================================================

Supported layouts (chosen by the file suffix):

``.mat`` -- Henderson & Hayes (2017, Nature Human Behaviour) eye-tracking file
    ``load(file).D`` is a struct array with one element per participant and fields ``sbj``
    (participant id), ``image`` (cell of image file names), ``fixN`` (cell of fixation numbers),
    ``loc`` (cell of N x 2 fixation positions ``[row, col]``, 1-based pixels) and ``dur`` (cell of
    N x 1 durations in ms). Cells with no fixations are allowed.

``.csv`` -- one fixation per line, columns ``scene, x, y[, duration][, subject]``
    ``x`` is the column and ``y`` the row, both 1-based pixel coordinates as in the ``.mat``
    file: the image's left edge is x = 0.5, its right edge x = W + 0.5, so a fixation on the
    image has x in [0.5, W + 0.5) and y in [0.5, H + 0.5) (its pixel is MATLAB ``round(x)``).
    Coordinates from a 0-based tool (pixel centres at 0..W-1) must have 1 added first.
    ``scene`` is the image file stem (a trailing image extension such as ``.jpg`` is removed).
    Without a ``duration`` column durations are NaN (unknown); without ``subject`` every row has
    subject ``"unknown"``.

``check_fixations`` then checks one scene's fixations against the scene's size: a fixation whose
(MATLAB-rounded) pixel is off the image means a wrong coordinate convention or a wrong image size,
and is an error unless the configuration asks to drop such fixations.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .matlab import matlab_round

log = logging.getLogger(__name__)

COLUMNS = ("scene", "row", "col", "duration", "subject")
CSV_REQUIRED = ("scene", "x", "y")
MAT_FIELDS = ("sbj", "image", "loc", "dur")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".gif")
UNKNOWN_SUBJECT = "unknown"

LAYOUTS = (
    "a .mat file in the Henderson & Hayes (2017) layout (struct array D with fields sbj, image, "
    "fixN, loc [row, col] 1-based, dur ms), or a .csv with columns scene, x, y[, duration][, subject] "
    "(x = column, y = row, 1-based pixels)"
)


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame({
        "scene": pd.Series([], dtype=str),
        "row": pd.Series([], dtype=np.float64),
        "col": pd.Series([], dtype=np.float64),
        "duration": pd.Series([], dtype=np.float64),
        "subject": pd.Series([], dtype=str),
    })


def _image_stem(name: str) -> str:
    """``basketball_net.jpg`` -> ``basketball_net``; names without an image suffix are kept."""
    name = name.strip()
    lower = name.lower()
    for suffix in IMAGE_SUFFIXES:
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


# --------------------------------------------------------------------------------------- .mat


def _unwrap(value):
    """Peel the 1x1 object/cell arrays scipy.io wraps MATLAB values in."""
    while isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
        value = value.reshape(-1)[0]
    return value


def _mat_string(value, path, what: str) -> str:
    value = _unwrap(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "U" and value.size == 1:
            return str(value.reshape(-1)[0])
        if value.dtype.kind == "U" and value.ndim == 1:  # char array read as separate characters
            return "".join(value.tolist())
    if isinstance(value, str):
        return value
    raise InputError(path, f"{what} is not a text cell (got {type(value).__name__} "
                     f"{getattr(value, 'shape', '')}).", f"expected {LAYOUTS}.")


def _mat_subject(value, path, index: int) -> str:
    value = _unwrap(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf" and value.size == 1:
        v = value.reshape(-1)[0]
        return str(int(v)) if float(v).is_integer() else str(v)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, str) or (isinstance(value, np.ndarray) and value.dtype.kind == "U"):
        return _mat_string(value, path, f"D({index + 1}).sbj")
    raise InputError(path, f"D({index + 1}).sbj is not a single participant id.", f"expected {LAYOUTS}.")


def _mat_cells(value) -> list:
    """A MATLAB cell vector (40x1, 1x40 or squeezed) as a Python list of its cells."""
    if isinstance(value, np.ndarray) and value.dtype == object:
        return list(value.reshape(-1))
    return [value]  # a single cell that scipy already unwrapped


def _mat_locations(value, path, where: str) -> np.ndarray:
    value = _unwrap(value)
    a = np.asarray(value)
    if a.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    if a.dtype.kind not in "iuf":
        raise InputError(path, f"{where} is not numeric (dtype {a.dtype}).", f"expected {LAYOUTS}.")
    if a.ndim == 1 and a.size == 2:  # one fixation, squeezed
        a = a.reshape(1, 2)
    if a.ndim != 2 or a.shape[1] != 2:
        raise InputError(path, f"{where} has shape {a.shape}; expected N x 2 [row, col].",
                         f"expected {LAYOUTS}.")
    return a.astype(np.float64)  # uint16 in the file: convert before any arithmetic


def _mat_vector(value, path, where: str) -> np.ndarray:
    value = _unwrap(value)
    a = np.asarray(value)
    if a.size == 0:
        return np.zeros(0, dtype=np.float64)
    if a.dtype.kind not in "iuf":
        raise InputError(path, f"{where} is not numeric (dtype {a.dtype}).", f"expected {LAYOUTS}.")
    if a.ndim > 1 and sorted(a.shape)[-2] != 1:
        raise InputError(path, f"{where} has shape {a.shape}; expected an N x 1 vector.",
                         f"expected {LAYOUTS}.")
    return a.reshape(-1).astype(np.float64)


def _load_mat(path: Path) -> tuple[pd.DataFrame, list[str]]:
    import scipy.io

    try:
        mat = scipy.io.loadmat(str(path))
    except NotImplementedError as e:  # MATLAB v7.3 (HDF5)
        raise InputError(path, f"cannot read this .mat file ({e}).",
                         f"save it with MATLAB `save(..., '-v7')`; expected {LAYOUTS}.") from e
    except Exception as e:  # noqa: BLE001 -- any parse failure is a bad input file
        raise InputError(path, f"cannot read this .mat file ({type(e).__name__}: {e}).",
                         f"expected {LAYOUTS}.") from e
    if "D" not in mat:
        found = sorted(k for k in mat if not k.startswith("__"))
        raise InputError(path, f"no variable D in this .mat file (found {found}).", f"expected {LAYOUTS}.")
    D = mat["D"]
    if not isinstance(D, np.ndarray) or D.dtype.names is None:
        raise InputError(path, "D is not a struct array.", f"expected {LAYOUTS}.")
    missing = [f for f in MAT_FIELDS if f not in D.dtype.names]
    if missing:
        raise InputError(path, f"D lacks field(s) {missing} (has {list(D.dtype.names)}).",
                         f"expected {LAYOUTS}.")

    scenes, rows, cols, durs, subjects = [], [], [], [], []
    declared: list[str] = []
    for i, s in enumerate(D.reshape(-1)):
        subject = _mat_subject(s["sbj"], path, i)
        images = _mat_cells(s["image"])
        locs = _mat_cells(s["loc"])
        dur_cells = _mat_cells(s["dur"])
        if not (len(images) == len(locs) == len(dur_cells)):
            raise InputError(path, f"D({i + 1}) (subject {subject}) has {len(images)} image, {len(locs)} loc "
                             f"and {len(dur_cells)} dur cells; they must correspond one to one.",
                             f"expected {LAYOUTS}.")
        for j, (image, loc, dur) in enumerate(zip(images, locs, dur_cells, strict=True)):
            def where(field, i=i, j=j, subject=subject):
                return f"D({i + 1}).{field}{{{j + 1}}} (subject {subject})"

            scene = _image_stem(_mat_string(image, path, where("image")))
            if scene not in declared:
                declared.append(scene)
            xy = _mat_locations(loc, path, where("loc"))
            d = _mat_vector(dur, path, where("dur"))
            n = xy.shape[0]
            if d.size == 0 and n > 0:
                d = np.full(n, np.nan)
            if d.size != n:
                raise InputError(path, f"{where('loc')} has {n} fixations but "
                                 f"{where('dur')} has {d.size} durations.", f"expected {LAYOUTS}.")
            scenes += [scene] * n
            subjects += [subject] * n
            rows.append(xy[:, 0])
            cols.append(xy[:, 1])
            durs.append(d)
    if not scenes:
        return _empty_table(), declared
    table = pd.DataFrame({
        "scene": pd.Series(scenes, dtype=str),
        "row": np.concatenate(rows),
        "col": np.concatenate(cols),
        "duration": np.concatenate(durs),
        "subject": pd.Series(subjects, dtype=str),
    })
    return table, declared


# --------------------------------------------------------------------------------------- .csv


def _numeric_column(frame: pd.DataFrame, name: str, path, allow_missing: bool) -> np.ndarray:
    raw = frame[name]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    blank = raw.isna().to_numpy()
    bad = np.isnan(values) & ~blank  # text that is not a number
    if not allow_missing:
        bad |= blank
    bad |= np.isinf(values)
    if bad.any():
        k = int(np.argmax(bad))
        raise InputError(path, f"column {name!r}: {int(bad.sum())} value(s) missing or not finite numbers "
                         f"(first on line {k + 2}: {raw.iloc[k]!r}).",
                         f"give every fixation a numeric {name}.")
    return values


def _load_csv(path: Path) -> tuple[pd.DataFrame, list[str]]:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except Exception as e:  # noqa: BLE001 -- any parse failure is a bad input file
        raise InputError(path, f"cannot read this CSV ({type(e).__name__}: {e}).", f"expected {LAYOUTS}.") from e
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in CSV_REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(path, f"fixation CSV lacks column(s) {missing} (has {list(frame.columns)}).",
                         "the header must name columns scene, x, y and optionally duration, subject "
                         "(x = column, y = row, 1-based pixels).")
    if frame["scene"].isna().any():
        k = int(np.argmax(frame["scene"].isna().to_numpy()))
        raise InputError(path, f"column 'scene' is empty on line {k + 2}.",
                         "give every fixation the file stem of its scene image.")
    scene = frame["scene"].map(_image_stem)
    col = _numeric_column(frame, "x", path, allow_missing=False)
    row = _numeric_column(frame, "y", path, allow_missing=False)
    if "duration" in frame.columns:
        duration = _numeric_column(frame, "duration", path, allow_missing=True)
        if (duration < 0).any():
            k = int(np.argmax(duration < 0))
            raise InputError(path, f"negative duration on line {k + 2}.", "durations are in ms, >= 0.")
    else:
        duration = np.full(len(frame), np.nan)
    if "subject" in frame.columns:
        subject = frame["subject"].fillna(UNKNOWN_SUBJECT).str.strip()
    else:
        subject = pd.Series([UNKNOWN_SUBJECT] * len(frame))
    table = pd.DataFrame({
        "scene": pd.Series(scene.to_numpy(), dtype=str),
        "row": row,
        "col": col,
        "duration": duration,
        "subject": pd.Series(subject.to_numpy(), dtype=str),
    })
    declared = list(dict.fromkeys(table["scene"].tolist()))
    return (table if len(table) else _empty_table()), declared


# --------------------------------------------------------------------------------------- API


def load_fixations(path, scene_names=None) -> pd.DataFrame:
    """Read a fixation file into the tidy table (columns scene, row, col, duration, subject).

    ``scene_names``: optional iterable of scene file stems; the table is restricted to them, and
    a name the file does not know is an error (usually a naming mismatch with the images).
    The source path is kept in ``table.attrs['source']`` so later checks can name the file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".mat", ".csv"):
        raise InputError(path, f"unsupported fixation file type {path.suffix or '(no suffix)'!r}.",
                         f"give {LAYOUTS}.")
    if not path.is_file():
        raise InputError(path, "fixation file not found.", f"check the path; expected {LAYOUTS}.")
    table, declared = _load_mat(path) if suffix == ".mat" else _load_csv(path)
    if scene_names is not None:
        wanted = [str(s) for s in scene_names]
        unknown = [s for s in wanted if s not in set(declared)]
        if unknown:
            raise InputError(path, f"{len(unknown)} requested scene(s) have no fixation data in this file "
                             f"(e.g. {unknown[:3]}; the file has e.g. {declared[:3]}).",
                             "scene names are image file stems; make the fixation file's scene names "
                             "match the image names, or restrict the study to scenes it covers.")
        table = table[table["scene"].isin(set(wanted))].reset_index(drop=True)
    table = table.loc[:, list(COLUMNS)].reset_index(drop=True)
    table.attrs["source"] = str(path)
    return table


def check_fixations(fix: pd.DataFrame, scene: str, height: int, width: int, path=None,
                    outside: str = "error") -> tuple[pd.DataFrame, int]:
    """Check one scene's fixations against its image size; return ``(table, n_dropped)``.

    Only the rows of ``scene`` are considered (``fix`` may hold other scenes too) and only they
    are returned. A fixation is on the image when its MATLAB-rounded pixel ``round(row)`` lies in
    1..height and ``round(col)`` in 1..width, i.e. row in [0.5, height + 0.5) and col in
    [0.5, width + 0.5). Off-image fixations are an :class:`InputError` (``outside="error"``) or
    are removed (``outside="drop"``; the count is returned and logged as a warning).
    Missing (NaN) or infinite coordinates are always an error.
    """
    if outside not in ("error", "drop"):
        raise ValueError(f"outside must be 'error' or 'drop', got {outside!r}")
    if int(height) != height or int(width) != width or height < 1 or width < 1:
        raise ValueError(f"height and width must be positive integers, got {height} x {width}")
    path = path if path is not None else fix.attrs.get("source")
    missing = [c for c in ("row", "col") if c not in fix.columns]
    if missing:
        raise ValueError(f"fixation table lacks column(s) {missing}")
    if "scene" in fix.columns:
        fix = fix[fix["scene"] == scene]
    fix = fix.reset_index(drop=True)
    row = fix["row"].to_numpy(dtype=np.float64)
    col = fix["col"].to_numpy(dtype=np.float64)
    nonfinite = ~np.isfinite(row) | ~np.isfinite(col)
    if nonfinite.any():
        raise InputError(path, f"scene {scene!r}: {int(nonfinite.sum())} fixation(s) without a finite "
                         "position (NaN or infinite row/col).",
                         "remove those fixations from the fixation file or give their positions.")
    r = matlab_round(row)
    c = matlab_round(col)
    off = (r < 1) | (r > height) | (c < 1) | (c > width)
    n_off = int(off.sum())
    if n_off and outside == "error":
        k = int(np.argmax(off))
        raise InputError(
            path,
            f"scene {scene!r}: {n_off} of {len(fix)} fixation(s) fall outside the {height} x {width} "
            f"(rows x cols) image (e.g. row {row[k]:g}, col {col[k]:g}; on-image positions are 1-based "
            f"with row in [0.5, {height + 0.5:g}) and col in [0.5, {width + 0.5:g})).",
            "check the coordinate convention (1-based pixels; x = column, y = row; 0-based data need +1) "
            "and the image size, or set `dataset: {fixations_outside: drop}` in the config to drop them.",
        )
    if n_off:
        log.warning("%s: scene %r: dropped %d of %d fixation(s) outside the %d x %d image",
                    path, scene, n_off, len(fix), height, width)
        fix = fix[~off].reset_index(drop=True)
    if path is not None:
        fix.attrs["source"] = str(path)
    return fix, n_off
