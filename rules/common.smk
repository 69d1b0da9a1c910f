# Shared definitions: map sources, the study (scenes and files), wildcard helpers, compute needs.
# Subpackage workflow/: src/meaningmaps/workflow/source_defaults.py, shards.py; the study:
# src/meaningmaps/data/dataset.py; the config: src/meaningmaps/config.py.
# Every rule that reads a study file has the file's content digest among its params
# (meaningmaps.atomic.content_digest): Snakemake reruns a job whose params changed, so a corrected
# file copied in with an older modification time (cp -p, rsync -a, unzip) still reruns its jobs.
import functools

from meaningmaps.atomic import content_digest  # noqa: E402
from meaningmaps.config import config_source  # noqa: E402
from meaningmaps.data.map_export import export_paths  # noqa: E402
from meaningmaps.errors import InputError  # noqa: E402
from meaningmaps.workflow.path_safety import check_config_paths  # noqa: E402
from meaningmaps.workflow.shards import SHARD_PATTERN, assign_shards, model_of, shard_of  # noqa: E402

# Map sources: rating sources go through the toolkit's map builder; external ones are imported.
# The model sources (base, finetuned, probe) write per-patch ratings like the human raters.
MODEL = config["model"]
MODEL_SOURCES = list(MODEL["sources"]) if MODEL["enabled"] else []
RATING_SOURCES = (["human"] if DS.get("ratings") else []) + MODEL_SOURCES
EXTERNAL_SOURCES = sorted((DS.get("maps") or {}).keys())
# Centre-bias sources: the Gaussian `center` and `center_empirical` (other scenes' fixations).
# Reference source and semipartial pairs: as set, else defaults among the sources that exist.
from meaningmaps.workflow.source_defaults import center_sources, reference_source, semipartial_pairs, with_resolved_sources  # noqa: E402

CENTER_SOURCES = center_sources(config["evaluation"], bool(DS.get("fixations")))
GBVS_SOURCES = ["gbvs"] if config["gbvs"]["enabled"] and DS.get("images") else []  # GBVS salience (rule gbvs_map)
MAP_SOURCES = RATING_SOURCES + EXTERNAL_SOURCES + GBVS_SOURCES + CENTER_SOURCES
REFERENCE = reference_source(config, MAP_SOURCES)
SEMIPARTIAL = semipartial_pairs(config, MAP_SOURCES, CENTER_SOURCES)
check_source_names(with_resolved_sources(config, REFERENCE, SEMIPARTIAL), MAP_SOURCES)


def one_of(names):
    """A wildcard regex matching exactly these names (or nothing)."""
    return "|".join(names) if names else "(?!x)x"


wildcard_constraints:
    scene=SCENE_PATTERN,
    fold=r"fold\d+|paper|all",
    shard=SHARD_PATTERN,


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


def all_targets(wildcards):
    st = study()
    scenes = eval_scenes()
    targets = []
    if st.images and MODEL_SOURCES:  # the model rates patches; human ratings and maps never read them
        targets += expand(f"{R}/patches/{{scene}}", scene=scenes)
    per_scene = [s for s in RATING_SOURCES if s not in ("base", "finetuned")]  # those two: in shards
    targets += expand(f"{R}/ratings/{{source}}/{{scene}}.csv", source=per_scene, scene=scenes)
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


# Every scene's selected fixations (rule fixation_tables) and their pool per image size (rule
# fixation_pool): see rules/attention.smk.
FIXATION_TABLES = f"{R}/fixations/scenes"


def fixation_pool_of(scene):
    """The pool of every scene's fixations on this scene's image size."""
    h, w = study().sizes[scene]
    return f"{R}/fixations/pooled/{h}x{w}.npz"


def gallery_scenes():
    """The scenes of the gallery of a study without fixations: the first figures.gallery_scenes."""
    return study().scenes[: config["figures"]["gallery_scenes"]]


# ---- the model steps (rules/model.smk, qa.smk, finetune.smk, inference.smk) ----
BASE = MODEL["base"]
BASE_INPUT = [BASE] if MODEL["build_tiny"] else []  # a folder this workflow writes, else none
INFERENCE = MODEL["inference"]
# A trained model given by path rates its source: no training, no labels (model.finetuned_model,
# model.probe_model). The sources trained here are the others.
FINETUNED_MODEL = MODEL["finetuned_model"]
PROBE_MODEL = MODEL["probe_model"]
GIVEN_MODELS = {"finetuned": FINETUNED_MODEL, "probe": PROBE_MODEL}
TRAINED_SOURCES = [s for s in MODEL_SOURCES if s in GIVEN_MODELS and not GIVEN_MODELS[s]]
SCHEMES = schemes(MODEL)
RATING_SCHEME = rating_scheme(MODEL)
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
# ratings/<source>/shards/<shard>/<scene>.csv, probe/features/shards/<shard>/<scene>.npz.
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


