"""Which scenes a study has, where each source's file for a scene is, and each scene's size.

Run at workflow start-up (cheap: file names and image headers only), so a scene that is in one
source and not in another fails in the first second, naming both.

The scene list is ``dataset.scenes`` when given; else the scene images; else the rating files;
else the scenes that have fixations and a map in every map source; else the fixation scenes.
Every other source present must then have exactly these scenes (unless ``dataset.scenes`` picks a
subset, when extra scenes elsewhere are ignored).

The fixation file is read once here, with ``dataset.fixation_csv.columns`` applied, and a CSV's
coordinate origin is decided here for the whole file (``Study.fixation_settings``, which every rule
that reads fixations passes to ``fixations.scene_fixations``).

Every refusal names the folder or file, what it holds (a few of its names) and the fix: a folder
with no scene files says which files it does hold, and names the scene files in its sub-folders
(a scene folder is not searched below its top level: :func:`scan_folder`); a source that lacks
scenes lists a few of the names it has beside them.

A configured path that does not exist but lies inside a downloaded OSF project (a folder above it
holds the download's ``manifest.json``) is refused with what the download holds, per folder
(``inspection.describe_download``), and the config key to set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..file_facts import remembered
from .external_maps import MAP_SUFFIXES, map_size, map_source_settings
from .fixations import fixation_settings, load_fixations, resolve_settings
from .images import IMAGE_SUFFIXES, image_size

SCENE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.+-]*"
RATING_SUFFIXES = (".mat", ".csv")


@dataclass
class Study:
    scenes: list[str]
    images: dict[str, Path] = field(default_factory=dict)
    ratings: dict[str, Path] = field(default_factory=dict)
    maps: dict[str, dict[str, Path]] = field(default_factory=dict)
    fixations: Path | None = None
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: dataset.maps source -> {folder, transform, resize, variable} (external_maps.map_source_settings)
    map_settings: dict[str, dict] = field(default_factory=dict)
    #: what scene_fixations reads every scene with (fixations.resolve_settings); {} without fixations
    fixation_settings: dict = field(default_factory=dict)

    @property
    def rating_sources(self) -> list[str]:
        """Sources whose maps are built from per-patch ratings by the toolkit's builder."""
        return ["human"] if self.ratings else []


def missing_path(path, what: str, key: str) -> InputError:
    """The error for a configured ``path`` (config ``key``) that does not exist; inside a downloaded
    OSF project it lists the download's folders, so the key can be pointed at the right one."""
    # here, not at the top: inspection reads rating matrices (scipy), which discover() at every
    # Snakefile parse does without; only this error needs it
    from .inspection import dataset_section, describe_download, download_folder, inspect_folder

    download = download_folder(path)
    try:
        listing = describe_download(download) if download is not None else None
    except InputError:  # a broken manifest: the missing path is still the problem to report
        listing = None
    if listing is None:
        return InputError(path, f"{what} does not exist.", f"create it or fix {key} in the config.")
    try:  # what `meaningmaps inspect` would print for the download: a dataset section to paste
        section = "\n" + dataset_section(inspect_folder(download), download) + "\n"
    except Exception:  # noqa: BLE001 -- the listing above still says what the download holds
        section = f" (`meaningmaps inspect {download}` writes one)"
    return InputError(path, f"{what} does not exist. It lies inside the OSF download {listing}\n",
                      f"set {key} to the download's folder (or file) that holds them, e.g. {key}: "
                      f"{download}/<folder>; the dataset: section `meaningmaps inspect {download}` suggests "
                      f"for the download is{section}")


#: Names listed in a message (the count says how many there are in all).
MAX_NAMES = 5


def scan_folder(folder, suffixes, what: str, key: str | None = None) -> dict[str, Path]:
    """Scene stem -> file for every file with one of ``suffixes`` (case-insensitive) in ``folder``
    itself (not its sub-folders: one folder holds a source's scenes); ``key``: the config key that
    names the folder, for the messages."""
    folder = Path(folder)
    key = key or f"the dataset key for {what}"
    if not folder.is_dir():
        if folder.is_file():
            raise InputError(folder, f"is a file, but {key} names the folder of the {what} files.",
                             f"set {key} to the folder that holds them ({folder.parent}?).")
        raise missing_path(folder, f"{what} folder", key)
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in suffixes:
            continue
        if path.is_dir():
            raise InputError(path, f"is a folder named like a {what} file; the {what} files of {key} lie in its "
                             "top level, one per scene.",
                             f"rename or move the folder out of {folder}; if it holds the {what} files, set {key} "
                             f"to {path}.")
        stem = path.stem
        if not re.fullmatch(SCENE_PATTERN, stem):
            raise InputError(path, f"scene name {stem!r} has characters outside {SCENE_PATTERN}.",
                             "rename the file (letters, digits, '_', '-', '.', '+').")
        if stem in found:
            raise InputError(path, f"scene {stem!r} has two {what} files ({found[stem].name}, {path.name}).",
                             "keep one file per scene.")
        found[stem] = path
    if not found:
        raise empty_folder(folder, suffixes, what, key)
    return found


