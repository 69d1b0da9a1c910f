"""The study's input files, checked up front with the very loaders of the jobs they feed.

Why: the content checks live in the per-scene jobs (patches, human ratings, attention, imported
maps), which start one after another, so a bad file used to stop the run only after other scenes'
jobs (and, on the full study, GPU jobs) had run. Now (rules/checks.smk) rule ``check_scenes`` runs
:func:`check_scene_files` on one scene's image, ratings and maps and records the problems instead
of failing; checkpoint ``check_inputs`` checks every scene's fixations (:func:`check_fixation_file`,
one file for all scenes) and writes the :func:`verdict` of all of them; the first job of every
scene chain waits for it, and when it found problems depends on rule ``refuse_inputs``, which
fails with one error listing them (:func:`refusal`), so no scene's job starts.

Each check calls the function its job calls, with the job's arguments, so the check and the job
cannot disagree:

=========  ===========================================  =========================================
kind       the job it guards (script)                   what it calls
=========  ===========================================  =========================================
image      patches (scripts/patches.py)                 ``images.load_rgb``, then the grid
                                                        coverage test of
                                                        ``patch_files.write_scene_patches``
                                                        (a scene smaller than a patch:
                                                        :func:`check_scene_size`)
ratings    human_ratings (scripts/human_ratings.py)     ``human_ratings.human_ratings``
map        import_map (scripts/import_map.py)           ``external_maps.imported_map``
fixations  attention (scripts/attention.py)             ``fixations.scene_fixations``
=========  ===========================================  =========================================
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..errors import InputError
from ..maps.patch_grid import PatchGrid, ScaleSpec, paper_radius, paper_step
from .external_maps import imported_map
from .fixation_tables import dropped_summary
from .fixations import fixations_by_scene, scene_fixations, select_scene_fixations
from .human_ratings import human_ratings
from .images import load_rgb

#: Problems spelled out in the error message; the check's log lists all of them.
MAX_LISTED = 20


def _grid(size, specs) -> PatchGrid:
    """The patch grid of a scene of ``size`` (H, W), as the jobs build it from ``params.specs``."""
    return PatchGrid(int(size[0]), int(size[1]), [ScaleSpec(**s) for s in specs])


def check_image(path, size, specs) -> None:
    """Rule patches' checks: the whole image decodes (a truncated file fails) to the size the
    other jobs take from its header, and the patch grid covers every pixel (the test and message
    of ``patch_files.write_scene_patches``)."""
    image = load_rgb(path)
    h, w = image.shape[:2]
    if (h, w) != tuple(size):
        raise InputError(path, f"decodes to {w}x{h} (WxH) but its header says {size[1]}x{size[0]}.",
                         "re-export the scene image.")
    check_scene_size(path, size, specs)
    grid = _grid(size, specs)
    for spec in grid.specs.values():
        if (grid.coverage(spec.name) == 0).any():
            raise InputError(path, f"the {spec.name} grid (N={spec.n}, d={spec.diameter:g} px) leaves pixels "
                             f"of this {w}x{h} scene uncovered.",
                             f"raise patches.{spec.name}.n or its diameter.")


def check_scene_size(path, size, specs, image: bool = True) -> None:
    """Refuse a scene smaller than a patch (a side below the smallest patch diameter; for the paper's
    grid, one whose patches would have no radius or step): a 1- or 2-pixel image is no scene (a
    placeholder, a thumbnail), and its grid cannot be laid. ``path``: the file named, the image
    (``image``) or another file of the scene (its ratings)."""
    h, w = (int(v) for v in size)
    specs = [ScaleSpec(**s) for s in specs]
    toolkit = [s for s in specs if s.grid != "paper"]
    paper = [s for s in specs if s.grid == "paper"]
    subject = f"is {w}x{h} px (WxH)" if image else f"rates a scene whose image is {w}x{h} px (WxH)"
    fix = (f"replace {'it' if image else 'the image'} with the scene image as it was shown to the subjects (a "
           f"{w}x{h} image is no scene: a placeholder, a thumbnail or an export cut short?), or leave the scene out "
           "with dataset.scenes")
    if toolkit and min(h, w) < min(s.diameter for s in toolkit):
        sizes = " and ".join(f"{s.name} {s.diameter:g} px" for s in toolkit)
        small = (f"; if the study's scenes really are this small, set the patch diameters to at most {min(h, w)} px"
                 if min(h, w) >= 3 else "")
        raise InputError(path, f"{subject}, smaller than a patch: the patches are {sizes} across "
                         "(patches.<scale>.diameter_px, or diameter_deg x pixels_per_degree), so the scene cannot be "
                         f"cut into patches.", f"{fix}{small}.")
    for s in paper:
        radius = paper_radius(s.degrees, h, w)
        if paper_step(radius) < 1:
            raise InputError(path, f"{subject}, too small for the paper's {s.name} patches ({s.degrees:g} degrees: "
                             f"radius int({s.degrees:g} / 90 x {min(h, w)}) = {radius} px, step "
                             f"{paper_step(radius)} px).", f"{fix}; or use patches.grid: toolkit.")


def check_ratings(path, scene: str, size, specs) -> None:
    """Rule human_ratings' checks: the whole recovery (rating matrix) or CSV check, on the grid (of a
    scene large enough for one: :func:`check_scene_size`)."""
    check_scene_size(path, size, specs, image=False)
    human_ratings(path, scene, _grid(size, specs))


def check_map(path, size, source: str, transform, resize: bool | str, variable: str | None = None) -> None:
    """Rule import_map's checks: read (``variable``: the .npz/.mat array), transformed and resized as
    the source says (``resize``: False, True or "stretch"), then checked, its signs as scoring checks them."""
    imported_map(path, tuple(size), source=source, transform=transform, resize=resize, variable=variable)


def check_fixations(path, scene: str, size, outside: str, settings: dict) -> None:
    """Rule attention's checks: the scene's fixations as ``scene_fixations`` reads them."""
    scene_fixations(path, scene, int(size[0]), int(size[1]), outside=outside, settings=settings)


CHECKS = {"image": check_image, "ratings": check_ratings, "map": check_map, "fixations": check_fixations}


def fingerprint(path) -> list:
    """[size, mtime_ns] of a file ([] if it is gone): a file that changed since it was checked."""
    try:
        st = Path(path).stat()
    except OSError:
        return []
    return [st.st_size, st.st_mtime_ns]


def run_check(kind: str, label: str, scene: str | None, args: list, call=None) -> dict:
    """One check, recorded: what (kind, label, scene, path = args[0], args), the file's fingerprint,
    the seconds it took, and its problem (None: ok). Only an InputError is a problem of the file;
    any other exception is a bug and propagates. ``call``: what runs, when it is not
    ``CHECKS[kind](*args)`` (e.g. on rows already loaded)."""
    start = time.perf_counter()
    seen = fingerprint(args[0])
    problem = None
    try:
        call() if call is not None else CHECKS[kind](*args)
    except InputError as err:
        problem = {"path": err.path, "problem": err.problem, "fix": err.fix, "message": str(err)}
    return {"kind": kind, "label": label, "scene": scene, "path": str(args[0]), "args": list(args),
            "fingerprint": seen, "seconds": round(time.perf_counter() - start, 4), "problem": problem}


def check_scene_files(scene: str, size, specs, image=None, ratings=None, maps=None) -> dict:
    """Every per-scene file of one scene checked; a report {scene, checked} that records the
    problems rather than raising, so that every scene is checked before the run stops.
    ``maps``: {source: (path, transform, resize[, variable])}."""
    size, specs = [int(v) for v in size], [dict(s) for s in specs]
    checked = []
    if image:
        checked.append(run_check("image", "image", scene, [str(image), size, specs]))
    if ratings:
        checked.append(run_check("ratings", "ratings", scene, [str(ratings), scene, size, specs]))
    for source, (path, transform, resize, *variable) in sorted((maps or {}).items()):
        checked.append(run_check("map", f"map {source}", scene, [str(path), size, source, transform, _resize(resize),
                                                                 variable[0] if variable else None]))
    return {"scene": scene, "checked": checked}


def _resize(value) -> bool | str:
    """A source's resize setting as the import job gets it: "stretch", or a bool."""
    return value if value == "stretch" else bool(value)


