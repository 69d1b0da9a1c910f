"""Folders of maps scored against fixations without Snakemake: what ``meaningmaps score`` does.

The workflow's evaluation in one process, with the workflow's functions and in its order, so the
numbers are the workflow's for the same maps, fixations and settings: the study is discovered as
rule all discovers it (``dataset.discover``: scenes with fixations and a map in every folder, their
sizes, the fixation file's origin), each map is read as rule ``import_map`` reads it
(``imported_map``) and each fixation table as rule ``fixation_tables`` writes it
(``study_fixations``), the leave-one-out maps from the pools of rule ``fixation_pool``; the
attention maps (rule ``attention``), the centre baselines (``center``,
``center_empirical``), the scores (``score_scene``), the noise ceiling (``scene_ceiling``) and the
summary (``summarize``) follow, every map stored as float32 and read back as float64 exactly as the
workflow's ``.npy`` files are. Settings (attention, fixation selection, seeds, bootstrap, semipartial
pairs, centre sources) come from a workflow config, or the defaults without one.

Writes ``scores.csv``, ``summary.csv``, ``pairwise.csv``, ``ceiling.csv`` (the columns of the
workflow's ``evaluation/``), the per-scene ``scenes/<scene>.csv`` and ``ceiling/<scene>.csv``, and
``summary.png``/``.pdf`` (the workflow's summary figure).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import save_csv
from ..config import check_source_names, validate_config
from ..data.dataset import discover
from ..data.external_maps import imported_map
from ..data.fixations import study_fixations
from ..errors import InputError
from ..folders import check_output_folder
from ..maps.attention import attention_map
from ..maps.center_bias import center_bias_map
from ..maps.empirical_center import empirical_center_from_pool, fixated_pixels, others_from_pool, pooled_fixation_maps
from ..schema import load_schema
from ..workflow.source_defaults import center_sources, reference_source, semipartial_pairs, with_resolved_sources
from .figures import summary_figure
from .noise_ceiling import CEILING_COLUMNS, scene_ceiling
from .scores import ceiling_table, score_scene, summarize


def _stored(m: np.ndarray) -> np.ndarray:
    """A map as the workflow's scoring reads it: saved as float32, loaded as float64."""
    return np.asarray(m, dtype=np.float32).astype(np.float64)


def map_sources(folders) -> dict[str, str]:
    """``NAME=FOLDER`` or ``FOLDER`` (its name is the source) -> {name: folder}, names distinct."""
    out: dict[str, str] = {}
    for spec in folders:
        name, sep, folder = str(spec).partition("=")
        if not sep:
            folder, name = name, Path(name.rstrip("/")).name
        if name in out:
            raise InputError(folder, f"gives the map source name {name!r} a second time ({out[name]} has it).",
                             "name the sources: NAME=FOLDER (e.g. meaning=results/maps/human).")
        out[name] = folder
    return out


#: what ``score`` writes into ``--out`` (files) and into its sub-folders (per-scene CSVs)
OUTPUT_FILES = ("scores.csv", "summary.csv", "pairwise.csv", "ceiling.csv", "summary.png", "summary.pdf")
OUTPUT_SUBFOLDERS = ("scenes", "ceiling")


