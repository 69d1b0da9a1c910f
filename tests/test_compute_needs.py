"""Compute needs: rating shards, GPUs of one's own on a workstation, the launcher's children under
conda, and the threads and resources every rule declares."""

from __future__ import annotations

import os
import subprocess
import sys
import venv

import pytest

from meaningmaps.model.finetune.launch import child_env, rank_threads
from meaningmaps.workflow.gpu_slots import claim_gpus
from meaningmaps.workflow.shards import assign_shards, model_of, shard_of

from .conftest import REPO

SCENES = [f"scene_{i:02d}" for i in range(1, 41)]


def test_shards_hold_every_scene_once_and_about_scenes_per_job():
    shards = assign_shards({"base": SCENES}, 10)
    assert sorted(s for scenes in shards.values() for s in scenes) == SCENES
    assert len(shards) == 4 and all(model_of(name) == "base" for name in shards)
    assert max(len(v) for v in shards.values()) <= 20


def test_adding_a_scene_changes_only_its_shard():
    before = assign_shards({"fold0": SCENES[:35]}, 10)
    after = assign_shards({"fold0": SCENES[:35] + ["kitchen"]}, 10)  # 4 shards of fold0 before and after
    changed = [name for name in after if after[name] != before.get(name)]
    assert changed == [shard_of(after, "kitchen")]


def test_one_scene_per_job_is_a_shard_per_scene():
    shards = assign_shards({"given": ["a", "b-c"], "fold1": ["d"]}, 1)
    assert shards == {"fold1--d": ["d"], "given--a": ["a"], "given--b-c": ["b-c"]}
    assert model_of("given--b-c") == "given"


def test_gpu_jobs_on_a_workstation_get_gpus_of_their_own(tmp_path, monkeypatch):
    """Two processes that each claim one of two GPUs get different ones; a third finds none free."""
    code = (f"import os, sys, time; sys.path.insert(0, {str(REPO / 'src')!r}); "
            "from meaningmaps.workflow.gpu_slots import claim_gpus; "
            f"print(claim_gpus(1, total=2, locks=__import__('pathlib').Path({str(tmp_path)!r})), "
            "os.environ['CUDA_VISIBLE_DEVICES'], flush=True); time.sleep(3)")
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    first = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    line1 = first.stdout.readline()
    second = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    line2 = second.stdout.readline()
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with pytest.raises(RuntimeError, match="only 0 of the machine's 2 are free"):
        claim_gpus(1, total=2, locks=tmp_path)
    first.wait(), second.wait()
    assert {line1.split()[-1], line2.split()[-1]} == {"0", "1"}
    assert claim_gpus(2, total=2, locks=tmp_path) == [0, 1]  # the locks went with the processes


def test_a_scheduler_assigned_gpu_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    assert claim_gpus(1, total=8, locks=tmp_path) is None and os.environ["CUDA_VISIBLE_DEVICES"] == "3"


def test_launcher_children_import_the_package_from_src_alone(tmp_path):
    """Under --software-deployment-method conda the environment has the dependencies but not the
    package: the ranks torchrun starts must find it through PYTHONPATH. A bare venv (nothing
    installed) stands for that environment."""
    venv.create(tmp_path / "bare", with_pip=False)
    python = tmp_path / "bare" / "bin" / "python"
    code = ("import importlib.util, meaningmaps; "
            "print(meaningmaps.__file__, importlib.util.find_spec('meaningmaps.model.finetune.__main__').origin)")
    without = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert without.returncode != 0 and "No module named 'meaningmaps'" in without.stderr
    env = child_env({"PATH": os.environ["PATH"], "PYTHONPATH": "/somewhere/else"})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO / "src"), "/somewhere/else"]
    found = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env)
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == [str(REPO / "src" / "meaningmaps" / "__init__.py"),
                                    str(REPO / "src" / "meaningmaps" / "model" / "finetune" / "__main__.py")]


def test_ranks_share_the_jobs_threads():
    assert rank_threads({"OMP_NUM_THREADS": "32"}, 4) == 8
    assert rank_threads({"OMP_NUM_THREADS": "2"}, 4) == 1


