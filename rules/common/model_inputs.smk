# The model steps' inputs and settings (rules/model.smk, qa.smk, finetune.smk, inference.smk, and
# maps.smk for a scene's ratings): the base model, the shards of scenes a model job rates, labels,
# a fold's training data, what a trained model's card records and must agree with.
# Uses rules/common/sources.smk (MODEL, FINETUNED_MODEL...) and study.smk (study, folds, eval_scenes).
# Subpackage workflow/: src/meaningmaps/workflow/shards.py; model/: card.py (the view settings)
import functools
import sys

from meaningmaps.errors import InputError
from meaningmaps.workflow.job_rules import rules_of_this_job
from meaningmaps.workflow.shards import SEPARATOR, assign_shards, model_of, shard_of

BASE = MODEL["base"]
BASE_INPUT = [BASE] if MODEL["build_tiny"] else []  # a folder this workflow writes, else none
INFERENCE = MODEL["inference"]
# The finetuned source rates with an adapter merged in memory onto the base (model.merge: memory, or a
# given adapter) or with a merged model on disk (model.merge: disk, or a given merged model).
MERGE_IN_MEMORY = MODEL["merge"] == "memory"


def finetuned_model_input(wildcards):
    """The model folder that rates a shard of scenes as the finetuned source (its fold's)."""
    if FINETUNED_MODEL:
        return FINETUNED_MODEL
    return f"{R}/models/{model_of(wildcards.shard)}/{'adapter' if MERGE_IN_MEMORY else 'merged'}"


ADAPTER_ON_BASE = bool(FINETUNED_MODEL) or MERGE_IN_MEMORY  # the rating jobs need the base model

# The jobs that load a model work on shards of scenes (model.inference.scenes_per_job), one model
# load per shard: base ratings and probe features (the base model) and the finetuned ratings (one
# model per fold, or the given one). Each scene keeps its file in its shard's folder:
# ratings/<source>/shards/<shard>/<scene>.csv, probe/features/shards/<shard>/<scene>.npz; the map
# job of a scene copies its ratings to ratings/<source>/<scene>.csv (rule map_from_model_ratings).
SHARDED_RATINGS = ("base", "finetuned")  # the rating sources rated a shard per job


@functools.cache
def scene_shards(source):
    """shard name -> scenes, for the base and finetuned ratings and the probe features."""
    if source == "base":
        groups = {"base": eval_scenes()}
    elif source == "probe":  # features of every scene: the folds train on some, rate others
        groups = {"base": study().scenes if "probe" in TRAINED_SOURCES else eval_scenes()}
    elif FINETUNED_MODEL:
        groups = {"given": eval_scenes()}
    else:
        groups = {}
        for scene in eval_scenes():
            groups.setdefault(rating_fold_of(scene), []).append(scene)
    return assign_shards(groups, INFERENCE["scenes_per_job"])


def shard_scenes(source):
    """Input helper: the scenes of a job's shard."""
    return lambda wildcards: scene_shards(source)[wildcards.shard]


# The pad colour "processor" is the base model's image-processor mean: read once by rule pad_fill
# (one processor load for the study, not one per scene), the input of every scene's views.
VIEWS_NEED_BASE = MODEL["image_aspect"] == "pad" and MODEL["pad_fill"] == "processor"
PAD_FILL = f"{R}/qa/pad_fill.json"

# Each scene's patches and views are files of their own (rules patches, patch_views) only when a step
# reads them: a source trained here (its question-answer rows, rule qa_scene, read the views) or the
# probe (rule probe_features). Otherwise (base; a given model.finetuned_model) the rating jobs cut each
# scene's patches and make its views themselves, in a temporary folder (meaningmaps.model.scene_views:
# the same functions, the same bytes, the same ratings): a study of images that a model maps then has
# about one job per scene, not three (Snakemake's planning and scheduling cost grows with the jobs).
PATCH_FILES = bool(TRAINED_SOURCES) or "probe" in MODEL_SOURCES


def shard_views(source):
    """Input helper: the patch index and views of a shard's scenes (PATCH_FILES), or the scenes'
    images, the input check's wait and the pad fill, for the job to cut and view them itself."""
    def inputs(wildcards):
        scenes = scene_shards(source)[wildcards.shard]
        if PATCH_FILES:
            return dict(views=expand(f"{R}/qa/images/{{scene}}", scene=scenes),
                        patches=expand(f"{R}/patches/{{scene}}", scene=scenes))
        images = study().images
        return dict(images=[images[s] for s in scenes], checked=inputs_checked(wildcards),
                    pad_fill=[PAD_FILL] if VIEWS_NEED_BASE else [])
    return inputs