def shard_views(source):
    """Input helper: the patch index and views of a shard's scenes."""
    def inputs(wildcards):
        scenes = scene_shards(source)[wildcards.shard]
        return dict(views=expand(f"{R}/qa/images/{{scene}}", scene=scenes),
                    patches=expand(f"{R}/patches/{{scene}}", scene=scenes))
    return inputs


def ratings_input(wildcards):
    """A scene's ratings: its own CSV (human, probe), or the folder of its shard (base, finetuned)."""
    if wildcards.source in ("base", "finetuned"):
        return f"{R}/ratings/{wildcards.source}/shards/{shard_of(scene_shards(wildcards.source), wildcards.scene)}"
    return f"{R}/ratings/{wildcards.source}/{wildcards.scene}.csv"


def ratings_file(wildcards, input):
    """The scene's ratings CSV (inside its shard's folder for base and finetuned)."""
    if wildcards.source in ("base", "finetuned"):
        return f"{input.ratings}/{wildcards.scene}.csv"
    return input.ratings


def scene_shard_dir(source, folder):
    """Input helper: the shard folder that holds a scene's file (``folder``: under the results)."""
    return lambda wildcards: f"{R}/{folder}/shards/{shard_of(scene_shards(source), wildcards.scene)}"


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


if TRAINED_SOURCES and RATING_SCHEME == ALL and DS.get("fixations"):
    raise InputError(config_source(workflow.config_settings),
                     f"model.scheme: all alone rates every scene with the model trained on it, so the "
                     f"{', '.join(TRAINED_SOURCES)} scores against the fixations would be in-sample.",
                     "use model.scheme: [kfold, all] (the folds rate and estimate the accuracy; all is the model "
                     "to share), or rate with a trained model: model.finetuned_model / model.probe_model.")
# A given model is checked now, before any job: its kind, its card against this config, its base.
if FINETUNED_MODEL and "finetuned" in MODEL_SOURCES:
    from meaningmaps.model.trained_models import check_trained_model

    check_trained_model(FINETUNED_MODEL, view_settings(), BASE)
if PROBE_MODEL and "probe" in MODEL_SOURCES:
    from meaningmaps.model.probe import check_probe

    check_probe(PROBE_MODEL, BASE, MODEL["probe"]["pooling"])
# No output replaces or deletes an input: results (and the download and built-model folders) apart
# from every configured input, checked once before any job (meaningmaps.workflow.path_safety). After
# the given-model checks, whose messages say more about a path that holds no model.
check_config_paths(config, config_source(workflow.config_settings))


def model_record(wildcards):
    """What the model card of a fold's model records besides the run itself."""
    return dict(view_settings(), fold=wildcards.fold, scheme=MODEL["scheme"], labels=MODEL["labels"],
                scales=SPECS)


# ---- compute needs: every rule's threads: and resources: (the profiles add only site settings) ----
# Snakemake sets OMP_NUM_THREADS (and the BLAS thread variables) of a job to its threads, so torch
# and numpy use what the job was given; SLURM gets them as --cpus-per-task, memory as --mem, run
# time as --time, `gpu` as --gpus. Memory and run time grow with each retry (attempt 2, 3).
def grows(amount):
    """A request that doubles, then triples, when a job is retried (it may have run out of it)."""
    return lambda wildcards, attempt: amount * attempt


DEVICE = MODEL["device"]  # auto | cuda | cpu: whether the model jobs ask for GPUs
TINY_MODEL = bool(MODEL["build_tiny"])  # the demo's and tests' tiny model: small memory requests
GPUS_RATING = 0 if DEVICE == "cpu" else 1
GPUS_FINETUNE = 0 if DEVICE == "cpu" else MODEL["finetune"]["gpus"]
_gpu_limit = getattr(workflow.global_resources.get("gpu"), "value", workflow.global_resources.get("gpu"))
if MODEL_SOURCES and DEVICE != "cpu" and _gpu_limit == 0:
    # --resources gpu=0, as profiles/local sets on a machine without a GPU: no model job could start
    raise InputError(config_source(workflow.config_settings),
                     f"the model jobs ask for GPUs (model.device: {DEVICE}), but this run allows none "
                     "(--resources gpu=0: profiles/local found no GPU on this machine).",
                     "set model.device: cpu to run the model steps on the CPU, or run on a machine with GPUs.")
