"""The demo study through a real SLURM with the cluster profile (opt-in: MEANINGMAPS_SLURM_TESTS=1).

tests/slurm/local_slurm.sh starts a one-node SLURM on this machine (root, Debian 12; it installs
munge and slurm with apt-get on first use) with 8 fake GPUs, and stops it again. The workflow is
run exactly as on a cluster, ``snakemake --profile profiles/slurm``, plus the CI overlay
tests/slurm/ci_overlay.yaml (squeue status polling, fast first status check, no retries). Every
job's request is then read back from SLURM (``scontrol show job``), and a sitecustomize hook
records the CUDA_VISIBLE_DEVICES that each rule's own Python process saw inside its job step.
The fake GPUs are /dev/null device nodes: torch sees no CUDA, so the model code runs on the CPU.

    MEANINGMAPS_SLURM_TESTS=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_slurm.py
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from meaningmaps.data.demo import make_demo_study
from meaningmaps.errors import InputError
from meaningmaps.model.splits import kfold_assignment

from .conftest import REPO
from .conftest import demo_config as base_demo_config

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("MEANINGMAPS_SLURM_TESTS") != "1",
                       reason="SLURM tests are opt-in: set MEANINGMAPS_SLURM_TESTS=1 (needs root and apt)"),
]

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
LOCAL_SLURM = REPO / "tests" / "slurm" / "local_slurm.sh"
OVERLAY = REPO / "tests" / "slurm" / "ci_overlay.yaml"
PROFILE = REPO / "profiles" / "slurm"
RUN_TIMEOUT = 1200  # seconds; SIGINT then (SIGTERM does not stop a waiting snakemake --executor slurm)

# rule -> GPUs the rules ask for (model.finetune.gpus, one per rating or probe-feature job)
GPU_RULES = {"finetune": 4, "base_ratings": 1, "finetuned_ratings": 1, "probe_features": 1}
# SLURM jobs the demo (2 scenes, k = 2, 10 scenes per rating job, the adapters merged in memory)
# submits with the cluster profile's groups: one chunk of input checks; the group jobs prep, splits
# and post (per-scene jobs only) and map_shards (the map jobs of the base and finetuned shards); one
# job each for what every scene shares (the tiny model's build, the prompt, the pad colour, the
# fixation tables, the fixation pool, the evaluation); base ratings
# and probe features 1 shard each; finetune, finetuned ratings and probe fits 1 per fold. (At 40
# scenes that is about 42 jobs, at 1,000 about 150: bench/planning.py.)
EXPECTED_JOBS = {"check_scenes": 1, "prep": 1, "splits": 1, "post": 1, "map_shards": 1, "base_ratings": 1,
                 "probe_features": 1,
                 "finetune": 2, "finetuned_ratings": 2, "probe_fit": 2, "build_tiny_llava": 1, "prompt": 1,
                 "pad_fill": 1, "fixation_tables": 1, "fixation_pool": 1, "evaluate": 1}

# Written into a folder on the jobs' PYTHONPATH: every Python process started inside a SLURM job
# appends what it saw (job, step, CUDA_VISIBLE_DEVICES, its command line) to a JSON-lines file.
RECORDER = '''
import json, os, sys
if os.environ.get("SLURM_JOB_ID") and os.environ.get("MEANINGMAPS_SLURM_RECORD"):
    try:
        rec = {"job": os.environ.get("SLURM_JOB_ID"), "step": os.environ.get("SLURM_STEP_ID"),
               "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"), "argv": list(sys.argv[:4]), "pid": os.getpid(),
               "omp": os.environ.get("OMP_NUM_THREADS")}
        with open(os.environ["MEANINGMAPS_SLURM_RECORD"], "a") as f:
            f.write(json.dumps(rec) + "\\n")
    except Exception:  # never break a job
        pass
'''


def local_slurm(action: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(LOCAL_SLURM), action], check=False, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def slurm_cluster(request):
    """A running one-node SLURM (started here, always stopped again, daemons by PID)."""
    if os.geteuid() != 0:
        pytest.fail("MEANINGMAPS_SLURM_TESTS=1 needs root (apt-get, SLURM daemons, /etc/slurm)")

    def down():
        proc = local_slurm("down", timeout=120)
        print(proc.stdout[-2000:], proc.stderr[-2000:])

    request.addfinalizer(down)  # before `up`, so a half-started cluster is stopped too
    start = time.monotonic()
    proc = local_slurm("up")
    if proc.returncode != 0:
        pytest.fail(f"local_slurm.sh up failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    print(f"local SLURM up in {time.monotonic() - start:.0f} s: {proc.stdout.strip().splitlines()[-1]}")
    return proc


def demo_config(root: Path, n_scenes: int) -> dict:
    """The tests' demo config (tests/conftest.py) with k = 2 folds that both hold out a scene."""
    cfg = base_demo_config(root)
    model = cfg["model"]
    # k = 2 folds, each with a held-out scene: the first salt that gives both folds a test scene
    scenes = [f"scene_{i:02d}" for i in range(1, n_scenes + 1)]
    for salt in range(100):
        if len(set(kfold_assignment_or_empty(scenes, 2, salt).values())) == 2:
            break
    model["folds"] = {"k": 2, "salt": salt}
    model["finetune"]["max_steps"] = 8  # the requests and the plumbing, not the learning
    cfg["evaluation"]["bootstrap"] = 200
    return cfg