def check_fixation_file(path, sizes: dict, outside: str, settings: dict) -> dict:
    """The fixations of every scene of ``sizes`` ({scene: (H, W)}), as one report (scene None).
    The file is read once (``fixations.fixations_by_scene``), then each scene's rows are checked as
    rule fixation_tables selects them (reading the file once per scene would cost N x N); a file
    that cannot be read at all is one problem. The report's ``fixations`` is the study's summary
    of kept and dropped fixations over the scenes that passed (``fixation_tables.dropped_summary``)."""
    loaded = {}
    read = run_check("fixations", "fixations", None, [str(path)],
                     call=lambda: loaded.update(groups=fixations_by_scene(path, settings)))
    if read["problem"]:
        return {"scene": None, "checked": [read]}
    groups = loaded["groups"]
    checked, counts = [], {}

    def select(scene, h, w):
        table, dropped = select_scene_fixations(groups, path, scene, h, w, outside=outside, settings=settings)
        counts[scene] = (len(table), dropped)

    for scene, size in sorted(sizes.items()):
        h, w = (int(v) for v in size)
        checked.append(run_check("fixations", "fixations", scene, [str(path), scene, [h, w], outside, settings],
                                 call=lambda scene=scene, h=h, w=w: select(scene, h, w)))
    refused = len(sizes) - len(counts)
    summary = f"{path}: {dropped_summary(counts)}" + (f"; {refused} scene(s) refused (below)" if refused else "")
    return {"scene": None, "checked": checked, "fixations": summary}