# Light per-scene steps (patches, maps, attention, scores, Q&A data): one core.
LIGHT = dict(mem_mb=grows(4000), runtime=grows(60), gpu=0)
# A job that loads the LLaVA model on a GPU (rating, probe features): 7B in bf16 is about 14 GB.
MODEL_JOB = dict(mem_mb=grows(4000 if TINY_MODEL else 32000), runtime=grows(120), gpu=GPUS_RATING)
# ... and the finetuned ratings under model.merge memory: the base in float32 (28 GB) while merging.
MERGING_JOB = dict(MODEL_JOB, mem_mb=grows(4000 if TINY_MODEL else 48000))
MODEL_THREADS = 2 if TINY_MODEL else 8
# LoRA fine-tuning: one task on one node over model.finetune.gpus GPUs; host memory for every rank's
# copy of the model before DeepSpeed shards it; 12 h (a retry resumes from its checkpoint).
FINETUNE_JOB = dict(mem_mb=grows(8000 if TINY_MODEL else 128000), runtime=720, gpu=GPUS_FINETUNE, nodes=1)
# 8 per GPU (its rank and data loaders); the tiny model: 1, so that folds train side by side on a
# small machine (the kill-and-resume drills need two running fine-tunings at once)
FINETUNE_THREADS = 1 if TINY_MODEL else MODEL_THREADS * max(1, GPUS_FINETUNE)
# The merge, on the CPU (fp32: the 7B model is 28 GB, plus the output copy).
MERGE_JOB = dict(mem_mb=grows(4000 if TINY_MODEL else 64000), runtime=grows(120), gpu=0)


# ---- the input check (rules/checks.smk) ----
INPUTS_REPORT = f"{R}/checks/inputs.json"  # the verdict of checkpoint check_inputs
INPUTS_REFUSED = f"{R}/checks/refused"  # the output of refuse_inputs, which fails: never written
def input_check_passed():
    """Whether the verdict of the (finished) input check is ok; read once per file version."""
    return _verdict_ok(Path(INPUTS_REPORT).stat().st_mtime_ns)


@functools.cache
def _verdict_ok(mtime_ns):
    import json

    return json.loads(Path(INPUTS_REPORT).read_text())["ok"]


def inputs_checked(wildcards):
    """The input that makes the first job of every scene chain wait for the input check: none once
    it passed, rule refuse_inputs (which fails, listing the problems) when it did not. While the
    check is pending, its verdict as an ancient() checkpoint target: the job waits, and Snakemake
    plans it (and all after it) by its own inputs once the check has run, so a check rerun after
    one file changed reruns only that file's jobs. (A plain input of the check's output would
    rerun every job after every check; a plain ancient() input of a job that reruns hides the
    other jobs' own rerun reasons in Snakemake 9.27.) None in a dry run, whose plan is then the
    plan after a passing check, nor inside a job (it is already scheduled)."""
    from snakemake.exceptions import IncompleteCheckpointException

    if workflow.dryrun or workflow.touch or workflow.remote_exec or workflow.subprocess_exec:
        return []
    try:
        checkpoints.check_inputs.get()
    except IncompleteCheckpointException as e:
        ancient(e.targetfile)  # flags the checkpoint target in place
        raise
    return [] if input_check_passed() else [INPUTS_REFUSED]


def scene_files(scene):
    """A scene's own input files (image, ratings, maps) as rule check_scenes reads them."""
    st = study()
    files = {}
    if scene in st.images:
        files["image"] = str(st.images[scene])
    if scene in st.ratings:
        files["ratings"] = str(st.ratings[scene])
    maps = [str(found[scene]) for _, found in sorted(st.maps.items()) if scene in found]
    if maps:
        files["maps"] = maps
    return files


@functools.cache
def check_chunks():
    """chunk -> scenes, the chunks that check_scenes checks; the scenes with files of their own (none, fixations
    only) cut into chunks of checks.scenes_per_job, a scene's chunk fixed by its name as the rating
    shards are (meaningmaps.workflow.shards): a changed file reruns its chunk's check only."""
    st = study()
    own = [s for s in st.scenes if s in st.images or s in st.ratings or any(s in found for found in st.maps.values())]
    return assign_shards({"check": own}, config["checks"]["scenes_per_job"]) if own else {}


def chunk_check_files(wildcards):
    """Every input file of a chunk's scenes (rule check_scenes' input)."""
    files = {"images": [], "ratings": [], "maps": []}
    for scene in check_chunks()[wildcards.chunk]:
        own = scene_files(scene)
        files["images"] += [own["image"]] if "image" in own else []
        files["ratings"] += [own["ratings"]] if "ratings" in own else []
        files["maps"] += own.get("maps", [])
    return files


def chunk_check_scenes(wildcards):
    """{scene: what check_scene_files takes} of a chunk's scenes (rule check_scenes' params), with
    the content digests of the files (a corrected file copied in with an old time reruns the check)."""
    from meaningmaps.data.input_checks import scene_map_settings

    st = study()
    out = {}
    for scene in check_chunks()[wildcards.chunk]:
        own = scene_files(scene)
        paths = [own[k] for k in ("image", "ratings") if k in own] + list(own.get("maps", []))
        out[scene] = dict(size=list(st.sizes[scene]), image=own.get("image"), ratings=own.get("ratings"),
                          maps=scene_map_settings(st.maps, st.map_settings, scene),
                          content=[content_digest(p) for p in paths])
    return out


def check_reports(wildcards):
    """The reports of every chunk's check."""
    return expand(f"{R}/checks/scenes/{{chunk}}.json", chunk=list(check_chunks()))
