"""Fixation data adapters: every supported layout becomes one tidy table.

Attention maps (``attention.py``) need the fixations of each scene as pixel positions. Eye-tracking
data arrive in different layouts; each adapter here turns one layout into the same table, so the
rest of the workflow never sees a layout:

========= ======= ================================================================================
column    dtype   meaning
========= ======= ================================================================================
scene     str     the scene's image file stem (``basketball_net`` for ``stimuli/basketball_net.jpg``)
row       float   1-based pixel row (y), MATLAB convention: pixel r covers [r - 0.5, r + 0.5)
col       float   1-based pixel column (x), same convention
duration  float   fixation duration in ms; NaN where the source has none
subject   str     participant id
fix_index float   the fixation's recorded number (``fixN``, CSV ``fix_index``); NaN where none
========= ======= ================================================================================

Supported layouts (chosen by the file suffix):

``.mat`` -- Henderson & Hayes (2017, Nature Human Behaviour) eye-tracking file
    ``load(file).D`` is a struct array with one element per participant and fields ``sbj``
    (participant id), ``image`` (cell of image file names), ``fixN`` (cell of fixation numbers;
    optional unless fixations are selected by number), ``loc`` (cell of N x 2 fixation positions
    ``[row, col]``, 1-based pixels) and ``dur`` (cell of N x 1 durations in ms). Cells with no
    fixations are allowed. In the published file the first fixation of each trial is already
    dropped: numbers start at 2.

``.csv`` -- one fixation per line, columns ``scene, x, y[, duration][, subject][, fix_index]``
    ``x`` is the column and ``y`` the row. Other header names are mapped to these with
    ``dataset.fixation_csv.columns`` (ours -> yours, e.g. ``{scene: image, x: gaze_x}``).
    ``scene`` is the image file stem (a trailing image extension such as ``.jpg`` is removed).
    A comma-separated file with '.' decimals: one separated by ';', tabs or '|' is refused, naming
    its separator (:mod:`meaningmaps.data.csv_format` says why it is not read as it is).
    Without a ``duration`` column durations are NaN (unknown); without ``subject`` every row has
    subject ``"unknown"``; without ``fix_index`` fixations have no number.

Scene names (both layouts)
    An image's name becomes its scene by its file stem: a folder prefix (``stimuli/scene_01.jpg``,
    as PsychoPy writes the image path; ``/`` or ``\\``) and an image extension are removed. The
    images of a study lie in one folder, so the stem names one image; two names with different
    folders that give one stem (``set1/scene_01.jpg``, ``set2/scene_01.jpg``, or one with a folder and
    one without) may be two images, and the file is refused naming both (:func:`check_scene_names`)
    rather than any of their rows given to the wrong scene.

Coordinate origin of a CSV (``dataset.fixation_csv.origin: 0 | 1``)
    1-based: the image's left edge is x = 0.5, its right edge x = W + 0.5 (pixel ``round(x)``, as
    the ``.mat`` file). 0-based (most eye-tracker exports): pixel centres 0..W-1, so 1 is added.
    The two readings differ by one pixel everywhere and nothing downstream can notice, so the
    origin is never assumed. Without the key the coordinates decide only when they prove it
    (:func:`resolve_origin`): exactly one origin must put every fixation of the study on its image.
    A value below 0.5 (e.g. x = 0) is off a 1-based image, so it proves 0-based; a value at or
    above size - 0.5 (e.g. x = W) is off a 0-based image, so it proves 1-based. If both readings
    fit (no fixation within half a pixel of an edge: the usual case for centre-biased viewing),
    or neither does, the file is refused, naming the key. The proof assumes every fixation is on
    its image, which ``dataset.fixations_outside: error`` (the default) enforces anyway; with
    ``drop`` off-image fixations are expected, an edge value proves nothing, and the key is
    required. Why not require the key for every CSV: the rule above never reads a file with an
    origin under which one of its fixations would be an error, the decision is made once for
    the whole file over all the study's scenes (:func:`resolve_settings`, at workflow start-up),
    and it is logged with the fixation that decided it (a tool that marks lost samples as (0, 0)
    shows up there; set the key to override).

Which fixations (``attention.fixation_numbers: {min, max}``)
    Fixations whose recorded number lies in min..max (inclusive; null: no bound) are kept, by the
    numbers as recorded: nothing is renumbered. In the Henderson & Hayes file numbering starts at
    2 (the first fixation was dropped), so its first three fixations are ``{min: 2, max: 4}``.

``check_fixations`` then checks one scene's fixations against the scene's size: a fixation whose
(MATLAB-rounded) pixel is off the image means a wrong coordinate convention or a wrong image size,
and is an error unless the configuration asks to drop such fixations. :func:`scene_fixations`
does all of it for one scene, as every map made from fixations uses them.

Units and frame (``dataset.fixation_csv.units``, ``offset``, ``dataset.fixations_outside_max``):
:mod:`meaningmaps.data.fixation_frame`. Fractions of the image are converted exactly to pixels,
a screen offset is subtracted first, and a scene whose fixations cannot be pixels of its image
(within a tiny box), that would lose more than ``fixations_outside_max`` of its fixations, or
that has none, is refused.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..matlab import matlab_round
from . import fixation_frame as frame
from .csv_format import cell_text, refuse_other_separator
from .empty_files import not_a_data_file
from .images import IMAGE_SUFFIXES
from .mat_files import loadmat

log = logging.getLogger(__name__)

COLUMNS = ("scene", "row", "col", "duration", "subject", "fix_index")
CSV_REQUIRED = ("scene", "x", "y")
CSV_COLUMNS = ("scene", "x", "y", "duration", "subject", "fix_index")
MAT_FIELDS = ("sbj", "image", "loc", "dur")
#: Suffixes stripped from the image names in a fixation file to give scene names: the scene images
#: this package reads, and other image types another lab's file may name.
NAME_SUFFIXES = (*IMAGE_SUFFIXES, ".bmp", ".tif", ".tiff", ".gif")
UNKNOWN_SUBJECT = "unknown"

LAYOUTS = (
    "a .mat file in the Henderson & Hayes (2017) layout (struct array D with fields sbj, image, "
    "fixN, loc [row, col] 1-based, dur ms), or a .csv with columns scene, x, y[, duration][, subject]"
    "[, fix_index] (x = column, y = row; other names mapped by dataset.fixation_csv.columns)"
)
#: The config keys the fixation settings come from (named in error messages).
COLUMNS_KEY = "dataset.fixation_csv.columns"
ORIGIN_KEY = "dataset.fixation_csv.origin"
OUTSIDE_KEY = "dataset.fixations_outside"
NUMBERS_KEY = "attention.fixation_numbers"


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame({
        "scene": pd.Series([], dtype=str),
        "row": pd.Series([], dtype=np.float64),
        "col": pd.Series([], dtype=np.float64),
        "duration": pd.Series([], dtype=np.float64),
        "subject": pd.Series([], dtype=str),
        "fix_index": pd.Series([], dtype=np.float64),
    })


def _image_stem(name: str) -> str:
    """``stimuli/basketball_net.jpg`` -> ``basketball_net``: a folder prefix (``/`` or ``\\``) and an
    image extension are removed; other names are kept (a name ending in a separator names no file
    and is kept, for the scene-name check to refuse)."""
    name = name.strip()
    base = _FOLDER_SEPARATORS.split(name)[-1].strip()
    name = base or name
    lower = name.lower()
    for suffix in NAME_SUFFIXES:
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


_FOLDER_SEPARATORS = re.compile(r"[/\\]")


def _folder_of(name: str) -> str:
    """The folder prefix of an image name (``stimuli`` for ``stimuli/a.jpg``, ``stimuli\\a.jpg``), '' for none."""
    return "/".join(part.strip() for part in _FOLDER_SEPARATORS.split(name.strip())[:-1])


def check_scene_names(names: dict, path, located) -> None:
    """Refuse names with different folder prefixes that give one scene (module docstring): the rows of
    such a scene might belong to two images. ``names``: {name as in the file: its scene}, in file
    order; ``located(name)``: where the name first occurs (a line, a .mat cell), for the message."""
    by_scene: dict[str, dict[str, str]] = {}
    for name, scene in names.items():
        by_scene.setdefault(scene, {}).setdefault(_folder_of(name), name)
    clashes = {scene: list(folders.values()) for scene, folders in by_scene.items() if len(folders) > 1}
    if not clashes:
        return
    scene, first = next(iter(clashes.items()))
    shown = ", ".join(f"{name!r} ({located(name)})" for name in first[:3])
    more = (f"; {len(clashes) - 1} more scene(s) too: {', '.join(repr(s) for s in list(clashes)[1:6])}"
            if len(clashes) > 1 else "")
    verb = "both are" if len(first) == 2 else "are all"
    raise InputError(path, f"names images in different folders that give one scene: {shown} {verb} scene "
                     f"{scene!r} (a scene is its image's file stem: the folder and the extension are removed), "
                     f"so which image their rows belong to is not known{more}.",
                     "if they are one image, write its name one way throughout the file; if they are different "
                     "images, give them different file names (the image files and the file's rows), so that "
                     "every scene has its own file stem.")


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
    raise InputError(path, f"{what} is {_mat_value_text(value)}, not a text cell (an image name).",
                     f"give every cell its image's file name; expected {LAYOUTS}.")


def _mat_value_text(value) -> str:
    """What a .mat cell holds, for a message: an empty cell, a number, or its type and size."""
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return "an empty cell"
        if value.dtype.kind in "iufb" and value.size == 1:
            return f"the number {cell_text(value.reshape(-1)[0])}"
        return f"a {' x '.join(map(str, value.shape))} {value.dtype.name} array"
    if isinstance(value, (int, float, np.number)):
        return f"the number {cell_text(value)}"
    return f"a {type(value).__name__}"


def _mat_subject(value, path, index: int) -> str:
    value = _unwrap(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf" and value.size == 1:
        v = value.reshape(-1)[0]
        return str(int(v)) if float(v).is_integer() else str(v)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, str) or (isinstance(value, np.ndarray) and value.dtype.kind == "U"):
        return _mat_string(value, path, f"D({index + 1}).sbj")
    raise InputError(path, f"D({index + 1}).sbj is {_mat_value_text(value)}, not a single participant id.",
                     f"give every participant one id (a number or a text); expected {LAYOUTS}.")


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
    try:
        mat = loadmat(path)  # v5 (scipy) or v7.3 (h5py), the same structures
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 -- any parse failure is a bad input file
        raise InputError(path, f"cannot read this .mat file ({type(e).__name__}: {e}).",
                         f"expected {LAYOUTS}.") from e
    if "D" not in mat:
        found = sorted(k for k in mat if not k.startswith("__"))
        raise InputError(path, f"no variable D in this .mat file (found {found}).", f"expected {LAYOUTS}.")
    D = mat["D"]
    if not isinstance(D, np.ndarray) or D.dtype.names is None:
        raise InputError(path, f"D is {_mat_value_text(D)}, not a struct array.", f"expected {LAYOUTS}.")
    missing = [f for f in MAT_FIELDS if f not in D.dtype.names]
    if missing:
        raise InputError(path, f"D lacks field(s) {missing} (has {list(D.dtype.names)}).",
                         f"expected {LAYOUTS}.")

    has_numbers = "fixN" in D.dtype.names
    scenes, rows, cols, durs, subjects, numbers = [], [], [], [], [], []
    declared: list[str] = []
    names: dict[str, str] = {}  # each image name as written -> the cell it first occurs in
    for i, s in enumerate(D.reshape(-1)):
        subject = _mat_subject(s["sbj"], path, i)
        images = _mat_cells(s["image"])
        locs = _mat_cells(s["loc"])
        dur_cells = _mat_cells(s["dur"])
        num_cells = _mat_cells(s["fixN"]) if has_numbers else [None] * len(locs)
        if not (len(images) == len(locs) == len(dur_cells) == len(num_cells)):
            raise InputError(path, f"D({i + 1}) (subject {subject}) has {len(images)} image, {len(locs)} loc, "
                             f"{len(dur_cells)} dur and {len(num_cells)} fixN cells; they must correspond "
                             "one to one.", f"expected {LAYOUTS}.")
        for j, (image, loc, dur, num) in enumerate(zip(images, locs, dur_cells, num_cells, strict=True)):
            def where(field, i=i, j=j, subject=subject):
                return f"D({i + 1}).{field}{{{j + 1}}} (subject {subject})"

            name = _mat_string(image, path, where("image"))
            scene = _image_stem(name)
            names.setdefault(name.strip(), where("image"))
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
            k = np.full(n, np.nan) if num is None else _mat_vector(num, path, where("fixN"))
            if k.size != n:
                raise InputError(path, f"{where('loc')} has {n} fixations but "
                                 f"{where('fixN')} has {k.size} fixation numbers.", f"expected {LAYOUTS}.")
            scenes += [scene] * n
            subjects += [subject] * n
            rows.append(xy[:, 0])
            cols.append(xy[:, 1])
            durs.append(d)
            numbers.append(k)
    check_scene_names({name: _image_stem(name) for name in names}, path, names.get)
    if not scenes:
        return _empty_table(), declared
    table = pd.DataFrame({
        "scene": pd.Series(scenes, dtype=str),
        "row": np.concatenate(rows),
        "col": np.concatenate(cols),
        "duration": np.concatenate(durs),
        "subject": pd.Series(subjects, dtype=str),
        "fix_index": np.concatenate(numbers),
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
        first = np.flatnonzero(bad)[:3]
        shown = ", ".join(f"line {k + 2}: {cell_text(raw.iloc[k])}" for k in first)
        raise InputError(path, f"column {name!r}: {int(bad.sum())} value(s) missing or not finite numbers "
                         f"({shown}{', ...' if bad.sum() > len(first) else ''}).",
                         f"give every fixation a numeric {name} (a number with '.' as the decimal point).")
    return values


def _header_name(name) -> str:
    return str(name).strip().lower()


def _rename_columns(frame: pd.DataFrame, columns: dict, path) -> pd.DataFrame:
    """Apply ``dataset.fixation_csv.columns`` (our name -> the CSV's name), refusing a mapped name
    the header lacks and a clash with a column that already has our name."""
    unknown = sorted(set(columns) - set(CSV_COLUMNS))
    if unknown:
        raise InputError(None, f"{COLUMNS_KEY} has unknown column(s) {unknown}.",
                         f"map only {list(CSV_COLUMNS)} (our name: the name in your CSV).")
    header = list(frame.columns)
    theirs = {ours: _header_name(name) for ours, name in columns.items()}
    for ours, name in theirs.items():
        if name not in header:
            raise InputError(path, f"has no column {columns[ours]!r} ({COLUMNS_KEY}.{ours}); its columns are "
                             f"{header}.", f"set {COLUMNS_KEY}.{ours} to the name of your {ours} column.")
        if ours in header and ours not in theirs.values() and ours != name:
            raise InputError(path, f"has a column {ours!r} and {COLUMNS_KEY}.{ours} names {columns[ours]!r} as "
                             f"the {ours} column too.", f"remove one of them or {COLUMNS_KEY}.{ours}.")
    doubled = sorted({n for n in theirs.values() if list(theirs.values()).count(n) > 1})
    if doubled:
        raise InputError(None, f"{COLUMNS_KEY} maps several of our columns to {doubled}.",
                         "give each of our columns its own CSV column.")
    return frame.rename(columns={name: ours for ours, name in theirs.items()})


def _load_csv(path: Path, columns: dict | None = None) -> tuple[pd.DataFrame, list[str]]:
    refuse_other_separator(path, "columns scene, x, y[, duration][, subject][, fix_index]")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except Exception as e:  # noqa: BLE001 -- any parse failure is a bad input file
        raise InputError(path, f"cannot read this CSV ({type(e).__name__}: {e}).", f"expected {LAYOUTS}.") from e
    frame.columns = [_header_name(c) for c in frame.columns]
    frame = _rename_columns(frame, columns or {}, path)
    missing = [c for c in CSV_REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(path, f"fixation CSV lacks column(s) {missing} (has {list(frame.columns)}).",
                         "the header must name columns scene, x, y and optionally duration, subject, "
                         f"fix_index (x = column, y = row), or map your names with {COLUMNS_KEY} "
                         "(e.g. {scene: image}).")
    if frame["scene"].isna().any():
        empty = np.flatnonzero(frame["scene"].isna().to_numpy())
        lines = ", ".join(str(k + 2) for k in empty[:5]) + (", ..." if len(empty) > 5 else "")
        raise InputError(path, f"column 'scene' has {len(empty)} empty cell(s) (line(s) {lines}).",
                         "give every fixation the file stem of its scene image.")
    scene = _csv_scenes(frame["scene"], path)
    col = _numeric_column(frame, "x", path, allow_missing=False)
    row = _numeric_column(frame, "y", path, allow_missing=False)
    if "duration" in frame.columns:
        duration = _numeric_column(frame, "duration", path, allow_missing=True)
        if (duration < 0).any():
            k = int(np.argmax(duration < 0))
            raise InputError(path, f"{int((duration < 0).sum())} negative duration(s) (first on line {k + 2}: "
                             f"{cell_text(duration[k])}).", "durations are in ms, >= 0: check the duration column "
                             f"(or the column {COLUMNS_KEY}.duration names).")
    else:
        duration = np.full(len(frame), np.nan)
    if "subject" in frame.columns:
        subject = frame["subject"].fillna(UNKNOWN_SUBJECT).str.strip()
    else:
        subject = pd.Series([UNKNOWN_SUBJECT] * len(frame))
    if "fix_index" in frame.columns:
        number = _numeric_column(frame, "fix_index", path, allow_missing=True)
    else:
        number = np.full(len(frame), np.nan)
    table = pd.DataFrame({
        "scene": pd.Series(scene.to_numpy(), dtype=str),
        "row": row,
        "col": col,
        "duration": duration,
        "subject": pd.Series(subject.to_numpy(), dtype=str),
        "fix_index": number,
    })
    declared = list(dict.fromkeys(table["scene"].tolist()))
    return (table if len(table) else _empty_table()), declared


def _csv_scenes(names: pd.Series, path) -> pd.Series:
    """The scene of every row (:func:`_image_stem` of each distinct name, once), names that give one
    scene from different folders refused (:func:`check_scene_names`)."""
    stems = {name: _image_stem(name) for name in pd.unique(names)}

    def located(name):  # only for the message: where the name first occurs
        return f"line {int(np.argmax((names.str.strip() == name).to_numpy())) + 2}"

    check_scene_names({name.strip(): stem for name, stem in stems.items()}, path, located)
    return names.map(stems)


# --------------------------------------------------------------------------------------- API


def load_fixations(path, scene_names=None, *, columns: dict | None = None) -> pd.DataFrame:
    """Read a fixation file into the tidy table (columns scene, row, col, duration, subject, fix_index).

    ``scene_names``: optional iterable of scene file stems; the table is restricted to them, and
    a name the file does not know is an error (usually a naming mismatch with the images).
    ``columns``: a CSV's column mapping (``dataset.fixation_csv.columns``: our name -> its name).
    Coordinates come as the file has them: a 0-based CSV's origin is applied by :func:`scene_fixations`.
    The source path is kept in ``table.attrs['source']`` so later checks can name the file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".mat", ".csv"):
        raise InputError(path, f"unsupported fixation file type {path.suffix or '(no suffix)'!r}.",
                         f"give {LAYOUTS}.")
    if not path.exists():
        raise InputError(path, "fixation file not found.", f"check the path; expected {LAYOUTS}.")
    empty = not_a_data_file(path)
    if empty:
        raise InputError(path, f"{empty}, so it holds no fixations.",
                         f"point dataset.fixations at the fixation file; expected {LAYOUTS}.")
    if suffix == ".mat" and columns:
        raise InputError(path, f"{COLUMNS_KEY} is set, but this is a .mat file (its fields are fixed).",
                         f"remove {COLUMNS_KEY}; it applies to a fixation CSV.")
    table, declared = _load_mat(path) if suffix == ".mat" else _load_csv(path, columns)
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
                    outside: str = "error", outside_max: float | None = None) -> tuple[pd.DataFrame, int]:
    """Check one scene's fixations against its image size; return ``(table, n_dropped)``.

    Only the rows of ``scene`` are considered (``fix`` may hold other scenes too) and only they
    are returned. A fixation is on the image when its MATLAB-rounded pixel ``round(row)`` lies in
    1..height and ``round(col)`` in 1..width, i.e. row in [0.5, height + 0.5) and col in
    [0.5, width + 0.5). Off-image fixations are an :class:`InputError` (``outside="error"``) or
    are removed (``outside="drop"``; the count is returned and logged as a warning), unless they
    are more than ``outside_max`` of the scene's fixations (``dataset.fixations_outside_max``;
    None: any share), which is an error naming the counts (:mod:`fixation_frame`).
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
        k = int(np.argmax(nonfinite))
        who = f"subject {fix['subject'].iloc[k]}, " if "subject" in fix.columns else ""
        raise InputError(path, f"scene {scene!r}: {int(nonfinite.sum())} fixation(s) without a finite "
                         f"position (NaN or infinite row/col; e.g. {who}row {_number(row[k])}, col {_number(col[k])}).",
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
            "check the coordinate convention (x = column, y = row; a CSV's origin is "
            f"{ORIGIN_KEY}: 0 or 1; screen coordinates: {frame.OFFSET_KEY}) and the image size, or set "
            "`dataset: {fixations_outside: drop}` in the config to drop them.",
        )
    if n_off:
        frame.check_dropped_share(n_off, len(fix), scene, height, width, row, col, outside_max, path)
        log.warning("%s: scene %r: dropped %d of %d fixation(s) outside the %d x %d image",
                    path, scene, n_off, len(fix), height, width)
        fix = fix[~off].reset_index(drop=True)
    if path is not None:
        fix.attrs["source"] = str(path)
    return fix, n_off


# --------------------------------------------------------------------------------------- settings

#: What :func:`scene_fixations` reads without settings: every fixation, origin from the data.
DEFAULT_SETTINGS = {"columns": {}, "origin": None, "origin_evidence": None, "numbers": {"min": None, "max": None},
                    "units": None, "offset": None, "outside_max": None}


def fixation_settings(config: dict) -> dict:
    """The fixation settings a (schema-validated) config sets: ``dataset.fixation_csv``,
    ``dataset.fixations_outside_max`` and ``attention.fixation_numbers``; the origin as configured
    (None: not set)."""
    dataset = config.get("dataset") or {}
    csv = dataset.get("fixation_csv") or {}
    numbers = dict(DEFAULT_SETTINGS["numbers"], **((config.get("attention") or {}).get("fixation_numbers") or {}))
    lo, hi = numbers["min"], numbers["max"]
    if lo is not None and hi is not None and lo > hi:
        raise InputError(None, f"{NUMBERS_KEY}: min {lo} is above max {hi}, so no fixation is kept.",
                         f"set {NUMBERS_KEY}.min <= max (both inclusive).")
    origin = csv.get("origin")
    evidence = f"{ORIGIN_KEY}: {origin}" if origin is not None else None
    units, offset = csv.get("units"), csv.get("offset")
    frame.check_frame_keys(units, offset, origin)
    return {"columns": dict(csv.get("columns") or {}), "origin": origin, "origin_evidence": evidence,
            "numbers": numbers, "units": units, "offset": list(offset) if offset is not None else None,
            "outside_max": dataset.get("fixations_outside_max", frame.OUTSIDE_MAX_DEFAULT)}


def _settings(settings: dict | None) -> dict:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULT_SETTINGS.items()}
    unknown = sorted(set(settings or {}) - set(out))
    if unknown:
        raise ValueError(f"unknown fixation settings {unknown}; known: {sorted(out)}")
    out.update(settings or {})
    out["numbers"] = dict(DEFAULT_SETTINGS["numbers"], **(out["numbers"] or {}))
    return out


def _is_csv(path) -> bool:
    return Path(path).suffix.lower() == ".csv"


def _on_image(row: np.ndarray, col: np.ndarray, height: int, width: int) -> np.ndarray:
    """Which 1-based positions fall on the image (MATLAB-rounded pixel in 1..size), as check_fixations."""
    r, c = matlab_round(row), matlab_round(col)
    return (r >= 1) & (r <= height) & (c >= 1) & (c <= width)


def _fits(fix: pd.DataFrame, sizes: dict, origin: int):
    """(every fixation on its image when read with ``origin``, an example row that is not)."""
    shift = 1.0 if origin == 0 else 0.0
    for scene, (h, w) in sizes.items():
        g = fix[fix["scene"] == scene]
        on = _on_image(g["row"].to_numpy(float) + shift, g["col"].to_numpy(float) + shift, h, w)
        if not on.all():
            return False, (scene, g[~on].iloc[0], h, w)
    return True, None


def _describe(example) -> str:
    scene, row, h, w = example
    return (f"scene {scene!r} ({w} x {h} px), subject {row['subject']}: x = {row['col']:g}, y = {row['row']:g}")


def resolve_origin(fix: pd.DataFrame, sizes: dict, path, configured: int | None = None,
                   outside: str = "error") -> tuple[int, str]:
    """A CSV's coordinate origin and why: ``configured`` when set, else the one origin under which
    every fixation of ``sizes``' scenes ({scene: (height, width)}) is on its image. Refuses (naming
    ``dataset.fixation_csv.origin``) when both or neither fit, and with ``fixations_outside: drop``,
    where an off-image value is expected and proves nothing (see the module docstring)."""
    if configured is not None:
        if configured not in (0, 1):
            raise InputError(None, f"{ORIGIN_KEY} must be 0 or 1, got {configured!r}.",
                             f"set {ORIGIN_KEY}: 0 (pixel centres 0..W-1, most eye trackers) or 1 (1..W, MATLAB).")
        return int(configured), f"{ORIGIN_KEY}: {configured}"
    fix = fix[fix["scene"].isin(set(sizes))]
    names = sorted(sizes)
    fix_rows = f"the fixations of scene(s) {', '.join(names[:5])}{', ...' if len(names) > 5 else ''}"
    if outside == "drop":
        raise InputError(path, f"the coordinate origin of this CSV is not set, and with {OUTSIDE_KEY}: drop "
                         "off-image fixations are expected, so the coordinates cannot prove it.",
                         f"set {ORIGIN_KEY}: 0 (pixel centres 0..W-1, most eye trackers) or 1 (1..W, MATLAB).")
    fits0, off0 = _fits(fix, sizes, 0)
    fits1, off1 = _fits(fix, sizes, 1)
    if fits0 != fits1:
        origin, example = (0, off1) if fits0 else (1, off0)
        other = "1-based" if origin == 0 else "0-based"
        return origin, (f"inferred: {_describe(example)} is off a {other} image; {origin}-based puts all "
                        f"{len(fix)} fixations on their images (set {ORIGIN_KEY} to decide yourself)")
    if fits0:
        raise InputError(path, f"the coordinate origin of this CSV is not set and its coordinates cannot tell: "
                         f"{fix_rows} are on their images both when read 0-based (pixel centres 0..W-1) and "
                         "1-based (1..W), and the two readings differ by one pixel (no value below 0.5 proves "
                         "0-based, none at or above the size - 0.5 proves 1-based).",
                         f"set {ORIGIN_KEY}: 0 or 1 in the config (0 for most eye-tracker exports; 1 for "
                         "MATLAB-style pixels, as the Henderson & Hayes .mat file).")
    raise InputError(path, f"the coordinate origin of this CSV is not set and no origin puts every fixation on "
                     f"its image (0-based: {_describe(off0)} is off; 1-based: {_describe(off1)} is off).",
                     f"set {ORIGIN_KEY}: 0 or 1, and check the image sizes and x/y columns; if off-image "
                     f"fixations are expected, also set {OUTSIDE_KEY}: drop.")


def resolve_settings(config: dict, path, table: pd.DataFrame, sizes: dict) -> dict:
    """The fixation settings every scene of the study is read with (the rules pass them to
    :func:`scene_fixations`): the config's, with a CSV's origin decided once over all the study's
    scenes (``sizes``: {scene: (height, width)}); a .mat file is 1-based by its layout."""
    settings = fixation_settings(config)
    if not _is_csv(path):
        if settings["origin"] is not None:
            raise InputError(path, f"{ORIGIN_KEY} is set, but this is a .mat file ([row, col], 1-based by "
                             "its layout).", f"remove {ORIGIN_KEY}; it applies to a fixation CSV.")
        frame.check_frame_keys(settings["units"], settings["offset"], None, path, csv=False)
        return dict(settings, origin=1, origin_evidence="the .mat layout is 1-based")
    if settings["units"] == "fraction":  # fractions of the image have no origin
        return dict(settings, origin=None, origin_evidence=f"{frame.UNITS_KEY}: fraction")
    outside = (config.get("dataset") or {}).get("fixations_outside", "error")
    table = frame.apply_offset(table, settings["offset"])  # the origin is that of the offset coordinates
    origin, evidence = resolve_origin(table, sizes, path, settings["origin"], outside)
    if settings["origin"] is None:
        log.warning("%s: %s", path, evidence)
    return dict(settings, origin=origin, origin_evidence=evidence)


def select_numbers(fix: pd.DataFrame, numbers: dict, path=None, scene: str = "") -> pd.DataFrame:
    """The fixations whose recorded number (``fix_index``) is in ``numbers`` min..max (inclusive;
    None: no bound). Every fixation must have a whole number when a bound is set."""
    lo, hi = numbers.get("min"), numbers.get("max")
    if lo is None and hi is None:
        return fix
    k = fix["fix_index"].to_numpy(dtype=np.float64)
    if path is not None and not _is_csv(path):
        where = "the .mat field fixN"
    else:
        where = f"the CSV column fix_index (or the column {COLUMNS_KEY}.fix_index names)"
    bad = ~np.isfinite(k) | (k != np.round(k))
    if bad.any():
        first = k[bad][0]
        shown = "none (an empty cell)" if np.isnan(first) else _number(first)
        raise InputError(path, f"scene {scene!r}: {int(bad.sum())} of {len(k)} fixation(s) have no whole fixation "
                         f"number in {where} (e.g. {shown}), but {NUMBERS_KEY} selects by number.",
                         f"give every fixation its number in {where}, or remove {NUMBERS_KEY}.")
    keep = np.ones(len(k), dtype=bool)
    if lo is not None:
        keep &= k >= lo
    if hi is not None:
        keep &= k <= hi
    span = f"{int(k.min())}..{int(k.max())}" if len(k) else "none"
    if len(k) and not keep.any():
        raise InputError(path, f"scene {scene!r}: no fixation is numbered {_span(lo, hi)} (its numbers: {span}).",
                         f"widen {NUMBERS_KEY} (numbers as recorded: the Henderson & Hayes file starts at 2).")
    log.info("%s: scene %r: kept %d of %d fixations numbered %s (numbers in the file: %s; %s)",
             path, scene, int(keep.sum()), len(k), _span(lo, hi), span, NUMBERS_KEY)
    return fix[keep].reset_index(drop=True)


def _number(v: float) -> str:
    """A value for a message: NaN and infinities spelled out, never ``nan``."""
    if np.isnan(v):
        return "NaN"
    return f"{v:g}" if np.isfinite(v) else ("Inf" if v > 0 else "-Inf")


def _span(lo, hi) -> str:
    return f"{'-inf' if lo is None else lo}..{'inf' if hi is None else hi}"


def scene_fixations(path, scene: str, height: int, width: int, *, outside: str = "error",
                    settings: dict | None = None) -> tuple[pd.DataFrame, int]:
    """One scene's fixations exactly as its attention map uses them: loaded (CSV columns mapped),
    1-based (a 0-based CSV shifted by 1), selected by number, then checked against the image size
    (:func:`check_fixations`). Every map made from fixations (attention, noise ceiling, empirical
    centre bias) goes through here or through :func:`study_fixations` (the same steps for every
    scene of one load), with the study's settings: ``study().fixation_settings``
    (:func:`resolve_settings`), which carries the origin decided once for the whole file.

    ``settings``: keys of :data:`DEFAULT_SETTINGS` (``None``: all fixations). Without a decided
    ``origin`` a CSV's origin is decided from this scene's fixations alone (:func:`resolve_origin`).
    Returns ``(table, n_dropped)``; the origin used is in ``table.attrs['origin']``.
    """
    s = _settings(settings)
    fix = load_fixations(path, columns=s["columns"])
    fix = fix[fix["scene"] == scene].reset_index(drop=True)
    return _scene_table(fix, path, scene, height, width, outside, s)


def study_fixations(path, sizes: dict, *, outside: str = "error", settings: dict | None = None):
    """Every scene's fixations from ONE load of the file: yields ``(scene, table, n_dropped)`` for
    each scene of ``sizes`` ({scene: (height, width)}, in that order), each table exactly what
    :func:`scene_fixations` returns for it. A study's rule reads the file once instead of once per
    scene (a per-scene job reading the whole file costs N x N at scale)."""
    groups = fixations_by_scene(path, settings)
    for scene, (height, width) in sizes.items():
        yield (scene, *select_scene_fixations(groups, path, scene, int(height), int(width), outside=outside,
                                              settings=settings))


def fixations_by_scene(path, settings: dict | None = None) -> dict[str, pd.DataFrame]:
    """The fixation file loaded once (CSV columns mapped), cut into {scene: its rows, in file order}."""
    fix = load_fixations(path, columns=_settings(settings)["columns"])
    groups = {str(scene): rows for scene, rows in fix.groupby("scene", sort=False)}
    groups[None] = fix.iloc[:0]  # the rows of a scene the file lacks: none
    return groups


def select_scene_fixations(groups: dict, path, scene: str, height: int, width: int, *, outside: str = "error",
                           settings: dict | None = None) -> tuple[pd.DataFrame, int]:
    """:func:`scene_fixations` of one scene, on the rows :func:`fixations_by_scene` cut."""
    rows = groups.get(scene, groups[None]).reset_index(drop=True)
    rows.attrs["source"] = str(path)
    return _scene_table(rows, path, scene, height, width, outside, _settings(settings))


def _scene_table(fix: pd.DataFrame, path, scene: str, height: int, width: int, outside: str,
                 s: dict) -> tuple[pd.DataFrame, int]:
    """The steps of :func:`scene_fixations` after the load, on the scene's rows ``fix``: the frame
    checks and conversions of :mod:`fixation_frame` around the origin, the selection by number and
    the off-image test."""
    origin, evidence = s["origin"], s["origin_evidence"]
    csv = _is_csv(path)
    frame.check_frame_keys(s["units"], s["offset"], origin if csv else None, path, csv=csv)
    frame.check_has_fixations(fix, scene, path)
    if s["units"] is None:
        frame.check_span(fix, scene, height, width, path, csv=csv)
    if csv and s["units"] == "fraction":
        fix = frame.fraction_to_pixels(fix, height, width)
        origin, evidence = None, f"{frame.UNITS_KEY}: fraction (col = 0.5 + x * {width}, row = 0.5 + y * {height})"
    elif csv:
        fix = frame.apply_offset(fix, s["offset"])
        origin, evidence = (resolve_origin(fix, {scene: (height, width)}, path, origin, outside)
                            if origin is None or evidence is None else (origin, evidence))
        if origin == 0:
            fix = fix.assign(row=fix["row"] + 1.0, col=fix["col"] + 1.0)
    elif origin not in (None, 1):
        raise InputError(path, f"{ORIGIN_KEY} is {origin}, but this is a .mat file (1-based by its layout).",
                         f"remove {ORIGIN_KEY}; it applies to a fixation CSV.")
    else:
        origin, evidence = 1, evidence or "the .mat layout is 1-based"
    log.info("%s: coordinates read %s (%s)", path, "as fractions" if origin is None else f"{origin}-based", evidence)
    fix = select_numbers(fix, s["numbers"], path, scene)
    out, dropped = check_fixations(fix, scene, height, width, path=path, outside=outside, outside_max=s["outside_max"])
    frame.check_kept(len(out), dropped, scene, height, width, path)
    out.attrs["origin"] = origin
    return out, dropped