def fixation_summary(reports: list[dict]) -> str | None:
    """The kept/dropped summary of the fixation report among ``reports`` (None: no fixations)."""
    return next((r["fixations"] for r in reports if r.get("fixations")), None)


def problems(reports: list[dict]) -> list[dict]:
    """Every check with a problem, in report order."""
    return [c for report in reports for c in report["checked"] if c["problem"]]


def summary(reports: list[dict]) -> str:
    """What was checked, per kind: how many files and seconds."""
    kinds: dict[str, list[float]] = {}
    scenes = set()
    for report in reports:
        for c in report["checked"]:
            kinds.setdefault(c["label"], []).append(c["seconds"])
            scenes.add(c["scene"])
    found = problems(reports)
    lines = [f"input check of {len(scenes - {None})} scenes: "
             + (f"{len(found)} problem(s)" if found else "no problem")]
    for label, secs in sorted(kinds.items()):
        noun = "scenes" if label == "fixations" else "files"
        lines.append(f"{label}: {len(secs)} {noun}, {sum(secs):.2f} s")
    return "\n".join(lines) + "\n"


def verdict(reports: list[dict], log_path=None) -> dict:
    """The check's outcome (checkpoint check_inputs writes it as checks/inputs.json): ``ok``, the
    summary and, when not ok, every problem and the one error that lists them (the first
    :data:`MAX_LISTED`; ``log_path``, where all of them are, is named for the rest)."""
    found = problems(reports)
    out = {"ok": not found, "summary": summary(reports), "problems": found}
    if found:
        listed = [f"  - {c['problem']['message']}" for c in found[:MAX_LISTED]]
        if len(found) > MAX_LISTED:
            where = f" (all of them in {log_path})" if log_path else ""
            listed.append(f"  ... and {len(found) - MAX_LISTED} more{where}")
        files = {c["path"] for c in found}
        out["problem"] = (f"the input check found {len(found)} problem(s) in {len(files)} file(s), so no scene's "
                          "job was started:\n" + "\n".join(listed) + "\n")
        out["fix"] = "fix each file as its line says, then run again: only the changed files are checked again."
    return out


def refusal(result: dict) -> InputError:
    """The error of a check that found problems; a problem file that changed since it was checked
    (copied with an older modification time, so Snakemake does not check it again) is named."""
    stale = [c["path"] for c in result["problems"] if fingerprint(c["path"]) != c["fingerprint"]]
    problem = result["problem"]
    if stale:
        problem += (f"  ({len(stale)} of these changed since they were checked but are not newer than the check: "
                    f"{', '.join(stale[:5])}; `touch` them so that they are checked again.)\n")
    return InputError(None, problem, result["fix"])


def scene_map_settings(maps: dict, map_settings: dict, scene: str) -> dict:
    """{source: (path, transform, resize, variable)} of one scene, from ``Study.maps`` and ``Study.map_settings``."""
    return {source: (str(found[scene]), map_settings[source]["transform"], map_settings[source]["resize"],
                     map_settings[source].get("variable"))
            for source, found in maps.items() if scene in found}


def load_reports(paths) -> list[dict]:
    """The per-scene reports in the files rule check_scenes writes (a list of reports each)."""
    return [report for p in paths for report in json.loads(Path(p).read_text())]