def shard_cut(source):
    """Params helper: what a rating job that cuts its scenes' patches itself (not PATCH_FILES) adds
    to its params, as rules patches and patch_views have them (view_settings has the views' own):
    the content digests of the shard's images (a corrected image copied in with an old time still
    reruns its shard), the patch grid and the PNG compression. Nothing with PATCH_FILES (the params,
    and so the jobs, of such runs stay as they were)."""
    if PATCH_FILES:
        return {}
    return dict(content=lambda wc: [content_digest(study().images[s]) for s in scene_shards(source)[wc.shard]],
                cut=dict(specs=PATCH_SPECS, compress_level=config["patches"]["png_compress_level"]))


def scene_shard_dir(source, folder):
    """Input helper: the shard folder that holds a scene's file (``folder``: under the results)."""
    return lambda wildcards: f"{R}/{folder}/shards/{shard_of(scene_shards(source), wildcards.scene)}"


# The maps of the sources rated a shard per job: a map job per shard too (rules/maps.smk), from a rule
# made for each shard, so that a study of images a model maps has two jobs per shard and none per
# scene (10,000 images at 10 scenes per shard: 2,000 jobs, not 11,000; Snakemake's planning and
# scheduling cost grows with the jobs, and each job is a process to start). The rules need the
# scenes as the workflow is read: behind the download checkpoint (the paper's 40 scenes) and with
# one scene per shard, a map job per scene instead (rule map_from_model_ratings).
MAP_JOB_PER_SHARD = not DOWNLOAD and INFERENCE["scenes_per_job"] > 1
JOB_RULES = rules_of_this_job(sys.argv) if IN_JOB else None  # a job process: the rules it runs


def map_shard_rules(source):
    """(rule name, shard, scenes) of a source's map jobs, one per shard (MAP_JOB_PER_SHARD); in a job
    process only those it runs (meaningmaps.workflow.job_rules: a rule costs a job a millisecond)."""
    prefix = f"maps_{source}_shard_"
    if JOB_RULES is not None and not any(name.startswith(prefix) for name in JOB_RULES):
        return []  # no study discovery in a job that runs none of them
    try:
        shards = scene_shards(source)
    except InputError:  # no study to read (snakemake --lint without the data): planning says why, naming the file
        return []
    rules = [(prefix + shard.replace(SEPARATOR, "_"), shard, scenes) for shard, scenes in shards.items()]
    return [rule for rule in rules if JOB_RULES is None or rule[0] in JOB_RULES]


def ratings_shard(wildcards):
    """The shard folder that holds a scene's ratings CSV (base, finetuned; rule map_from_model_ratings)."""
    return scene_shard_dir(wildcards.source, f"ratings/{wildcards.source}")(wildcards)


def base_model(wildcards, input):
    """The base model for a job: the folder the workflow built, or the configured hub id/path."""
    return input.base[0] if BASE_INPUT else BASE


# Labels come from per-patch ratings (human, with dataset.ratings) or from a map by the paper's
# rule (a dataset.maps source, e.g. the published human meaning maps as dataset.maps.human).
LABELS_FROM_RATINGS = (MODEL["labels"]["from"] == "human" and bool(DS.get("ratings"))
                       and MODEL["labels"]["rule"] != "paper")


def label_input(wildcards):
    if LABELS_FROM_RATINGS:
        return f"{R}/ratings/human/{wildcards.scene}.csv"
    return f"{R}/maps/{MODEL['labels']['from']}/{wildcards.scene}.npy"


def split_jsonls(wildcards):
    """The per-scene JSONL of a fold's training or test scenes."""
    scenes = folds()[wildcards.fold][0 if wildcards.side == "train" else 1]
    return expand(f"{R}/qa/scenes/{{scene}}.jsonl", scene=scenes)


def train_views(wildcards):
    return expand(f"{R}/qa/images/{{scene}}", scene=folds()[wildcards.fold][0])


def heldout_inputs(wildcards):
    """The fold's held-out rows, for its held-out loss only. ancient(): the fold never trains on
    them, so a change to a held-out scene does not retrain it (loss.png then shows the held-out loss
    of the data it was trained beside). The held-out views are no input of their own (a new held-out
    scene would change the input list and retrain the fold): test.jsonl is made only after its
    scenes' views (rule qa_scene takes them as input)."""
    test = folds()[wildcards.fold][1]
    if not (test and MODEL["finetune"]["eval_heldout"]):
        return {}
    return dict(heldout=ancient(f"{R}/qa/splits/{wildcards.fold}/test.jsonl"))


def view_settings():
    """How the model views are made and prompted: what a trained model's card must agree with."""
    from meaningmaps.model.card import view_settings as settings_of

    return settings_of(config)


def model_record(wildcards):
    """What the model card of a fold's model records besides the run itself."""
    return dict(view_settings(), fold=wildcards.fold, scheme=MODEL["scheme"], labels=MODEL["labels"],
                scales=SPECS)
