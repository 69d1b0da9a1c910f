"""The up-front input check (rules/checks.smk, meaningmaps.data.input_checks): bad files stop the run in
the check, before any scene's job or model job, all of them named in one error; the error is not
retried; after the fix the run completes; a changed file reruns only its scene's jobs."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io
from PIL import Image

from meaningmaps.data import input_checks
from meaningmaps.data.demo import make_demo_study
from meaningmaps.data.rating_matrix import save_rating_matrix
from meaningmaps.errors import InputError

from .conftest import demo_config
from .test_workflow import job_counts, rules_run, snakemake, write_config

# jobs that read the study's files (the scene chains' first jobs) and every model job
GATED = {"patches", "human_ratings", "fixation_tables", "attention", "import_map"}
MODEL_JOBS = {"build_tiny_llava", "prompt", "patch_views", "qa_scene", "qa_split", "finetune", "merge",
              "base_ratings", "finetuned_ratings", "probe_features", "probe_fit", "probe_ratings"}


def no_model_config(root: Path) -> dict:
    cfg = demo_config(root)
    cfg["model"] = {"enabled": False}
    cfg["evaluation"]["bootstrap"] = 200
    return cfg


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A 3-scene demo study, never modified (tests copy it)."""
    root = tmp_path_factory.mktemp("pristine")
    make_demo_study(root, n_scenes=3)
    make_demo_study(root / "other", n_scenes=2, seed=7)  # other ratings of the same grid
    return root


def copy_study(pristine: Path, root: Path) -> Path:
    shutil.copytree(pristine, root / "data", ignore=shutil.ignore_patterns("other"))
    return root / "data"


def truncate_image(data: Path) -> Path:
    path = data / "images" / "scene_03.png"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 3])
    return path


def rating_seven(data: Path) -> Path:
    path = data / "ratings" / "scene_01.mat"
    cells = scipy.io.loadmat(path)["rating_matrix"]
    cell = cells[10, 10, 0].copy()
    cell.flat[0] = 7.0
    cells[10, 10, 0] = cell
    save_rating_matrix(path, cells)
    return path


def nan_map(data: Path) -> Path:
    png = data / "maps" / "salience" / "scene_02.png"
    arr = np.asarray(Image.open(png), dtype=np.float64)
    arr[5, 5] = np.nan
    png.unlink()
    np.save(png.with_suffix(".npy"), arr)
    return png.with_suffix(".npy")


def fixation_off_image(data: Path) -> Path:
    path = data / "fixations.csv"
    fix = pd.read_csv(path)
    fix.loc[fix.index[fix["scene"] == "scene_02"][0], "x"] = 5000.0
    fix.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def bad_then_fixed(pristine, tmp_path_factory):
    """Four bad files in three scenes: a run (with --retries 2), the same run again, then the
    files fixed and a third run, on one core."""
    root = tmp_path_factory.mktemp("bad")
    data = copy_study(pristine, root)
    bad = [truncate_image(data), rating_seven(data), nan_map(data), fixation_off_image(data)]
    configfile = write_config(root / "config.yaml", no_model_config(root))
    first = snakemake(root, configfile, "--cores", "1", "--retries", "2", check=False)
    again = snakemake(root, configfile, "--cores", "1", check=False)
    snapshot = {p: sorted(q.name for q in p.iterdir()) if p.is_dir() else None
                for p in (root / "results").iterdir()}
    snapshot["verdict"] = json.loads((root / "results" / "checks" / "inputs.json").read_text())
    (data / "maps" / "salience" / "scene_02.npy").unlink()
    for rel in ("images/scene_03.png", "ratings/scene_01.mat", "maps/salience/scene_02.png", "fixations.csv"):
        shutil.copy(pristine / rel, data / rel)  # new modification times: the fix is newer
    fixed = snakemake(root, configfile, check=False)
    return root, configfile, bad, first, again, fixed, snapshot


@pytest.mark.slow
def test_bad_files_stop_the_run_in_the_check(bad_then_fixed):
    root, _, bad, first, _, _, snapshot = bad_then_fixed
    out = first.stdout + first.stderr
    assert first.returncode != 0
    ran = set(rules_run(out))
    assert {"check_scenes", "check_inputs", "refuse_inputs"} <= ran, ran
    assert not ran & (GATED | {"map_from_ratings", "score_scene", "evaluate", "figures"}), ran
    assert "the input check found 4 problem(s) in 4 file(s)" in out
    for path in bad:  # each file named, with its fix, on its own line of the one error
        line = next((x for x in out.splitlines() if x.startswith(f"  - {path}: ")), None)
        assert line is not None and "Fix:" in line, (path, out[-4000:])
    results = root / "results"
    for folder in ("patches", "ratings", "attention"):
        assert results / folder not in snapshot, folder
    assert results / "maps" not in snapshot or set(snapshot[results / "maps"]) <= {"center"}
    verdict = snapshot["verdict"]  # checks/inputs.json after the run
    assert verdict["ok"] is False and len(verdict["problems"]) == 4


@pytest.mark.slow
def test_refusal_is_not_retried(bad_then_fixed):
    """The run had --retries 2 (as the SLURM profile): the refusal's `retries: 0` wins."""
    _, _, _, first, _, _, _ = bad_then_fixed
    out = first.stdout + first.stderr
    ran = rules_run(out)
    # 3 scenes: one chunk of checks (checks.scenes_per_job 50)
    assert (ran.count("check_scenes"), ran.count("check_inputs"), ran.count("refuse_inputs")) == (1, 1, 1), ran
    assert "Trying to restart" not in out