def check_arguments(folders, fixations, out_dir, size=None) -> dict[str, str]:
    """The command line, checked before anything is read (so that its messages name the argument,
    not a config key): each map folder exists, is a folder and has a source name; the fixation file
    exists and is a file; ``--size`` is positive; ``--out`` can be written, is no map folder (its
    summary.png would be read as a map) and no output replaces the fixation file. Returns the
    sources ({name: folder})."""

    sources = map_sources(folders)
    names = load_schema()["properties"]["dataset"]["properties"]["maps"]["propertyNames"]
    for name, folder in sources.items():
        p = Path(folder)
        if not p.is_dir():
            raise InputError(f"{folder} (MAPS)", "does not exist." if not p.exists() else "is a file, not a folder of maps.",
                             "give a folder of maps, one file per scene named by the scene (<scene>.npy, .png, ...).")
        if not re.match(names["pattern"], name) or name in names["not"]["enum"]:
            how = " (its folder name)" if name == Path(str(folder).rstrip("/")).name else ""
            raise InputError(f"{folder} (MAPS)", f"would be the map source {name!r}{how}, which is no "
                             "source name: letters, digits, _ and - starting with a letter, and none of "
                             f"{', '.join(names['not']['enum'])}.", "name it: NAME=FOLDER, e.g. meaning=" + str(folder) + ".")
    fix = Path(fixations)
    if not fix.is_file():
        raise InputError(f"{fixations} (--fixations)", "does not exist." if not fix.exists() else "is a folder, not a "
                         "fixation file.", "give the fixation file: a .csv (scene, x, y, ...) or a Henderson & Hayes .mat.")
    if size is not None and min(int(v) for v in size) < 1:
        raise InputError("--size", f"is {size[0]} {size[1]}; a scene's width and height are 1 pixel or more.",
                         "give the scenes' size in pixels, e.g. --size 800 600, or leave it out.")
    check_output_folder(out_dir, "--out")
    out = Path(out_dir).resolve()
    written = {out, *(out / sub for sub in OUTPUT_SUBFOLDERS)}
    for name, folder in sources.items():
        if Path(folder).resolve() in written:
            raise InputError(f"{out_dir} (--out)", f"writes into the map folder {folder} (source {name}): its CSVs and "
                             "summary.png would lie among the maps, and summary.png be read as a map.",
                             f"give --out a folder of its own, e.g. {Path(out_dir) / 'scores'}.")
    if fix.resolve() in {out / f for f in OUTPUT_FILES}:
        raise InputError(f"{out_dir} (--out)", f"would write over the fixation file {fixations}.",
                         "give --out a folder of its own.")
    return sources


def study_config(config: dict, folders, fixations, size=None) -> dict:
    """``config`` (validated) with its dataset replaced by these map folders and fixation file; the
    fixation reading (``dataset.fixation_csv``, ``fixations_outside``, ``fixations_outside_max``) is kept."""
    ds = config["dataset"]
    new = copy.deepcopy({k: v for k, v in config.items() if k != "dataset"})
    new["dataset"] = {"fixations": str(fixations), "maps": map_sources(folders),
                      "fixation_csv": copy.deepcopy(ds.get("fixation_csv") or {}),
                      "fixations_outside": ds.get("fixations_outside", "error")}
    if "fixations_outside_max" in ds:
        new["dataset"]["fixations_outside_max"] = ds["fixations_outside_max"]
    if size is not None:
        new["dataset"]["size"] = [int(size[0]), int(size[1])]
    return validate_config(new, "the command line (MAPS, --fixations, --size)")