def empty_folder(folder: Path, suffixes, what: str, key: str) -> InputError:
    """The error for a scene folder without scene files at its top level: what it holds instead,
    and the scene files in its sub-folders (a few, and how many)."""
    top = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir() if not p.name.startswith("."))
    below = sorted(p.relative_to(folder) for p in folder.rglob("*")
                   if p.suffix.lower() in suffixes and len(p.relative_to(folder).parts) > 1
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts) and p.is_file())
    holds = (f"it holds {_some(top)}" if top else "it is empty")
    problem = f"holds no {what} files ({', '.join(suffixes)}) at its top level: {holds}."
    if below:
        folders = sorted({p.parent.as_posix() for p in below})
        problem += (f" Its sub-folders hold {len(below)} {what} file(s), e.g. "
                    f"{', '.join(p.as_posix() for p in below[:MAX_NAMES])}; sub-folders are not searched.")
        if len(folders) == 1:
            fix = f"set {key} to {folder / folders[0]}."
        else:
            fix = (f"move the {what} files of the study into one folder and set {key} to it (they are in "
                   f"{len(folders)} sub-folders: {_some(folders)}).")
    else:
        fix = f"put the study's {what} files (<scene>{'|'.join(suffixes)}) in it, or set {key} to the folder that holds them."
    return InputError(folder, problem, fix)


def _some(names) -> str:
    """A few names and how many there are: ``a, b, c and 7 more``."""
    names = [str(n) for n in names]
    more = f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else ""
    return ", ".join(names[:MAX_NAMES]) + more


def discover(config: dict) -> Study:
    ds = config["dataset"]
    if ds.get("ratings") and "human" in (ds.get("maps") or {}):
        raise InputError("dataset.ratings and dataset.maps.human", "both give the human meaning maps (rating "
                         "matrices make them, and dataset.maps.human supplies them as files): choose one source "
                         "for the human maps.", "remove dataset.maps.human to build them from the ratings, or "
                         "remove dataset.ratings to take the published maps; to compare both, rename the maps "
                         "source (e.g. dataset.maps.published).")
    sources: dict[str, set[str]] = {}
    images = scan_folder(ds["images"], IMAGE_SUFFIXES, "scene image", "dataset.images") if ds.get("images") else {}
    ratings = scan_folder(ds["ratings"], RATING_SUFFIXES, "rating", "dataset.ratings") if ds.get("ratings") else {}
    map_settings = map_source_settings(ds.get("maps"))
    maps = {name: scan_folder(m["folder"], MAP_SUFFIXES, f"map ({name})", _map_key(name, ds))
            for name, m in map_settings.items()}
    fixations = Path(ds["fixations"]) if ds.get("fixations") else None
    if fixations is not None and not fixations.exists():
        raise missing_path(fixations, "fixations file", "dataset.fixations")
    fix_table = None
    if fixations is not None:
        fix_table = load_fixations(fixations, columns=fixation_settings(config)["columns"])
    if images:
        sources["images"] = set(images)
    if ratings:
        sources["ratings"] = set(ratings)
    for name, found in maps.items():
        sources[f"maps.{name}"] = set(found)
    if fix_table is not None:
        sources["fixations"] = set(fix_table["scene"].astype(str).unique())
    if not sources:
        raise InputError(None, "the config names no data: dataset.images, ratings, fixations and maps are all "
                         "unset.", "set dataset.images (a folder of <scene>.jpg|png), and ratings, fixations or maps "
                         "as the study has them; `meaningmaps inspect <folder>` suggests them for a data folder.")

    strict = True
    if ds.get("scenes"):
        scenes, defining, strict = list(ds["scenes"]), "dataset.scenes", False
    elif images:
        scenes, defining = sorted(images), "images"
    elif ratings:
        scenes, defining = sorted(ratings), "ratings"
    elif maps and fixations is not None:
        common = set.intersection(*(sources[s] for s in sources))
        scenes, defining, strict = sorted(common), "fixations and maps", False
    else:
        scenes, defining = sorted(set.union(*sources.values())), next(iter(sources))
    if not scenes:
        have = "; ".join(f"{name} has {len(sources[name])} (e.g. {_some(sorted(sources[name]))})" for name in sources)
        raise InputError(None, f"no scene is common to {', '.join(sources)}: {have}.",
                         "give the sources the same scene names (the image file stems), or list the scenes "
                         "to use under dataset.scenes.")
    for scene in scenes:
        if not re.fullmatch(SCENE_PATTERN, scene):
            where = "dataset.scenes" if defining == "dataset.scenes" else fixations
            raise InputError(where, f"scene name {scene!r} has characters outside {SCENE_PATTERN} (a scene name "
                             "becomes a file name under results, so '/' and '..' are not allowed).",
                             "use the scene image's file stem (letters, digits, '_', '-', '.', '+'), in "
                             "dataset.scenes or the fixation file's scene column.")
    check_same_scenes(scenes, defining, sources, strict, ds)

    study = Study(scenes, images, ratings, maps, fixations, map_settings=map_settings)
    study.sizes = {s: scene_size(s, study, ds.get("size")) for s in scenes}
    if fix_table is not None:
        study.fixation_settings = resolve_settings(config, fixations, fix_table, study.sizes)
    return study


