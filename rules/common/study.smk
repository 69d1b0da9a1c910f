# The study: its scenes and files (discovered once), the folds of the model steps, the scenes that
# get maps and scores, the fixation tables and pools, and what a run makes (all_targets).
# Uses rules/common/sources.smk (the source lists), model_inputs.smk (PATCH_FILES, in all_targets).
# The study: src/meaningmaps/data/dataset.py; the folds: src/meaningmaps/model/splits.py; the
# export targets: src/meaningmaps/data/map_export.py
# Every rule that reads a study file has the file's content digest among its params
# (meaningmaps.atomic.content_digest): Snakemake reruns a job whose params changed, so a corrected
# file copied in with an older modification time (cp -p, rsync -a, unzip) still reruns its jobs.
import functools

from meaningmaps.atomic import content_digest
from meaningmaps.data.dataset import discover
from meaningmaps.data.map_export import export_paths
from meaningmaps.model.splits import ALL, model_folds, rating_fold, rating_folds, rating_scheme, schemes

SCHEMES = schemes(MODEL)  # model.scheme: the fold models trained (kfold, paper, all)
RATING_SCHEME = rating_scheme(MODEL)  # the scheme whose models rate the scenes


@functools.cache
def study():
    """The study's scenes and files, discovered once (after the download, when there is one)."""
    if DOWNLOAD:
        checkpoints.download.get()  # not done yet: raises, and nothing is cached
    return discover(config)


def scene_size(wildcards):
    return list(study().sizes[wildcards.scene])


@functools.cache
def folds():
    """fold name -> (training scenes, held-out scenes) of every model.scheme listed: fold0..fold<k-1>
    (kfold), "paper" (70/30), "all" (every scene, nothing held out)."""
    return model_folds(study().scenes, MODEL)


def rating_fold_of(scene):
    """The fold whose model never saw this scene (the one that rates it); "all" under scheme all alone."""
    return rating_fold(rating_folds(folds(), MODEL), scene, RATING_SCHEME)


def fold_of(wildcards):
    return rating_fold_of(wildcards.scene)


def eval_scenes():
    """Scenes that get maps and scores: all, or the paper split's test scenes (scheme: paper)."""
    if TRAINED_SOURCES and RATING_SCHEME == "paper":
        return folds()["paper"][1]
    return study().scenes


def gallery_scenes():
    """The scenes of the gallery of a study without fixations: the first figures.gallery_scenes."""
    return study().scenes[: config["figures"]["gallery_scenes"]]


# Every scene's selected fixations (rule fixation_tables) and their pool per image size (rule
# fixation_pool): see rules/attention.smk.
FIXATION_TABLES = f"{R}/fixations/scenes"


def fixation_pool_of(scene):
    """The pool of every scene's fixations on this scene's image size."""
    h, w = study().sizes[scene]
    return f"{R}/fixations/pooled/{h}x{w}.npz"


def all_targets(wildcards):
    """What a run makes (the Snakefile's default target): every scene's ratings and maps, the models
    to share, the scores and figures."""
    st = study()
    scenes = eval_scenes()
    targets = []
    if st.images and MODEL_SOURCES and PATCH_FILES:  # patch files a model step reads (else the rating jobs cut them)
        targets += expand(f"{R}/patches/{{scene}}", scene=scenes)
    targets += expand(f"{R}/ratings/{{source}}/{{scene}}.csv", source=RATING_SOURCES, scene=scenes)
    targets += expand(f"{R}/maps/{{source}}/{{scene}}.npy", source=MAP_SOURCES, scene=scenes)
    targets += export_paths(R, config["maps"]["formats"], MAP_SOURCES, scenes)  # maps.formats (rules/export.smk)
    if "finetuned" in TRAINED_SOURCES:
        targets += expand(f"{R}/models/{{fold}}/loss.png", fold=sorted(folds()))
        if ALL in SCHEMES:
            targets.append(f"{R}/models/all/release")  # the model to share and to map new scenes with
    if "probe" in TRAINED_SOURCES and ALL in SCHEMES:
        targets.append(f"{R}/probe/all/ridge.npz")
    if st.fixations is None and MAP_SOURCES:  # no evaluation: the maps and their gallery
        targets.append(f"{R}/figures/gallery.png")
    if st.fixations is not None:
        targets += expand(f"{R}/attention/{{scene}}.npy", scene=scenes)
        if MAP_SOURCES:
            targets += [f"{R}/evaluation/scores.csv", f"{R}/evaluation/summary.csv",
                        f"{R}/evaluation/pairwise.csv", f"{R}/evaluation/ceiling.csv",
                        f"{R}/figures/comparison.png", f"{R}/figures/comparison.pdf",
                        f"{R}/figures/summary.png", f"{R}/figures/summary.pdf",
                        f"{R}/figures/gallery.png"]
    return targets
