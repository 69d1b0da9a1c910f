"""What a data folder holds, and a ``dataset:`` config section for it (``meaningmaps inspect``).

Why: a study downloaded from OSF or a paper's supplement comes in its own layout (scene images,
rating matrices, published maps, an eye-tracking file), and the config keys must point at the right
folders. :func:`inspect_folder` walks the folder (hidden files and folders skipped), looks at each
file's header (image mode and size, .mat variables via ``scipy.io.whosmat``, .npy/.npz shapes, CSV
columns) and suggests where each ``dataset`` key points; :func:`format_inspection` says what it
found, :func:`dataset_section` writes the suggestion as YAML, with what it could not decide left as
commented lines. :func:`describe_download` summarises a downloaded OSF project from its manifest
(for the errors of ``dataset.discover`` when a configured path is not there).

Heuristics: the folder with the most colour images is ``images``; a folder of greyscale images or
2-D arrays whose stems match the images' is a map source (``human`` when its path mentions
"meaning" and there are no rating matrices, else its folder name); a folder of .mat files with a
``rating_matrix`` variable (or CSVs with scale, k, rating) is ``ratings``; a .mat with a struct
array ``D`` with fields sbj, image, loc, dur (Henderson & Hayes 2017) or a CSV with x/y columns is
``fixations``.

A file that cannot be read as its suffix says (a truncated or empty image, a .mat or .npy that does
not parse, a CSV separated by ';' or tabs) is listed as unreadable, with why, and is not used for
a suggestion; unreadable files in the suggested folders are named in a note (the workflow would
refuse them). Images are decoded in full, so a truncated one is found.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import yaml
from PIL import Image, UnidentifiedImageError

from ..config import RESERVED_SOURCES, validate_config
from ..errors import InputError
from .csv_format import OTHER_SEPARATORS, first_lines, other_separator
from .empty_files import not_a_data_file
from .external_maps import GREY_MODES, IMAGE_MAP_SUFFIXES, MAT_NUMERIC, NEAR_GREY_CODES, RGB_MODES, npz_arrays
from .fixations import MAT_FIELDS, load_fixations
from .images import IMAGE_SUFFIXES
from .mat_files import loadmat, whosmat
from .rating_grid import infer_grid
from .rating_matrix import load_rating_matrix

MANIFEST = "manifest.json"
#: A struct in a .mat file larger than this is not opened to read its field names.
MAX_STRUCT_FILE_BYTES = 200 * 2**20
#: Folders listed by :func:`describe_download` before "... and N more".
MAX_LISTED_FOLDERS = 40
#: CSV column names (lower case, matched as regexes in order) for each fixation column of ours.
FIXATION_COLUMNS = {
    "scene": [r"scene", r"image", r"img", r"stimulus", r"stim", r"picture", r"(scene|image|img|stim)\w*name",
              r".*(scene|image|stim).*"],
    "x": [r"x", r"(gaze|fix|pos|position)_?x", r"x_?(pos|position|gaze|fix)", r".*(^|[_ .])x($|[_ .]).*"],
    "y": [r"y", r"(gaze|fix|pos|position)_?y", r"y_?(pos|position|gaze|fix)", r".*(^|[_ .])y($|[_ .]).*"],
    "duration": [r"duration", r"dur", r".*duration.*"],
    "subject": [r"subject", r"sbj", r"subj", r"participant", r"observer", r"recording_session_label",
                r".*(subject|participant).*"],
    "fix_index": [r"fix_index", r"fixn", r"fix_?num", r"fixation_?(index|number)", r".*fix\w*_index"],
}
RATING_CSV_COLUMNS = ("scale", "k", "rating")


@dataclass
class Entry:
    """One file: ``kind`` (see :data:`KINDS`), a one-line ``detail`` and, for images and 2-D maps, (H, W)."""

    path: Path  # relative to the inspected folder
    kind: str
    detail: str
    size: tuple[int, int] | None = None
    #: a fixation CSV's columns: ours -> the file's header name
    columns: dict[str, str] = field(default_factory=dict)
    #: a .npz's arrays or a .mat's 2-D numeric variables when there are several (the map is not guessed)
    arrays: list[str] = field(default_factory=list)


KINDS = {
    "scene image": "colour scene images (.jpg/.jpeg/.png)",
    "grey image": "greyscale images (maps, or greyscale scenes)",
    "near-grey image": "colour images whose channels differ by a few codes (greyscale maps saved as colour?)",
    "array": "2-D arrays (.npy, .npz, a .mat with one 2-D numeric variable)",
    "rating matrix": "rating matrices (.mat, variable rating_matrix)",
    "rating csv": "per-patch rating CSVs (scale, k, rating)",
    "fixations": "fixation files",
    "mat": "other .mat files",
    "other image": "other images",
    "unreadable": "unreadable or broken files (not used for the suggestion)",
    "other": "other files",
}
#: Unreadable files listed per folder (the count says how many there are in all).
MAX_UNREADABLE = 10
MAP_KINDS = ("grey image", "array")


@dataclass
class Inspection:
    """What :func:`inspect_folder` found, and the ``dataset`` keys it suggests (paths relative to ``root``)."""

    root: Path
    entries: list[Entry]
    images: Path | None = None
    ratings: Path | None = None
    maps: dict[str, Path] = field(default_factory=dict)
    fixations: Path | None = None
    fixation_columns: dict[str, str] = field(default_factory=dict)
    #: what the suggestion could not decide, as "key: what to fill in"
    notes: list[str] = field(default_factory=list)
    #: the patch grid of the rating matrices (rating_grid.infer_grid), and the file it was read from
    patches: dict | None = None
    patches_from: Path | None = None

    def folders(self, *kinds) -> dict[Path, list[Entry]]:
        """Entries of ``kinds``, grouped by their folder (sorted)."""
        out: dict[Path, list[Entry]] = {}
        for e in self.entries:
            if e.kind in kinds:
                out.setdefault(e.path.parent, []).append(e)
        return dict(sorted(out.items()))

    def scene_stems(self) -> set[str]:
        """Stems of every image in the suggested images folder."""
        return {e.path.stem for e in self.entries if self.images is not None and e.path.parent == self.images
                and e.path.suffix.lower() in IMAGE_SUFFIXES}


# --------------------------------------------------------------------------- download manifests


def download_folder(path) -> Path | None:
    """The nearest folder above ``path`` that holds an OSF download's ``manifest.json`` (osf.py), or None."""
    for parent in Path(path).parents:
        if (parent / MANIFEST).is_file():
            return parent
    return None