def test_every_rule_declares_threads_and_resources():
    """Every rule of rules/*.smk says its threads: and resources: (gpu, mem_mb, runtime)."""
    import re

    missing = []
    for path in sorted((REPO / "rules").glob("*.smk")):
        text = path.read_text()
        for m in re.finditer(r"^(\s*)(rule|checkpoint) (\w+):\n((?:\1    .*\n|\s*\n)+)", text, re.M):
            body = m.group(4)
            if "threads:" not in body or "resources:" not in body:
                missing.append(f"{path.name}:{m.group(3)}")
    assert not missing, missing
    common = (REPO / "rules" / "common" / "resources.smk").read_text()
    for name in ("LIGHT", "MODEL_JOB", "FINETUNE_JOB", "MERGE_JOB"):
        block = re.search(rf"^{name} = dict\((.*)\)$", common, re.M).group(1)
        assert all(k in block for k in ("mem_mb", "runtime", "gpu")), (name, block)


def test_light_rules_use_the_light_environment_and_import_no_torch():
    """Under --software-deployment-method conda a rule runs in its conda: environment. Every rule
    whose script needs no language model uses envs/core.yaml (no torch), and what its script imports
    from the package loads neither torch nor transformers (checked in a fresh interpreter)."""
    import re

    core, model = set(), set()
    for path in sorted((REPO / "rules").glob("*.smk")):
        for m in re.finditer(r"^\s*(?:rule|checkpoint) (\w+):\n(?:(?!^\s*(?:rule|checkpoint) ).*\n)*?\s*conda:\n"
                             r"\s*\"../envs/(\w+).yaml\"\n\s*script:\n\s*\"../scripts/(\w+).py\"", path.read_text(), re.M):
            (core if m.group(2) == "core" else model).add(m.group(3))
    assert {"qa_scene", "qa_split", "probe_fit", "probe_ratings", "map_from_ratings", "evaluate"} <= core, core
    assert {"finetune", "model_ratings", "probe_features", "merge", "patch_views", "prompt"} <= model, model
    for script in sorted(core):
        text = (REPO / "scripts" / f"{script}.py").read_text()
        modules = sorted(set(re.findall(r"^from (meaningmaps[\w.]*) import", text, re.M)))
        code = (f"import sys; sys.path.insert(0, {str(REPO / 'src')!r}); "
                + "; ".join(f"import {m}" for m in modules)
                + "; print(sorted(k for k in ('torch', 'transformers', 'peft', 'deepspeed') if k in sys.modules))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and out.stdout.strip() == "[]", (script, out.stdout, out.stderr[-500:])


def test_shard_of_finds_every_scene_and_refuses_an_unknown_one():
    shards = assign_shards({"fold0": SCENES[:20], "fold1": SCENES[20:]}, 10)
    for name, scenes in shards.items():
        assert all(shard_of(shards, s) == name for s in scenes)
        assert shard_of(dict(shards), scenes[0]) == name  # a plain dict of shards too
    with pytest.raises(KeyError, match="kitchen"):
        shard_of(shards, "kitchen")


def test_a_job_process_knows_its_rules_from_its_command_line():
    """A job's snakemake command line (the executor plugins' --allowed-rules, space- or comma-free
    names, one job or a group job's several) -> the rules it makes; none named -> every rule."""
    from meaningmaps.workflow.job_rules import rules_of_this_job

    argv = ["python", "-m", "snakemake", "--snakefile", "Snakefile", "--target-jobs", "maps_base_shard_base_3:",
            "--allowed-rules", "maps_base_shard_base_3", "maps_finetuned_shard_fold0_1", "--cores", "1"]
    assert rules_of_this_job(argv) == {"maps_base_shard_base_3", "maps_finetuned_shard_fold0_1"}
    assert rules_of_this_job(["snakemake", "--allowed-rules=score_scene attention", "-n"]) == {"score_scene", "attention"}
    assert rules_of_this_job(["snakemake", "--cores", "2"]) is None