def kfold_assignment_or_empty(scenes, k, salt):
    try:
        return kfold_assignment(scenes, k, salt)
    except InputError:  # a fold without a test scene
        return {}


def scontrol_jobs() -> list[dict]:
    """Every job slurmctld still knows (MinJobAge=3600 on the local cluster), as field dicts."""
    out = subprocess.run(["scontrol", "show", "job", "-o"], capture_output=True, text=True, check=True).stdout
    jobs = []
    for line in out.splitlines():
        if not line.strip() or "JobId=" not in line:
            continue
        fields = {}
        # KEY=VALUE pairs separated by spaces; values may contain spaces only in Command/WorkDir etc.
        for m in re.finditer(r"(\w[\w:/]*)=(\S*)", line):
            fields.setdefault(m.group(1), m.group(2))
        jobs.append(fields)
    return jobs


def gpus_requested(job: dict) -> int:
    """GPUs in a job's request: TresPerJob (--gpus), TresPerNode (--gres), or ReqTRES/AllocTRES."""
    for key in ("TresPerJob", "TresPerNode", "ReqTRES", "AllocTRES", "TRES"):
        m = re.search(r"gres[/:]gpu[:=](\d+)", job.get(key, ""))
        if m:
            return int(m.group(1))
    return 0


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory):
    """The demo study (2 scenes, 2 folds) through snakemake --profile profiles/slurm, once."""
    root = tmp_path_factory.mktemp("slurm-demo")
    n_scenes = 2  # 3 takes ~1.5 min longer on 2 cores; 2 still run every rule, GPU rules included
    make_demo_study(root / "data", n_scenes=n_scenes)
    configfile = root / "config.yaml"
    configfile.write_text(yaml.safe_dump(demo_config(root, n_scenes)))
    probe = root / "pyprobe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(RECORDER)
    record = root / "job-processes.jsonl"

    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}  # in case pytest runs in a job
    env.update(MEANINGMAPS_SLURM_PARTITION="debug", MEANINGMAPS_SLURM_GPU_PARTITION="debug",
               MEANINGMAPS_SLURM_RECORD=str(record),
               PYTHONPATH=os.pathsep.join(filter(None, [str(probe), env.get("PYTHONPATH")])))
    cmd = ["timeout", "-s", "INT", "-k", "30", str(RUN_TIMEOUT),
           SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--profile", str(PROFILE), "--profile", str(OVERLAY),
           "--configfile", str(configfile)]
    start = time.monotonic()
    proc = subprocess.run(cmd, check=False, cwd=root, capture_output=True, text=True, env=env,
                          timeout=RUN_TIMEOUT + 120)
    wall = time.monotonic() - start
    print(f"snakemake through SLURM: {wall:.0f} s, exit {proc.returncode}")
    (root / "snakemake.out").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    jobs = [j for j in scontrol_jobs() if j.get("Comment", "").startswith("rule_")]
    records = [json.loads(line) for line in record.read_text().splitlines()] if record.is_file() else []
    if proc.returncode != 0:
        slurm_logs = sorted((root / ".snakemake" / "slurm_logs").rglob("*.log"))[-4:]
        logs = "\n".join(f"--- {p}\n{p.read_text()[-1500:]}" for p in slurm_logs)
        raise AssertionError(f"snakemake through SLURM failed ({proc.returncode}) after {wall:.0f} s:\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}\n{logs}")
    return root, jobs, records, proc




def profile_groups() -> set[str]:
    """The group names of the cluster profile (a YTE template, rendered as Snakemake renders it)."""
    import yte

    with open(PROFILE / "config.yaml") as f:
        profile = yte.process_yaml(f)
    # the profile's groups, and map_shards (the shard map rules carry it themselves: rules/maps.smk)
    return set(profile["groups"].values()) | set(profile["group-components"])


GROUPS = profile_groups()