@pytest.mark.slow
def test_run_again_without_a_fix_refuses_at_once(bad_then_fixed):
    _, _, bad, _, again, _, _ = bad_then_fixed
    out = again.stdout + again.stderr
    assert again.returncode != 0
    assert rules_run(out).count("check_scenes") == 0  # nothing changed: the checks are not redone
    assert "refuse_inputs" in rules_run(out)
    assert all(f"  - {path}: " in out for path in bad)


@pytest.mark.slow
def test_run_after_the_fix_completes(bad_then_fixed):
    root, _, _, _, _, fixed, _ = bad_then_fixed
    out = fixed.stdout + fixed.stderr
    assert fixed.returncode == 0, out[-4000:]
    ran = rules_run(out)
    assert ran.count("check_scenes") == 1 and "refuse_inputs" not in ran
    assert ran.index("check_inputs") < min(ran.index(r) for r in GATED - {"patches"})
    assert json.loads((root / "results" / "checks" / "inputs.json").read_text())["ok"] is True
    assert (root / "results" / "figures" / "comparison.png").is_file()


@pytest.mark.slow
def test_changed_file_reruns_only_its_scene(bad_then_fixed, pristine):
    root, configfile, _, _, _, fixed, _ = bad_then_fixed
    assert fixed.returncode == 0
    results = root / "results"
    kept = {s: (results / "ratings" / "human" / f"{s}.csv").stat().st_mtime_ns for s in ("scene_01", "scene_03")}
    time.sleep(0.01)
    shutil.copy(pristine / "other" / "ratings" / "scene_02.mat", root / "data" / "ratings" / "scene_02.mat")
    plan = snakemake(root, configfile, "-n")
    counts = job_counts(plan.stdout)
    assert counts == {"human_ratings": 1, "map_from_ratings": 1, "score_scene": 1, "evaluate": 1, "figures": 1,
                      "all": 1, "total": 6}, plan.stdout[-3000:]  # a dry run plans after a passing check
    run = snakemake(root, configfile)
    ran = rules_run(run.stdout + run.stderr)
    assert sorted(ran) == sorted(["check_scenes", "check_inputs", "human_ratings", "map_from_ratings", "score_scene",
                                  "evaluate", "figures", "all"]), ran
    assert "scene=scene_02" in run.stdout + run.stderr
    for scene, mtime in kept.items():
        assert (results / "ratings" / "human" / f"{scene}.csv").stat().st_mtime_ns == mtime
    assert "Nothing to be done" in snakemake(root, configfile, "-n").stdout


@pytest.mark.slow
def test_bad_file_stops_the_model_steps_too(pristine, tmp_path):
    """Model steps enabled: a truncated image stops the run in the check, before any model job.
    One core, so that the jobs not behind the check (build_tiny_llava, center_map: no study file of
    a scene chain) cannot run beside it; the check's priority runs it first."""
    data = copy_study(pristine, tmp_path)
    image = truncate_image(data)
    configfile = write_config(tmp_path / "config.yaml", demo_config(tmp_path))
    proc = snakemake(tmp_path, configfile, "--cores", "1", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    ran = set(rules_run(out))
    assert "refuse_inputs" in ran and not ran & (GATED | MODEL_JOBS), ran
    assert f"  - {image}: cannot be decoded" in out
    assert not (tmp_path / "results" / "models").exists()


# ---- the module's functions ----

def test_check_records_input_errors_and_raises_bugs(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((4, 5)))
    done = input_checks.run_check("map", "map m", "s", [str(path), [4, 5], "m", "none", False])
    assert "constant" in done["problem"]["message"] and done["fingerprint"] == input_checks.fingerprint(path)
    with pytest.raises(KeyError):
        input_checks.run_check("nonsense", "x", "s", [str(path)])


def test_image_check_refuses_a_grid_that_leaves_pixels_uncovered(tmp_path):
    path = tmp_path / "s.png"
    Image.fromarray(np.zeros((64, 80, 3), dtype=np.uint8)).save(path)
    input_checks.check_image(path, (64, 80), [dict(name="fine", n=20, diameter=30.0)])
    with pytest.raises(InputError, match="grid .* leaves pixels"):
        input_checks.check_image(path, (64, 80), [dict(name="fine", n=2, diameter=10.0)])


def test_verdict_lists_every_problem_capped(tmp_path):
    checked = [{"label": "image", "scene": f"s{i}", "path": f"/d/s{i}.png", "seconds": 0.1, "fingerprint": [],
                "problem": {"message": f"/d/s{i}.png: bad. Fix: redo."} if i % 2 else None} for i in range(60)]
    result = input_checks.verdict([{"scene": None, "checked": checked}], log_path="/r/logs/checks/inputs.log")
    assert not result["ok"] and len(result["problems"]) == 30
    assert result["problem"].count("\n  - ") == input_checks.MAX_LISTED
    assert "... and 10 more (all of them in /r/logs/checks/inputs.log)" in result["problem"]
    err = input_checks.refusal(result)
    assert isinstance(err, InputError) and str(err).endswith("only the changed files are checked again.")
    assert input_checks.verdict([{"scene": "s", "checked": checked[:1]}])["ok"]


def test_refusal_names_a_fix_that_is_not_newer_than_the_check(tmp_path):
    path = tmp_path / "s.png"
    path.write_bytes(b"old")
    done = {"label": "image", "scene": "s", "path": str(path), "seconds": 0.0,
            "fingerprint": input_checks.fingerprint(path), "problem": {"message": f"{path}: bad."}}
    result = input_checks.verdict([{"scene": "s", "checked": [done]}])
    assert "touch" not in str(input_checks.refusal(result))
    path.write_bytes(b"fixed")  # e.g. cp -p: changed, but Snakemake does not check it again
    assert f"are not newer than the check: {path}; `touch` them" in str(input_checks.refusal(result))