def score_folders(folders, fixations, out_dir, config: dict, size=None, log=print) -> dict[str, Path]:
    """Score the map folders against the fixations (``config``: a validated workflow config whose
    attention/evaluation/figures settings apply); returns the files written, by name."""
    check_arguments(folders, fixations, out_dir, size)
    cfg = study_config(config, folders, fixations, size)
    study = discover(cfg)
    att, ev = cfg["attention"], cfg["evaluation"]
    external = sorted(study.maps)  # the workflow lists dataset.maps sources sorted
    centers = center_sources(ev, True)
    sources = external + centers
    reference = reference_source(cfg, sources)
    pairs = semipartial_pairs(cfg, sources, centers)
    check_source_names(with_resolved_sources(cfg, reference, pairs), sources, "the settings (--configfile) and MAPS")
    scenes = study.scenes
    log(f"{len(scenes)} scene(s) with fixations and a map in every folder; sources {', '.join(sources)}")
    tables, dropped = {}, 0  # the fixation file read once, every scene's rows as rule fixation_tables selects them
    for scene, table, n in study_fixations(study.fixations, {s: study.sizes[s] for s in scenes},
                                           outside=cfg["dataset"]["fixations_outside"], settings=study.fixation_settings):
        tables[scene] = table
        dropped += n
    if dropped:
        log(f"dropped {dropped} fixations outside their image (dataset.fixations_outside: drop)")
    out = Path(out_dir)
    # every scene's fixations pooled once per image size (rule fixation_pool): leave-one-out maps subtract the scene's own
    pools = {size: pooled_fixation_maps(tables, study.sizes, size, weight=att["weight"])
             for size in sorted({tuple(study.sizes[s]) for s in scenes})} if len(scenes) > 1 else {}
    rows, ceilings = [], []
    for i, scene in enumerate(scenes, 1):
        h, w = study.sizes[scene]
        attention = _stored(attention_map(tables[scene], h, w, fc=att["fc"], weight=att["weight"], wrap=att["wrap"]))
        maps = {}
        for name in external:
            settings = study.map_settings[name]
            maps[name] = _stored(imported_map(study.maps[name][scene], (h, w), source=name,
                                              transform=settings["transform"], resize=settings["resize"],
                                              variable=settings["variable"]))
        baseline = other = None
        if len(scenes) > 1:
            pool = pools[tuple(study.sizes[scene])]
            baseline = _stored(empirical_center_from_pool(pool, tables[scene], scene, fc=att["fc"], weight=att["weight"],
                                                          wrap=att["wrap"]))
            other = (others_from_pool(pool, tables[scene], scene) > 0).astype(np.float64)  # as fixated_pixels
        if "center" in centers:
            maps["center"] = _stored(center_bias_map(h, w, ev["center_sigma_fraction"]))
        if "center_empirical" in centers:
            if baseline is None:
                raise InputError(fixations, "has fixations on one scene only, so there is no other scene for the "
                                 "empirical centre bias.", "score two or more scenes, or set "
                                 "evaluation.center_empirical: false in a --configfile.")
            maps["center_empirical"] = baseline
        # Per-scene files read back, as rules score_scene, noise_ceiling and evaluate pass them on
        # (pandas' CSV reading is not always exact in the last bit; the same path gives the same bits).
        scene_csv, ceiling_csv = out / "scenes" / f"{scene}.csv", out / "ceiling" / f"{scene}.csv"
        save_csv(scene_csv, score_scene(scene, attention, maps, [tuple(p) for p in pairs],
                                        fixated=fixated_pixels(tables[scene], h, w), other=other, baseline=baseline,
                                        auc_splits=ev["auc_shuffled"]["splits"], auc_step=ev["auc_shuffled"]["step"],
                                        seed=ev["seed"]))
        save_csv(ceiling_csv, pd.DataFrame([scene_ceiling(tables[scene], scene, h, w, fc=att["fc"],
                                                          weight=att["weight"], wrap=att["wrap"],
                                                          random_splits=ev["ceiling_splits"], seed=ev["seed"])],
                                           columns=CEILING_COLUMNS))
        rows.append(pd.read_csv(scene_csv))
        ceilings.append(pd.read_csv(ceiling_csv, dtype={"scene": str}))
        log(f"[{i}/{len(scenes)}] {scene}: {len(tables[scene])} fixations, {len(maps)} maps scored")
    files = {name: out / f"{name}.csv" for name in ("scores", "summary", "pairwise", "ceiling")}
    scores = pd.concat(rows, ignore_index=True)
    ceiling = ceiling_table(ceilings)
    summary, pairwise = summarize(scores, n_boot=ev["bootstrap"], seed=ev["seed"], ceiling=ceiling)
    save_csv(files["scores"], scores)
    save_csv(files["summary"], summary)
    save_csv(files["pairwise"], pairwise)
    save_csv(files["ceiling"], ceiling)
    files["summary_png"], files["summary_pdf"] = out / "summary.png", out / "summary.pdf"
    summary_figure(pd.read_csv(files["summary"], dtype={"source": str}), files["summary_png"], files["summary_pdf"],
                   reference_source=reference)
    return files


#: the summary columns ``meaningmaps score`` prints
SUMMARY_COLUMNS = ["source", "n_scenes", "mean_r", "ci_low", "ci_high", "mean_ceiling"]


def summary_text(summary_csv) -> str:
    """The written ``summary.csv``'s main columns as a text table (what ``meaningmaps score`` prints)."""
    summary = pd.read_csv(summary_csv, dtype={"source": str})
    return summary[SUMMARY_COLUMNS].to_string(index=False)