def rule_of(job: dict) -> str:
    """The rule of a job, from the plugin's --comment rule_<rule>[_wildcards_<...>]; for a group job
    (comment rule_<group>_<its rules>...) the group's name."""
    comment = job["Comment"][len("rule_"):]
    name = comment.split("_wildcards_", 1)[0]
    return next((g for g in GROUPS if name.startswith(g + "_")), name)


def test_demo_through_slurm_makes_the_figure(slurm_run):
    root, jobs, _, _ = slurm_run
    assert (root / "results" / "figures" / "comparison.png").stat().st_size > 1000
    rules = {rule_of(j) for j in jobs}
    assert set(GPU_RULES) <= rules, rules
    assert "figures" not in rules  # a localrule: runs on the submit host, not through sbatch
    bad = [(j["JobId"], rule_of(j), j.get("JobState")) for j in jobs if j.get("JobState") != "COMPLETED"]
    assert not bad, bad


def test_gpu_rules_asked_slurm_for_gpus(slurm_run):
    _, jobs, _, _ = slurm_run
    for rule, n in GPU_RULES.items():
        mine = [j for j in jobs if rule_of(j) == rule]
        assert mine, f"no SLURM job of rule {rule}"
        for j in mine:
            assert gpus_requested(j) == n, (rule, {k: j.get(k) for k in ("TresPerJob", "TresPerNode", "ReqTRES")})
            assert j.get("Partition") == "debug"
            assert j.get("NumNodes") == "1"
            assert j.get("NumTasks") == "1", (rule, j.get("NumTasks"))  # one task; torchrun starts the ranks
    # what the rules ask for (rules/common/resources.smk; the tiny model's small sizes), not the profile
    finetune = next(j for j in jobs if rule_of(j) == "finetune")
    assert finetune.get("NumCPUs") == "1"  # the tiny model's 1 (8 per GPU for the 7B)
    assert finetune.get("TimeLimit") == "12:00:00"
    assert finetune.get("MinMemoryNode") in ("8000M", "7.81G")
    rating = next(j for j in jobs if rule_of(j) == "base_ratings")
    assert rating.get("NumCPUs") == "2" and rating.get("TimeLimit") == "02:00:00"


def test_demo_submits_few_jobs(slurm_run):
    """The cluster profile's groups, chunks and rating shards: tens of jobs for 40 scenes, 18 here."""
    _, jobs, _, _ = slurm_run
    submitted: dict[str, int] = {}
    for j in jobs:
        submitted[rule_of(j)] = submitted.get(rule_of(j), 0) + 1
    assert submitted == EXPECTED_JOBS, submitted


def test_cpu_rules_asked_for_no_gpu(slurm_run):
    _, jobs, _, _ = slurm_run
    cpu = [j for j in jobs if rule_of(j) not in GPU_RULES]
    names = {rule_of(j) for j in cpu}
    assert {"prep", "post", "build_tiny_llava"} <= names, names
    for j in cpu:
        assert gpus_requested(j) == 0, (rule_of(j), j.get("TresPerJob"), j.get("ReqTRES"))
        assert "CUDA" not in j.get("Command", "")
    check = next(j for j in cpu if rule_of(j) == "check_scenes")  # a light rule's own: 1 CPU, 4 GB, 1 h
    assert check.get("NumCPUs") == "1" and check.get("MinMemoryNode") in ("4000M", "3.91G"), check
    assert check.get("TimeLimit") == "01:00:00" and check.get("Partition") == "debug"


def test_each_rule_process_saw_its_gpus(slurm_run):
    """Inside the job step (srun of the job-step plugin), the rule's script sees the job's GPUs."""
    _, jobs, records, _ = slurm_run
    by_job = {j["JobId"]: rule_of(j) for j in jobs}
    scripts = {}
    for r in records:  # the rule's own script: snakemake runs it as python .snakemake/scripts/tmpXXX.<name>.py
        name = Path(r["argv"][0]).name if r["argv"] else ""
        if r["job"] in by_job and ".snakemake" in (r["argv"][0] if r["argv"] else "") and name.endswith(".py"):
            scripts.setdefault(by_job[r["job"]], []).append(r)
    assert set(GPU_RULES) <= set(scripts), (sorted(scripts), records[:5])
    for rule, recs in scripts.items():
        want = GPU_RULES.get(rule, 0)
        for r in recs:
            seen = [d for d in (r["cuda"] or "").split(",") if d]
            assert len(seen) == want, (rule, r)
            assert r["step"] not in (None, "batch"), r  # ran in the job step, not the batch script
    # the threads the job was given reach torch and BLAS (OMP_NUM_THREADS; the tiny model's 2 per job)
    for rule in ("base_ratings", "finetuned_ratings", "probe_features"):
        assert {r["omp"] for r in scripts[rule]} == {"2"}, (rule, scripts[rule])
