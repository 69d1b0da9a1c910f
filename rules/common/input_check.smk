# The input check's helpers (its rules: rules/checks.smk): the chunks of scenes that check_scenes
# checks, their files and params, and inputs_checked(), the input that makes the first job of every
# scene chain wait for the check's verdict (and fail with rule refuse_inputs when it found problems).
# Uses rules/common/study.smk (study, content_digest). The checks: src/meaningmaps/data/input_checks.py
import functools
import json
from pathlib import Path

from meaningmaps.workflow.shards import assign_shards

INPUTS_REPORT = f"{R}/checks/inputs.json"  # the verdict of checkpoint check_inputs
INPUTS_REFUSED = f"{R}/checks/refused"  # the output of refuse_inputs, which fails: never written


def input_check_passed():
    """Whether the verdict of the (finished) input check is ok; read once per file version."""
    return _verdict_ok(Path(INPUTS_REPORT).stat().st_mtime_ns)


@functools.cache
def _verdict_ok(mtime_ns):
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

    if workflow.dryrun or workflow.touch or IN_JOB:
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