def describe_download(folder) -> str:
    """A downloaded OSF project's folders, from its manifest: per folder the file count and types,
    e.g. ``maps/meaning/  40 files (.png)``."""
    manifest = Path(folder) / MANIFEST
    try:
        data = json.loads(manifest.read_text())
        paths = [str(e["path"]) for e in data["files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(manifest, f"is not a readable download manifest ({type(exc).__name__}: {exc}).",
                         "download the project again (download.enabled: true), or delete the file.") from exc
    groups: dict[str, Counter] = {}
    for rel in paths:
        p = PurePosixPath(rel)
        where = "./" if str(p.parent) == "." else f"{p.parent}/"
        groups.setdefault(where, Counter())[p.suffix.lower() or "(no suffix)"] += 1
    head = f"{folder} (OSF project {data.get('node', '?')}): {_files(len(paths))}"
    if not groups:
        return head + " (none listed)"
    width = max(len(k) for k in groups)
    lines = [f"  {where:<{width}}  {_files(sum(c.values()))} ({_types(c)})"
             for where, c in sorted(groups.items())[:MAX_LISTED_FOLDERS]]
    if len(groups) > MAX_LISTED_FOLDERS:
        lines.append(f"  ... and {len(groups) - MAX_LISTED_FOLDERS} more folders")
    return "\n".join([head + ":", *lines])


def _files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"


def _types(counts: Counter) -> str:
    """``.png`` for one type, ``.jpg 38, .png 2`` for several."""
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{s} {n}" for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# --------------------------------------------------------------------------- one file


def _image_entry(path: Path, rel: Path) -> Entry:
    """An image: colour or greyscale by its mode, and for RGB by whether its channels are equal
    (as ``external_maps.load_map`` decides), so the pixels are decoded."""
    why = not_a_data_file(path)
    if why:
        return Entry(rel, "unreadable", why.removeprefix("is "))
    try:
        with Image.open(path) as im:
            w, h = im.size
            mode = im.mode
            im.load()  # the whole file decodes: a truncated image is unreadable, whatever its mode
            if mode in RGB_MODES:
                rgb = np.asarray(im.convert("RGB"), dtype=np.int16)
                spread = int(max(np.abs(rgb[..., 0] - rgb[..., 1]).max(), np.abs(rgb[..., 0] - rgb[..., 2]).max()))
            else:
                spread = None
    except UnidentifiedImageError:
        return Entry(rel, "unreadable", "not an image file (no image format recognised)")
    except (OSError, SyntaxError, ValueError) as exc:
        return Entry(rel, "unreadable", f"not a readable image ({exc})")
    detail = f"{w}x{h} {mode}"
    suffix = path.suffix.lower()
    if mode in GREY_MODES or spread == 0:
        return Entry(rel, "grey image", detail + (" (channels equal)" if spread == 0 else ""), (h, w))
    if spread is not None and spread <= NEAR_GREY_CODES:
        return Entry(rel, "near-grey image", f"{detail}, channels differ by at most {spread} codes", (h, w))
    if spread is not None and suffix in IMAGE_SUFFIXES:
        return Entry(rel, "scene image", detail, (h, w))
    return Entry(rel, "other image", detail, (h, w))


def _mat_entry(path: Path, rel: Path) -> Entry:
    """A .mat file's variables (whosmat); a struct's fields are read only to spot a fixation file."""
    why = not_a_data_file(path)
    if why:
        return Entry(rel, "unreadable", why.removeprefix("is "))
    try:
        variables = whosmat(path)  # v5 or v7.3
    except InputError as exc:  # a v7.3 header on a file that is not HDF5: listed, with what to do
        return Entry(rel, "unreadable", f"unreadable: {exc.problem}" + (f" Fix: {exc.fix}" if exc.fix else ""))
    except Exception as exc:  # noqa: BLE001 -- any parse failure: reported, not raised
        return Entry(rel, "unreadable", f"not a readable .mat file ({type(exc).__name__}: {exc})")
    listing = ", ".join(f"{n} {'x'.join(map(str, s))} {c}" for n, s, c in variables) or "no variables"
    names = {n for n, _, _ in variables}
    if "rating_matrix" in names:
        return Entry(rel, "rating matrix", listing)
    for name, shape, cls in variables:
        if cls == "struct" and path.stat().st_size <= MAX_STRUCT_FILE_BYTES:
            fields = _struct_fields(path, name)
            if "loc" in fields and ({"dur", "fixN"} & set(fields)):
                ok = name == "D" and all(f in fields for f in MAT_FIELDS)
                why = ("Henderson & Hayes layout" if ok else
                       f"not the Henderson & Hayes layout the workflow reads: it needs a struct array D with fields "
                       f"{', '.join(MAT_FIELDS)}")
                return Entry(rel, "fixations" if ok else "mat",
                             f"struct {name} {'x'.join(map(str, shape))} with fields {', '.join(fields)} ({why})")
    maps = [(n, s) for n, s, c in variables if c in MAT_NUMERIC and len(s) == 2 and min(s) > 1]
    if len(maps) == 1:
        return Entry(rel, "array", listing, tuple(int(v) for v in maps[0][1]))
    if len(maps) > 1 and len({tuple(s) for _, s in maps}) == 1:  # maps of one size: which one is not guessed
        return Entry(rel, "array", listing, tuple(int(v) for v in maps[0][1]), arrays=[n for n, _ in maps])
    return Entry(rel, "mat", listing)


def _struct_fields(path: Path, name: str) -> list[str]:
    try:
        value = loadmat(path, variable_names=[name])[name]
    except Exception:  # noqa: BLE001 -- a struct that does not load is just not a fixation file
        return []
    return list(value.dtype.names or []) if isinstance(value, np.ndarray) else []


def _array_entry(path: Path, rel: Path) -> Entry:
    """A .npy or .npz: shapes and dtypes from the headers (external_maps reads them the same way)."""
    why = not_a_data_file(path)
    if why:
        return Entry(rel, "unreadable", why.removeprefix("is "))
    try:
        if path.suffix.lower() == ".npy":
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
            found = {"": (tuple(arr.shape), str(arr.dtype))}
        else:
            found = npz_arrays(path)
    except InputError as exc:
        return Entry(rel, "unreadable", f"not a readable array file ({exc.problem})")
    except (ValueError, OSError, EOFError) as exc:
        return Entry(rel, "unreadable", f"not a readable array file ({exc})")
    listing = ", ".join(f"{n + ' ' if n else ''}{'x'.join(map(str, s))} {d}" for n, (s, d) in found.items())
    two_d = [s for s, d in found.values() if len(s) == 2 and d != "object"]
    if len(found) == 1 and two_d:
        return Entry(rel, "array", listing, two_d[0])
    if len(found) > 1 and two_d:
        return Entry(rel, "array", listing, arrays=list(found))
    return Entry(rel, "other", listing)


def _csv_entry(path: Path, rel: Path) -> Entry:
    """A CSV's columns: per-patch ratings, fixations (x/y-like columns), or other."""
    why = not_a_data_file(path)
    if why:
        return Entry(rel, "unreadable", why.removeprefix("is "))
    sep = other_separator(path)
    if sep is not None:
        names = ", ".join(c.strip() for c in first_lines(path, 1)[0].split(sep)[:8])
        return Entry(rel, "unreadable", f"separated by {OTHER_SEPARATORS[sep]}, not commas (columns {names}): save it "
                     "comma-separated, with '.' as the decimal point")
    try:
        head = pd.read_csv(path, nrows=20)
    except Exception as exc:  # noqa: BLE001 -- any parse failure: reported, not raised
        return Entry(rel, "unreadable", f"not a readable CSV ({type(exc).__name__}: {exc})")
    names = [str(c) for c in head.columns]
    lower = {n.strip().lower(): n for n in names}
    listing = "columns " + ", ".join(names)
    if all(c in lower for c in RATING_CSV_COLUMNS):
        return Entry(rel, "rating csv", listing)
    columns = fixation_columns(names)
    if "x" in columns and "y" in columns:
        return Entry(rel, "fixations", listing, columns=columns)
    return Entry(rel, "other", listing)


def fixation_columns(names) -> dict[str, str]:
    """Our fixation column -> the header name that looks like it (first pattern that matches wins;
    one header name serves one column)."""
    used: set[str] = set()
    out = {}
    for ours, patterns in FIXATION_COLUMNS.items():
        for pattern in patterns:
            hit = next((n for n in names if n not in used and re.fullmatch(pattern, n.strip().lower())), None)
            if hit is not None:
                out[ours] = hit
                used.add(hit)
                break
    return out


def inspect_file(path, rel) -> Entry:
    """One file's :class:`Entry`, by its suffix."""
    path, rel = Path(path), Path(rel)
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES or suffix in IMAGE_MAP_SUFFIXES:
        return _image_entry(path, rel)
    if suffix == ".mat":
        return _mat_entry(path, rel)
    if suffix in (".npy", ".npz"):
        return _array_entry(path, rel)
    if suffix == ".csv":
        return _csv_entry(path, rel)
    return Entry(rel, "other", suffix or "(no suffix)")


# --------------------------------------------------------------------------- the folder


def inspect_folder(folder) -> Inspection:
    """Every file under ``folder`` (hidden ones skipped) described, and the ``dataset`` keys suggested."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(root, "is not a folder.", "give the folder the study's files were downloaded to.")
    entries = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        entries.append(inspect_file(path, rel))
    insp = Inspection(root, entries)
    _suggest(insp)
    return insp


def _suggest(insp: Inspection) -> None:
    """Fill the suggested keys of ``insp`` (the module docstring's heuristics)."""
    colour = insp.folders("scene image")
    if colour:
        every = insp.folders("scene image", "grey image", "near-grey image")
        insp.images = max(colour, key=lambda f: (len(every[f]), _name_hint(f), str(f)))
        others = [f"{f.as_posix()}/" for f in colour if f != insp.images]
        if others:
            insp.notes.append(f"images: {insp.images.as_posix()}/ was taken (the most images); {', '.join(others)} "
                              "also hold colour images (colour-mapped maps cannot be maps: export them greyscale)")
    else:
        insp.notes.append("images: no folder of colour .jpg/.jpeg/.png scene images was found")
    ratings = insp.folders("rating matrix", "rating csv")
    if ratings:
        insp.ratings = max(ratings, key=lambda f: (len(ratings[f]), str(f)))
        _suggest_patches(insp, [e.path for e in ratings[insp.ratings] if e.kind == "rating matrix"])
    fixations = [e for e in insp.entries if e.kind == "fixations"]
    if fixations:
        insp.fixations = fixations[0].path
        insp.fixation_columns = {k: v for k, v in fixations[0].columns.items() if k != v.strip().lower()}
        if len(fixations) > 1:
            insp.notes.append(f"fixations: {len(fixations)} fixation files; the first was taken")
    stems = insp.scene_stems()
    if stems and insp.fixations is not None:
        _compare_fixation_scenes(insp, stems)
    for folder, found in insp.folders(*MAP_KINDS).items():
        if folder == insp.images or folder == insp.ratings:
            continue
        if stems and not stems & {e.path.stem for e in found}:
            continue  # maps of other scenes
        name = _map_name(folder, insp)
        insp.maps[name] = folder
        several = next((e.arrays for e in found if e.arrays), None)
        if several:
            insp.notes.append(f"maps.{name}: its files hold several arrays ({', '.join(several)}): write it as "
                              f"{{folder: ..., variable: <the one that is the map>}}")
    _note_unreadable(insp)
    for folder in insp.folders("near-grey image"):
        insp.notes.append(f"maps: {folder.as_posix()}/ holds colour images with nearly equal channels (greyscale "
                          "maps saved as colour?): they are refused; export them as greyscale PNG/TIFF or .npy")


def _note_unreadable(insp: Inspection) -> None:
    """A note per suggested folder that holds unreadable files of its kind (the workflow refuses them),
    and one for the rest: a few of them named, with why (format_inspection lists them all)."""
    used = {"images": insp.images, "ratings": insp.ratings, **{f"maps.{n}": f for n, f in insp.maps.items()}}
    for key, folder in used.items():
        broken = [e for e in insp.folders("unreadable").get(folder, [])
                  if not (key == "images" and e.path.suffix.lower() not in IMAGE_SUFFIXES)]
        if broken:
            insp.notes.append(f"{key}: {len(broken)} file(s) in {folder.as_posix()}/ cannot be read, so the workflow "
                              f"would refuse them: {_listed(broken)}; replace them, or leave their scenes out with "
                              "dataset.scenes")
    rest = [e for e in insp.entries if e.kind == "unreadable" and e.path.parent not in used.values()]
    if rest:
        insp.notes.append(f"unreadable: {len(rest)} other file(s) cannot be read and were not used: {_listed(rest)}")


def _listed(entries: list[Entry], n: int = 3) -> str:
    shown = "; ".join(f"{e.path.as_posix()}: {e.detail}" for e in entries[:n])
    return shown + (f"; and {len(entries) - n} more" if len(entries) > n else "")


def _name_hint(folder: Path) -> int:
    """+1 for a folder named like scene images, -1 for one named like maps (breaks ties)."""
    text = folder.as_posix().lower()
    scenes = re.search(r"image|img|stim|scene|photo|picture", text)
    return int(bool(scenes)) - int(bool(re.search(r"map|sal|jet", text)))


def _compare_fixation_scenes(insp: Inspection, stems: set[str]) -> None:
    """A note when the fixation file's scenes are not the images' (dataset.discover would refuse it)."""
    try:
        table = load_fixations(insp.root / insp.fixations, columns=insp.fixation_columns or None)
    except InputError as exc:
        insp.notes.append(f"fixations: {exc}")
        return
    scenes = set(table["scene"].astype(str))
    if scenes != stems:
        others = sorted(scenes - stems)
        shown = f" (not among them: {', '.join(others[:5])}{' ...' if len(others) > 5 else ''})" if others else ""
        insp.notes.append(f"fixations: {len(scenes & stems)} of its {len(scenes)} scenes are among the "
                          f"{len(stems)} scene images{shown}: list the scenes to use under dataset.scenes")


def _map_name(folder: Path, insp: Inspection) -> str:
    """``human`` for published meaning maps (no ratings), else the folder name as a valid source name."""
    if "meaning" in folder.as_posix().lower() and insp.ratings is None and "human" not in insp.maps:
        return "human"
    name = re.sub(r"[^A-Za-z0-9_-]", "_", folder.name or "maps")
    if not name[0].isalpha():
        name = f"maps_{name}"
    if name in RESERVED_SOURCES:
        name = f"{name}_maps"
    base, n = name, 2
    while name in insp.maps:
        name, n = f"{base}_{n}", n + 1
    return name


# --------------------------------------------------------------------------- reports


def format_inspection(insp: Inspection) -> str:
    """A human-readable report: per kind, each folder with its file count, types, sizes and, for
    maps, whether their stems match the scene images'."""
    stems = insp.scene_stems()
    lines = [f"{insp.root}: {_files(len(insp.entries))}"]
    for kind, title in KINDS.items():
        groups = insp.folders(kind)
        if not groups:
            continue
        lines.append(f"\n{title}:")
        for folder, found in groups.items():
            where = "./" if str(folder) == "." else f"{folder.as_posix()}/"
            types = _types(Counter(e.path.suffix.lower() or "(no suffix)" for e in found))
            extra = _sizes(found)
            if folder == insp.images and kind in ("grey image", "near-grey image"):
                extra.append("greyscale scenes of the images folder")
            elif kind in (*MAP_KINDS, "near-grey image") and stems:
                extra.append(_stem_match({e.path.stem for e in found}, stems))
            lines.append(f"  {where}  {_files(len(found))} ({types}){_join(extra)}")
            if kind in ("fixations", "mat", "rating matrix", "array", "near-grey image", "unreadable"):
                listed = MAX_UNREADABLE if kind == "unreadable" else 3
                lines += [f"    {e.path.name}: {e.detail}" for e in found[:listed]]
                if len(found) > listed:
                    lines.append(f"    ... and {len(found) - listed} more")
    lines.append("\nsuggested dataset keys:")
    lines.append(f"  images: {_rel(insp.images)}")
    lines.append(f"  ratings: {_rel(insp.ratings)}")
    lines.append(f"  fixations: {_rel(insp.fixations)}"
                 + (f" (columns {insp.fixation_columns})" if insp.fixation_columns else ""))
    lines += [f"  maps.{n}: {_rel(f)}" for n, f in insp.maps.items()] or ["  maps: none"]
    lines += [f"  note: {n}" for n in insp.notes]
    return "\n".join(lines) + "\n"


def _sizes(found: list[Entry]) -> list[str]:
    sizes = Counter(f"{e.size[1]}x{e.size[0]}" for e in found if e.size)
    if not sizes:
        return []
    return [", ".join(f"{s} ({n})" if len(sizes) > 1 else s for s, n in sizes.most_common(4))
            + (" ..." if len(sizes) > 4 else "") + " (WxH)"]


def _stem_match(have: set[str], stems: set[str]) -> str:
    common = len(have & stems)
    if have == stems:
        return f"stems match all {len(stems)} scene images"
    return f"stems: {common} of {len(have)} match the {len(stems)} scene images"


def _join(parts: list[str]) -> str:
    return "".join(f"; {p}" for p in parts)


def _rel(path: Path | None) -> str:
    return "not found" if path is None else f"{path.as_posix()}"


def dataset_section(insp: Inspection, folder) -> str:
    """The suggested ``dataset:`` section as YAML (paths under ``folder`` as given); keys it could not
    fill are commented lines saying what to put there. With rating matrices, a ``patches:`` section
    follows: the grid that covers them (:func:`patches_section`)."""
    def path(rel: Path) -> str:
        return _scalar((Path(folder) / rel).as_posix() if str(rel) != "." else Path(folder).as_posix())

    lines = [f"# written by `meaningmaps inspect {folder}`: check it, then put it in your config.", "dataset:"]
    lines.append(f"  images: {path(insp.images)}" if insp.images is not None
                 else "  # images: <folder of <scene>.jpg|jpeg|png scene images>  (none found)")
    if insp.ratings is not None:
        lines.append(f"  ratings: {path(insp.ratings)}")
    else:
        lines.append("  # ratings: <folder of <scene>.mat rating matrices or <scene>.csv ratings>  (none found; "
                     "without them the human meaning maps come from dataset.maps.human)")
    if insp.fixations is not None:
        lines.append(f"  fixations: {path(insp.fixations)}")
        if insp.fixations.suffix.lower() == ".csv":
            origin = ("origin: 0  # or 1: where x/y count from (0: pixel centres 0..W-1, most eye trackers; "
                      "1: MATLAB). Unset: decided only when the coordinates prove it")
            if insp.fixation_columns:
                cols = ", ".join(f"{k}: {_scalar(v)}" for k, v in insp.fixation_columns.items())
                lines += ["  fixation_csv:", f"    columns: {{{cols}}}", f"    # {origin}"]
            else:
                lines.append(f"  # fixation_csv: {{{origin.replace('  #', '}  #', 1)}")
            if "scene" not in _fixation_entry(insp).columns:
                lines.append("  # fixation_csv.columns.scene: <the CSV column with the scene's image name>  "
                             "(none found)")
    else:
        lines.append("  # fixations: <a .mat file (Henderson & Hayes layout) or a .csv of scene, x, y>  (none found)")
    if insp.maps:
        lines.append("  maps:")
        lines += [f"    {name}: {path(rel)}" for name, rel in insp.maps.items()]
    else:
        lines.append("  # maps: {<name>: <folder of <scene> maps made elsewhere>}  (none found)")
    lines += [f"  # note: {n}" for n in insp.notes]
    return "\n".join(lines) + "\n" + patches_section(insp)


def _suggest_patches(insp: Inspection, matrices: list[Path]) -> None:
    """``patches.*``: the grid that covers the first rating matrix (``rating_grid.infer_grid``)."""
    if not matrices:
        return
    first = sorted(matrices)[0]
    try:
        grid = infer_grid(load_rating_matrix(insp.root / first))
    except InputError as exc:
        insp.notes.append(f"patches: {first.as_posix()} cannot be read ({exc.problem})")
        return
    if grid is None:
        insp.notes.append(f"patches: the rating counts of {first.as_posix()} fit no toolkit patch grid; set patches.* "
                          "to the grid the raters rated")
        return
    insp.patches, insp.patches_from = grid, first


def patches_section(insp: Inspection) -> str:
    """The suggested ``patches:`` section (the grid of the rating matrices), or "" without one."""
    if insp.patches is None:
        return ""
    defaults = validate_config({}, "the defaults")["patches"]  # the toolkit's N, when it gives this grid
    per = {s.ratings_per_patch for s in insp.patches.values()}
    lines = [f"patches:  # the grid that covers {insp.patches_from.as_posix()} ({'/'.join(map(str, sorted(per)))} "
             "ratings per patch), read from its rating counts"]
    for name, s in insp.patches.items():
        same = []
        if s.n_max > s.n:
            same.append(f"N {s.n}-{s.n_max}")
        if s.diameter_max > s.diameter:
            same.append(f"diameter {s.diameter}-{s.diameter_max} px")
        note = f"  # {' and '.join(same)} give the same patches" if same else ""
        n = defaults[name]["n"] if s.n <= defaults[name]["n"] <= s.n_max else s.n
        lines.append(f"  {name}: {{n: {n}, diameter_px: {s.diameter}}}{note}")
    return "\n".join(lines) + "\n"


def _fixation_entry(insp: Inspection) -> Entry:
    return next(e for e in insp.entries if e.path == insp.fixations)


def _scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when YAML reads it back unchanged, else double-quoted."""
    try:
        if yaml.safe_load(text) == text and "#" not in text and not text.endswith(" "):
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text)
