"""Fine-tuning reruns driven through Snakemake, as a user meets them (not dry runs, not the launcher):

* the finetune job killed mid-training (its whole process tree, SIGKILL) resumes, when the same
  command is run again, from the last checkpoint and ends with the adapter an uninterrupted run gives;
* a changed ``model.finetune`` setting retrains, without an error and without resuming;
* changed ratings of one training scene retrain exactly the folds that train on it; the other
  fold's job does not run and its adapter is untouched.

One 3-scene demo study (k = 2: fold0 trains on scene_02, fold1 holds it out), the tiny model,
6 optimizer steps with a checkpoint every 2; the tests run in order on the same results.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from meaningmaps.data.demo import make_demo_study
from meaningmaps.model.finetune.testing_hooks import PAUSE_ENV

from .conftest import REPO, demo_config
from .test_workflow import SNAKEMAKE, snakemake, write_config

pytestmark = pytest.mark.slow
FOLDS = ("fold0", "fold1")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("reruns")
    make_demo_study(root / "data", n_scenes=3)
    cfg = demo_config(root)
    cfg["model"]["sources"] = ["finetuned"]
    cfg["model"]["finetune"].update(max_steps=6, save_steps=2, save_total_limit=None, per_device_batch=4,
                                    logging_steps=1, dataloader_workers=0)
    return root, cfg


def adapters_target(root) -> list[str]:
    return [str(root / "results" / "models" / f / "adapter") for f in FOLDS]


def run(root, cfg, **kw):
    return snakemake(root, write_config(root / "config.yaml", cfg), *adapters_target(root), **kw)


def executed(output: str) -> dict[str, int]:
    """The jobs a real run started, by rule (its 'rule X:' lines; the 'Job stats' table of a run
    whose input check reruns lists only the check, the rest is planned after it)."""
    counts: dict[str, int] = {}
    for m in re.finditer(r"^(?:local)?rule (\w+):$", output, re.MULTILINE):
        counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts


def adapter_bytes(root) -> dict[str, bytes]:
    return {f: (root / "results" / "models" / f / "adapter" / "adapter_model.safetensors").read_bytes()
            for f in FOLDS}


def adapter_tensors(root, fold):
    from safetensors.torch import load_file

    return load_file(root / "results" / "models" / fold / "adapter" / "adapter_model.safetensors")


def max_rel_diff(a: dict, b: dict) -> float:
    assert set(a) == set(b)
    return max(float((a[k] - b[k]).abs().max() / a[k].abs().max().clamp_min(1e-12)) for k in a)


def finetune_log(root, fold) -> str:
    path = root / "results" / "logs" / "finetune" / f"{fold}.log"
    return path.read_text() if path.is_file() else ""


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process."""
    table = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        table[int(d.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), cmd)
    return table


def kill_finetune_jobs(snakemake_pid: int) -> int:
    """SIGKILL every finetune job of this snakemake: the job's shell and everything below it
    (the rule script, torchrun, the ranks), as when the job's node dies. Returns the count killed."""
    table = process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    jobs = [p for p in children.get(snakemake_pid, []) if "finetune.py" in table[p][1]]
    victims = []
    for job in jobs:
        todo = [job]
        while todo:
            pid = todo.pop()
            victims.append(pid)
            todo += children.get(pid, [])
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(jobs)


def test_killed_finetune_job_resumes_when_the_same_command_runs_again(study):
    root, cfg = study
    configfile = write_config(root / "config.yaml", cfg)
    cmd = [SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--configfile", str(configfile), "--cores", "2",
           *adapters_target(root)]
    env = {**{k: v for k, v in os.environ.items() if "proxy" not in k.lower()}, PAUSE_ENV: "2"}
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 600
        while not all("paused after saving step 2" in finetune_log(root, f) for f in FOLDS):
            assert proc.poll() is None, proc.stdout.read()[-3000:]
            assert time.monotonic() < deadline, "the finetune jobs never reached checkpoint 2"
            time.sleep(1)
        assert kill_finetune_jobs(proc.pid) == 2
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0, out[-3000:]
    for fold in FOLDS:
        models = root / "results" / "models" / fold
        assert not (models / "adapter").exists() and not (models / "loss.csv").exists()
        assert [p.name for p in (models / "checkpoints").glob("*/checkpoint-*")] == ["checkpoint-2"]

    run(root, cfg)  # the same command again
    for fold in FOLDS:
        log = finetune_log(root, fold)
        assert "resuming from checkpoint" in log and "checkpoint-2" in log, log[-3000:]
        assert not (root / "results" / "models" / fold / "checkpoints").exists()
    study_state["resumed"] = {f: adapter_tensors(root, f) for f in FOLDS}


study_state: dict = {}


def test_changed_setting_retrains_and_same_setting_reproduces_the_resumed_run(study):
    root, cfg = study
    if "resumed" not in study_state:
        pytest.skip("needs the kill drill's run")
    before = adapter_bytes(root)
    changed = yaml.safe_load(yaml.safe_dump(cfg))
    changed["model"]["finetune"]["learning_rate"] = 1e-3
    proc = run(root, changed)
    assert executed(proc.stdout + proc.stderr).get("finetune") == 2
    after = adapter_bytes(root)
    for fold in FOLDS:
        assert after[fold] != before[fold]
        log = finetune_log(root, fold)
        assert "training from scratch" in log and "resuming" not in log

    # back to the first settings: an uninterrupted run, equal to the killed-and-resumed one
    proc = run(root, cfg)
    assert executed(proc.stdout + proc.stderr).get("finetune") == 2
    for fold in FOLDS:
        assert max_rel_diff(adapter_tensors(root, fold), study_state["resumed"][fold]) < 1e-5, fold


def test_changed_ratings_of_a_training_scene_retrain_only_the_folds_that_train_on_it(study, tmp_path):
    root, cfg = study
    run(root, cfg)  # whatever ran before: up to date with cfg
    before = adapter_bytes(root)
    fold1_adapter = root / "results" / "models" / "fold1" / "adapter" / "adapter_model.safetensors"
    fold1_mtime = fold1_adapter.stat().st_mtime_ns
    # other ratings of scene_02 (another seed), as a user's corrected file
    make_demo_study(tmp_path / "other", n_scenes=2, seed=7)
    shutil.copy(tmp_path / "other" / "ratings" / "scene_02.mat", root / "data" / "ratings" / "scene_02.mat")
    proc = run(root, cfg)
    counts = executed(proc.stdout + proc.stderr)
    assert counts.get("finetune") == 1, counts  # fold0, which trains on scene_02
    assert counts.get("human_ratings") == 1 and counts.get("check_scenes") == 1, counts
    after = adapter_bytes(root)
    assert after["fold0"] != before["fold0"]
    assert after["fold1"] == before["fold1"] and fold1_adapter.stat().st_mtime_ns == fold1_mtime
    assert "training from scratch" in finetune_log(root, "fold0")
