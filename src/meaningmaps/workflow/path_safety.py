"""No output replaces or deletes an input: the folders a run writes are kept apart from the files it reads.

What: the places a configuration writes (``results``; the download folder ``download.dest/<node>``
when ``download.enabled``; ``model.base`` when ``model.build_tiny`` builds it) and the places it
reads (``dataset.images``, ``dataset.ratings``, every ``dataset.maps`` folder, ``dataset.fixations``,
the models it is given by path), compared once at start-up: a written
folder that is the same as an input, lies inside an input folder, or holds an input is refused,
naming both config keys, both paths and the fix (:func:`check_config_paths`). The same comparison
on plain paths serves the command line's ``--out`` (:func:`refuse_output_overlap`).

Why: Snakemake deletes a job's outputs before it runs the job. With ``results`` set to the data
folder, rule import_map's output ``maps/<source>/<scene>.npy`` is the user's own map file: a job
that runs deletes it first; on the demo, Snakemake instead took it as made (a cyclic dependency),
so the map was never imported, and the run wrote 75 files among the data with exit 0. Outputs
written among the inputs also mix with them (a map folder is read whole: pysaliency, MATLAB), and a
given model inside ``results`` matches the output of the rule that would train it, so Snakemake
could rebuild (and first delete) it.

Allowed: the download's files are the download's own output, so inputs inside the download folder
are what it is for; the tiny model built inside ``results`` (the demo's layout) is the workflow's own
output. A folder that merely holds the data (images/, maps/, fixations.csv) may also hold results/
beside them, as ``meaningmaps demo OUT_DIR`` lays a study out.

Paths are compared as given (made absolute against the working directory Snakemake runs in) and
with symlinks resolved (a path that does not exist yet resolves by its existing parent), and by
file identity where both exist (case-insensitive file systems, bind mounts). The cost is a few
``stat`` calls per pair of configured places: it does not grow with the number of scenes. Never
imports torch or snakemake.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

SAME, INPUT_INSIDE, OUTPUT_INSIDE = "same", "input inside", "output inside"


@dataclass(frozen=True)
class Place:
    """A configured path: ``key`` names it in messages (a config key, or a command-line option)."""

    key: str
    path: str
    given: str | None = None  # what the config says, where the folder is made from it (download.dest)

    def forms(self, cwd: str) -> tuple[str, str]:
        """(as given, made absolute and normalised; with symlinks resolved)."""
        joined = os.path.join(cwd, os.fspath(self.path))
        return os.path.normpath(joined), os.path.realpath(joined)  # realpath: '..' after a symlink as the OS does

    def shown(self, cwd: str) -> str:
        literal, real = self.forms(cwd)
        text = os.fspath(self.path)
        text = text if real == text else f"{text}, that is {real}"
        return f"{self.given}: the download's folder {text}" if self.given else text


def _within(a: str, b: str) -> bool:
    """Whether normalised absolute path ``a`` is ``b`` or lies inside it (by name)."""
    return a == b or a.startswith(b.rstrip(os.sep) + os.sep)


def _within_by_identity(a: str, b: str) -> bool:
    """Whether an existing ancestor of ``a`` (or ``a``) is the very folder ``b`` (same device and inode)."""
    if not os.path.exists(b):
        return False
    p = a
    while True:
        try:
            if os.path.samefile(p, b):
                return True
        except OSError:  # p does not exist yet
            pass
        parent = os.path.dirname(p)
        if parent == p:
            return False
        p = parent


def _inside(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return _within(a[0], b[0]) or _within(a[1], b[1]) or _within_by_identity(a[1], b[1])


def relation(output: Place, input_: Place, cwd: str) -> str | None:
    """How a written place and a read place overlap: SAME, INPUT_INSIDE (the output folder holds the
    input), OUTPUT_INSIDE (the output lies inside the input folder), or None."""
    o, i = output.forms(cwd), input_.forms(cwd)
    o_in_i, i_in_o = _inside(o, i), _inside(i, o)
    if o_in_i and i_in_o:
        return SAME
    if i_in_o:
        return INPUT_INSIDE
    if o_in_i:
        return OUTPUT_INSIDE
    return None


# --------------------------------------------------------------------------- the workflow's places


def written_places(config: dict) -> list[Place]:
    """The folders a run of this (validated) config writes into: results first."""
    out = [Place("results", str(config["results"]).rstrip("/") or "/")]
    dl = config.get("download") or {}
    if dl.get("enabled"):
        out.append(Place("download.dest", os.path.join(str(dl["dest"]), str(dl["node"])), given=str(dl["dest"])))
    model = config.get("model") or {}
    if model.get("enabled") and model.get("sources") and model.get("build_tiny"):
        out.append(Place("model.base", str(model["base"])))
    return out


def read_places(config: dict, cwd: str) -> list[Place]:
    """The files and folders a run of this (validated) config reads that the user gave: the study's
    inputs and the models given by path (a ``model.base`` that exists here; one that does not is a
    hub id). The folder that holds the fixation file is not one: a project folder may hold the data
    and its results side by side (``meaningmaps demo OUT_DIR`` writes that layout)."""
    ds = config.get("dataset") or {}
    out = [Place(f"dataset.{key}", str(ds[key])) for key in ("images", "ratings") if ds.get(key)]
    for name, spec in sorted((ds.get("maps") or {}).items()):
        folder = spec.get("folder") if isinstance(spec, dict) else spec
        if folder:
            out.append(Place(f"dataset.maps.{name}", str(folder)))
    if ds.get("fixations"):
        out.append(Place("dataset.fixations", str(ds["fixations"])))
    model = config.get("model") or {}
    sources = model.get("sources") or []
    if model.get("enabled") and sources:
        tiny = model.get("build_tiny")
        if tiny and tiny.get("tokenizer"):
            out.append(Place("model.build_tiny.tokenizer", str(tiny["tokenizer"])))
        if not tiny and os.path.exists(os.path.join(cwd, str(model["base"]))):
            out.append(Place("model.base", str(model["base"])))
        for source in ("finetuned", "probe"):
            if model.get(f"{source}_model") and source in sources:
                out.append(Place(f"model.{source}_model", str(model[f"{source}_model"])))
    return out


def _allowed(output: Place, rel: str) -> bool:
    """The legitimate overlap of an input: a file of the download folder (the download's own output)."""
    return output.key == "download.dest" and rel in (SAME, INPUT_INSIDE)


def conflicts(config: dict, cwd: str | None = None) -> list[tuple[Place, Place, str]]:
    """Every (written place, read or other written place, relation) that is refused."""
    cwd = os.getcwd() if cwd is None else str(cwd)
    written = written_places(config)
    found = []
    for w in written:
        for i in read_places(config, cwd):
            rel = relation(w, i, cwd)
            if rel and not _allowed(w, rel):
                found.append((w, i, rel))
    for n, a in enumerate(written):  # written places among themselves, named by the later one (its fix)
        for b in written[n + 1:]:
            rel = relation(b, a, cwd)
            built_inside_results = a.key == "results" and b.key == "model.base" and rel == OUTPUT_INSIDE
            if rel and not built_inside_results:
                found.append((b, a, rel))
    return found


_WHAT = {SAME: "is the same path as", INPUT_INSIDE: "holds", OUTPUT_INSIDE: "lies inside"}


def _describe(w: Place, pairs: list[tuple[Place, str]], cwd: str, *, key_word: str = "config key ") -> str:
    """'<key> (<path>) holds <key> (<path>) and <key> (<path>); it lies inside <key> (<path>)'."""
    parts = []
    for rel in (SAME, INPUT_INSIDE, OUTPUT_INSIDE):
        named = [f"{_named(i, key_word)} ({i.shown(cwd)})" for i, r in pairs if r == rel]
        if len(named) > 4:  # e.g. the command line's many images
            named = named[:3] + [f"{len(named) - 3} more"]
        if named:
            listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
            parts.append(f"{_WHAT[rel]} {listed}")
    return f"{_named(w, key_word)} ({w.shown(cwd)}) {'; it '.join(parts)}"


def _named(p: Place, key_word: str) -> str:
    return f"{key_word}{p.key}"


def _suggestion(config: dict, cwd: str) -> str | None:
    """A results folder that overlaps nothing: ``results`` in the working directory (the default), or
    another name there; None when neither would do."""
    for name in ("results", "meaningmaps-results"):
        trial = dict(config, results=name)
        if not any("results" in (a.key, b.key) for a, b, _ in conflicts(trial, cwd)):
            return name
    return None


def _why(w: Place, relations: set[str]) -> str:
    """Why such an overlap is refused."""
    why = []
    if relations & {SAME, INPUT_INSIDE}:
        why.append({"results": "Snakemake deletes a job's outputs before it runs the job, and an output under results "
                               "can have an input's path (maps/<source>/<scene>.npy is where an imported map is "
                               "written): that input would be deleted.",
                    "model.base": "rule build_tiny_llava (model.build_tiny) writes model.base anew, deleting what it holds.",
                    "download.dest": "the download writes the project's files there."}[w.key])
    if OUTPUT_INSIDE in relations:
        why.append("Outputs would be written among the inputs, where they could be taken for inputs (a map folder is "
                   "read whole).")
    return " ".join(why)


def check_config_paths(config: dict, source=None, cwd=None) -> None:
    """Refuse (InputError naming the config ``source``) a config whose outputs overlap its inputs;
    see the module docstring. ``cwd``: the folder relative paths start in (the working directory)."""
    cwd = os.getcwd() if cwd is None else str(cwd)
    found = conflicts(config, cwd)
    if not found:
        return
    w = found[0][0]
    pairs = [(i, rel) for ww, i, rel in found if ww == w]
    problem = f"{_describe(w, pairs, cwd)}. {_why(w, {rel for _, rel in pairs})}"
    given_models = [i.key for i, rel in pairs
                    if i.key.startswith("model.") and i.key != "model.base" and rel in (SAME, INPUT_INSIDE)]
    if given_models and w.key == "results":
        problem += (" A trained model inside results lies where this run's training rules write theirs "
                    "(models/<fold>/..., probe/<fold>/ridge.npz): Snakemake could retrain it, deleting it first.")
    if w.key == "results":
        suggestion = _suggestion(config, cwd)
        fix = ("set results to a folder of its own that neither holds nor lies inside the data"
               + (f", e.g. results: {suggestion}" if suggestion else "") + ".")
        if given_models:
            fix += (f" A model from an earlier run: copy it out of that run's results and point "
                    f"{' and '.join(given_models)} at the copy, or give this run another results folder.")
    elif w.key == "download.dest":
        fix = ("set download.dest to a folder of its own (e.g. data/osf), apart from results and from the "
               "folders you give in dataset and model.")
    else:  # model.base, built by model.build_tiny
        fix = (f"set model.base to a folder of its own, e.g. inside results ({config['results'].rstrip('/')}/"
               "models/tiny-llava, as demo/config.yaml), apart from the folders you give in dataset.")
    raise InputError(source, problem, fix)


# --------------------------------------------------------------------------- plain paths (the CLI)


def refuse_output_overlap(outputs, inputs, *, cwd=None) -> None:
    """Refuse output places that overlap input places: each a mapping label -> path (e.g.
    ``{"--out": out}`` and ``{"--model": model, "image": path, ...}``), or (label, path) pairs. Raises
    InputError naming the output path, both labels and paths, and the fix (another output folder).
    An output equal to an input, inside an input folder, or holding an input is refused."""
    cwd = os.getcwd() if cwd is None else str(cwd)
    outs = [Place(str(k), os.fspath(v)) for k, v in (outputs.items() if hasattr(outputs, "items") else outputs)]
    ins = [Place(str(k), os.fspath(v)) for k, v in (inputs.items() if hasattr(inputs, "items") else inputs)]
    for o in outs:
        pairs = [(i, rel) for i in ins if (rel := relation(o, i, cwd))]
        if pairs:
            raise InputError(Path(o.path), f"{_describe(o, pairs, cwd, key_word='')}: the outputs would be written "
                             "over or among the inputs (an output file of the same name replaces an input).",
                             f"give {o.key} a folder of its own that neither holds nor lies inside the inputs.")