def check_same_scenes(scenes, defining, sources, strict, ds) -> None:
    want = set(scenes)
    for name, have in sources.items():
        missing = sorted(want - have)
        if missing:
            raise InputError(_source_path(name, ds),
                             f"lacks {len(missing)} scene(s) that {defining} has: {', '.join(missing[:10])}"
                             f"{' ...' if len(missing) > 10 else ''}; {_names_it_has(name, have, want)}.",
                             "give its scenes the names of the scene images' file stems (a scene is its image's "
                             "file stem), add the missing ones, or list the scenes to use under dataset.scenes.")
        extra = sorted(have - want)
        if strict and extra:
            below = _images_below(ds, extra) if defining == "images" else ""
            raise InputError(_source_path(name, ds),
                             f"has {len(extra)} scene(s) that {defining} lacks: {', '.join(extra[:10])}"
                             f"{' ...' if len(extra) > 10 else ''}{below}.",
                             "add them there too, or list the scenes to use under dataset.scenes.")


def _images_below(ds: dict, scenes: list[str]) -> str:
    """``; ... are images in sub-folders of dataset.images`` when some of ``scenes`` are (sub-folders are
    not searched), else ''."""
    folder = Path(ds["images"])
    wanted = set(scenes)
    found = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.stem in wanted and p.suffix.lower() in IMAGE_SUFFIXES and p.parent != folder and p.is_file())
    if not found:
        return ""
    return (f" ({_some(found)} {'are images' if len(found) > 1 else 'is an image'} in a sub-folder of "
            f"dataset.images, which is not searched: move {'them' if len(found) > 1 else 'it'} up into {folder})")


def _names_it_has(name: str, have: set[str], want: set[str]) -> str:
    """What a source that lacks scenes has instead: its other names first (a few), for the message."""
    if not have:
        return "it has no scenes at all" + (" (no fixation rows)" if name == "fixations" else "")
    other = sorted(have - want)
    read = " (as read: folder prefixes and image extensions removed)" if name == "fixations" else ""
    if other:
        return f"its {len(have)} scene name(s){read} include {len(other)} that {'are' if len(other) > 1 else 'is'} " \
               f"not a scene of the study: {_some(other)}"
    return f"it has {len(have)} scene(s){read}: {_some(sorted(have))}"


def _map_key(name: str, ds: dict) -> str:
    """The config key of a map source's folder."""
    return f"dataset.maps.{name}" + (".folder" if isinstance(ds["maps"][name], dict) else "")


def _source_path(name: str, ds: dict):
    if name.startswith("maps."):
        return map_source_settings(ds["maps"])[name[5:]]["folder"]
    return ds[name]


def scene_size(scene: str, study: Study, fallback) -> tuple[int, int]:
    """(height, width): from the image, else a map of a source that is not resized, else
    ``dataset.size`` ([width, height]). A ``resize: true`` source never sets the size: it is the
    one whose maps may be of another size."""
    if scene in study.images:
        path = study.images[scene]
        return tuple(remembered("image_size", path, lambda: list(image_size(path))))
    for name, found in study.maps.items():
        settings = study.map_settings.get(name, {})
        if scene in found and not settings.get("resize"):
            path, variable = found[scene], settings.get("variable")
            return tuple(remembered(f"map_size:{variable}", path,
                                    lambda p=path, v=variable, n=name: list(map_size(p, variable=v, source=n))))
    if fallback:
        return int(fallback[1]), int(fallback[0])
    raise InputError(None, f"scene {scene!r} has no image or map to take its size from (maps with resize: true "
                     "do not give one).", "set dataset.images, or dataset.size: [width, height].")
