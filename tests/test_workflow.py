"""The Snakemake workflow itself: lint, dry runs, the demo end to end, targets, failures."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from meaningmaps.data.demo import make_demo_study

from .conftest import HH17, REPO, demo_config, ratings_csv

pytestmark = pytest.mark.slow  # runs the workflow: left out by scripts/test.sh --fast

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
MEANINGMAPS = str(Path(sys.executable).with_name("meaningmaps"))


def snakemake(workdir, configfile, *args, check=True, timeout=900):
    cmd = [SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--configfile", str(configfile), "--cores", "2", *args]
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}  # the fake OSF is local
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a (dry) run, as rule -> count."""
    counts = {}
    block = output.split("Job stats:", 1)[1] if "Job stats:" in output else ""
    for line in block.splitlines()[3:]:
        m = re.fullmatch(r"\s*(\w+)\s+(\d+)\s*", line)
        if not m:
            break
        counts[m.group(1)] = int(m.group(2))
    return counts


def rules_run(output: str) -> list[str]:
    """The rule of every job a (real) run started, in order, from Snakemake's job headers."""
    return re.findall(r"^(?:local)?(?:rule|checkpoint) (\w+):$", output, flags=re.M)


def write_config(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo study (3 scenes) through the whole workflow, once for this module."""
    root = tmp_path_factory.mktemp("demo")
    make_demo_study(root / "data", n_scenes=3)
    cfg = demo_config(root)
    configfile = write_config(root / "config.yaml", cfg)
    proc = snakemake(root, configfile)
    return root, configfile, proc


def test_lint_is_clean(tmp_path):
    proc = snakemake(REPO, REPO / "demo" / "config.yaml", "--lint", check=False)
    assert proc.returncode == 0
    assert "Lints for" not in proc.stdout + proc.stderr


def test_real_study_config_plans_the_download_first(tmp_path):
    proc = snakemake(tmp_path, REPO / "config.yaml", "-n")
    counts = job_counts(proc.stdout)
    assert counts.get("download") == 1, proc.stdout[-2000:]
    assert "checkpoint" in proc.stdout


def test_demo_end_to_end(demo_run):
    root, _, _ = demo_run
    res = root / "results"
    for name in ("comparison.png", "comparison.pdf", "summary.png", "summary.pdf", "gallery.png"):
        assert (res / "figures" / name).stat().st_size > 1000
    scores = pd.read_csv(res / "evaluation" / "scores.csv")
    assert set(scores.source) == {"human", "salience", "gbvs", "center", "center_empirical", "base", "finetuned",
                                  "probe"}
    assert scores.scene.nunique() == 3
    assert {"pearson_r", "r2", "sr2_over_center", "sr2_over_salience", "nss", "auc_judd", "auc_shuffled",
            "information_gain"} <= set(scores.columns)
    summary = pd.read_csv(res / "evaluation" / "summary.csv").set_index("source")
    # the demo's attention follows hidden meaning: human ratings must beat low-level salience
    assert summary.loc["human", "mean_r"] > summary.loc["salience", "mean_r"] + 0.1
    assert (summary["mean_ceiling"] > summary.loc["human", "mean_r"]).all()
    assert len(pd.read_csv(res / "evaluation" / "ceiling.csv")) == 3
    m = np.load(res / "maps" / "human" / "scene_01.npy")
    assert m.dtype == np.float32 and m.shape == (384, 512) and 1 <= m.min() < m.max() <= 6
    index = pd.read_csv(res / "patches" / "scene_02" / "index.csv")
    assert index.groupby("scale").size().to_dict() == {"coarse": 108, "fine": 336}
    assert len(list((res / "patches" / "scene_02").glob("*.png"))) == 444
    ratings = pd.read_csv(res / "ratings" / "human" / "scene_03.csv")
    assert ratings.groupby(["scale", "k"]).size().eq(3).all()
    for rule in ("patches", "human_ratings", "attention"):
        assert len(list((res / "logs" / rule).glob("*.log"))) == 3


def test_demo_model_steps(demo_run):
    """Every scene is rated by the fold model that never saw it, through fine-tune, merge, scoring."""
    root, _, _ = demo_run
    res = root / "results"
    # 3 scenes, k = 2, salt 0: fold0 holds out scene_01 and scene_03, fold1 holds out scene_02
    held_out = {"fold0": {"scene_01", "scene_03"}, "fold1": {"scene_02"}}
    for fold, scenes in held_out.items():
        train_ids = [json.loads(line)["id"] for line in (res / "qa" / "splits" / fold / "train.jsonl").open()]
        train_scenes = {i.split("/")[0] for i in train_ids}
        assert train_scenes == {"scene_01", "scene_02", "scene_03"} - scenes
        assert len(train_ids) == 444 * len(train_scenes)
        assert (res / "models" / fold / "adapter" / "adapter_config.json").is_file()
        assert not (res / "models" / fold / "merged").exists()  # model.merge: memory (the default)
        loss = pd.read_csv(res / "models" / fold / "loss.csv")
        train_loss = loss["loss"].dropna()
        assert train_loss.iloc[-1] < train_loss.iloc[0]  # it learns
        assert loss["eval_loss"].notna().any()  # the held-out loss, after the epoch
        card = json.loads((res / "models" / fold / "adapter" / "meaningmaps_card.json").read_text())
        assert card["prompt"] == (res / "qa" / "prompt.txt").read_text()
        assert (card["prompt_mode"], card["image_aspect"], card["fold"]) == ("llava_v1", "pad", fold)
        assert card["trained_scenes"] == sorted(train_scenes)
        assert (res / "probe" / fold / "ridge.npz").is_file()
    for source in ("base", "finetuned", "probe"):
        for scene in ("scene_01", "scene_02", "scene_03"):
            r = pd.read_csv(ratings_csv(res, source, scene))
            assert len(r) == 444 and r["rating"].between(1, 6).all()
    # base and finetuned rate a shard of scenes per job; each scene's ratings are also where the
    # other sources' are, ratings/<source>/<scene>.csv, the same bytes as in its shard's folder
    for source in ("base", "finetuned"):
        for scene in ("scene_01", "scene_02", "scene_03"):
            in_shards = sorted((res / "ratings" / source / "shards").glob(f"*/{scene}.csv"))
            assert len(in_shards) == 1, (source, scene, in_shards)
            assert ratings_csv(res, source, scene).read_bytes() == in_shards[0].read_bytes()
        assert sorted(p.name for p in (res / "ratings" / source).glob("*.csv")) == [f"scene_0{i}.csv" for i in (1, 2, 3)]
    ft = pd.read_csv(ratings_csv(res, "finetuned", "scene_02"))
    p = ft[[c for c in ft.columns if c.startswith("p_") and c != "p_mass"]].to_numpy()
    assert np.allclose(p.sum(axis=1), 1) and np.allclose(ft["rating"], ft["expected"])
    assert np.allclose(ft["expected"], p @ np.arange(1, 7))
    labels = pd.read_csv(res / "qa" / "labels" / "scene_02.csv")
    human = pd.read_csv(res / "ratings" / "human" / "scene_02.csv").groupby(["scale", "k"])["rating"].mean()
    merged = labels.set_index(["scale", "k"])
    assert np.allclose(merged["mean_rating"], human.reindex(merged.index))


def test_memory_merge_rates_as_the_merged_copy(demo_run):
    """model.merge memory (the default): the rating job merged the adapter in memory; the merged copy
    that rule merge writes (asked for as a target) gives the same ratings."""
    from meaningmaps.model.ratings import rate_scene
    from meaningmaps.model.trained_models import load_trained

    root, configfile, _ = demo_run
    res = root / "results"
    snakemake(root, configfile, f"{res}/models/fold1/merged")
    out = root / "merged_scene_02.csv"
    rate_scene(None, res / "qa" / "images" / "scene_02", res / "patches" / "scene_02" / "index.csv", out,
               batch_size=64, prompt=(res / "qa" / "prompt.txt").read_text(), progress=False,
               model_and_processor=load_trained(res / "models" / "fold1" / "merged", None, device="cpu"))
    memory = pd.read_csv(ratings_csv(res, "finetuned", "scene_02"))
    disk = pd.read_csv(out)
    p_cols = [c for c in memory.columns if c.startswith("p_")]
    np.testing.assert_allclose(disk[p_cols].to_numpy(), memory[p_cols].to_numpy(), rtol=0, atol=1e-6)


def test_images_only_base_study_cuts_patches_in_its_rating_jobs(demo_run, tmp_path):
    """The demo's images as a study of images alone, mapped by the base model: no step needs the patch
    and view files, so the rating jobs cut and view each scene themselves (no patches or patch_views
    jobs, no such folders), and the ratings and maps are the same bytes as the demo's, whose base
    ratings read the files of rules patches and patch_views (a model trained there reads them too)."""
    root, configfile, _ = demo_run
    res, new = root / "results", tmp_path / "res"
    cfg = yaml.safe_load(configfile.read_text())
    cfg["results"] = str(new)
    cfg["dataset"] = {"images": cfg["dataset"]["images"]}
    cfg["evaluation"].pop("semipartial", None)
    cfg["gbvs"] = {"enabled": False}
    cfg["model"].update(sources=["base"], build_tiny=None)  # the demo run's tiny model, as a given base model
    proc = snakemake(tmp_path, write_config(tmp_path / "images.yaml", cfg))
    ran = rules_run(proc.stdout + proc.stderr)
    assert ran.count("base_ratings") == 1 and ran.count("maps_base_shard_base_0") == 1, ran  # 3 scenes, 1 shard
    assert "map_from_model_ratings" not in ran, ran  # a map job per shard, not per scene
    assert not {"patches", "patch_views", "qa_scene"} & set(ran), ran
    assert not (new / "patches").exists() and not (new / "qa" / "images").exists()
    for scene in ("scene_01", "scene_02", "scene_03"):
        assert ratings_csv(new, "base", scene).read_bytes() == ratings_csv(res, "base", scene).read_bytes(), scene
        for made in (f"maps/base/{scene}.npy", f"previews/maps/base/{scene}.png"):
            assert (new / made).read_bytes() == (res / made).read_bytes(), made
    shard = next((new / "ratings" / "base" / "shards").iterdir())
    left = sorted(p.name for p in shard.iterdir() if p.name != ".snakemake_timestamp")
    assert left == ["scene_01.csv", "scene_02.csv", "scene_03.csv"]  # no temporary views left behind
    # a patch folder is still made on request (rule patches), the same as the demo's
    snakemake(tmp_path, tmp_path / "images.yaml", f"{new}/patches/scene_02")
    assert (new / "patches" / "scene_02" / "index.csv").read_bytes() == (res / "patches" / "scene_02" / "index.csv").read_bytes()
    assert "Nothing to be done" in snakemake(tmp_path, tmp_path / "images.yaml", "-n").stdout
    # One scene per shard: a map job per scene (rule map_from_model_ratings), the same bytes.
    cfg["results"] = str(tmp_path / "per_scene")
    cfg["model"]["inference"]["scenes_per_job"] = 1
    proc = snakemake(tmp_path, write_config(tmp_path / "per_scene.yaml", cfg))
    ran = rules_run(proc.stdout + proc.stderr)
    assert ran.count("base_ratings") == 3 and ran.count("map_from_model_ratings") == 3, ran
    for scene in ("scene_01", "scene_02", "scene_03"):
        for made in (f"ratings/base/{scene}.csv", f"maps/base/{scene}.npy", f"previews/maps/base/{scene}.png"):
            assert (tmp_path / "per_scene" / made).read_bytes() == (new / made).read_bytes(), made


def test_one_finetuned_scene_plans_only_its_fold(demo_run, tmp_path):
    root, configfile, _ = demo_run
    cfg = yaml.safe_load(configfile.read_text())
    cfg["results"] = str(tmp_path / "fresh")
    cfg["model"]["base"] = str(tmp_path / "fresh" / "models" / "tiny-llava")
    fresh = write_config(tmp_path / "config.yaml", cfg)
    proc = snakemake(root, fresh, "-n", f"{tmp_path}/fresh/maps/finetuned/scene_02.npy")
    # scene_02 is rated by fold1, trained on scene_01 and scene_03; scene_02's own labels (fold1's
    # test side) are planned for fold1's held-out loss only. fold1's shard holds scene_02 alone.
    expected = {
        "build_tiny_llava": 1, "patches": 3, "pad_fill": 1, "patch_views": 3, "human_ratings": 3, "qa_scene": 3,
        "prompt": 1, "qa_split": 2, "finetune": 1, "finetuned_ratings": 1, "maps_finetuned_shard_fold1_0": 1, "total": 20}
    assert job_counts(proc.stdout) == expected
    # its ratings at ratings/finetuned/scene_02.csv: written by its shard's map job, no job of their own
    proc = snakemake(root, fresh, "-n", f"{tmp_path}/fresh/ratings/finetuned/scene_02.csv")
    assert job_counts(proc.stdout) == expected


def test_changed_ratings_of_one_scene_rerun_only_what_depends_on_them(demo_run, tmp_path):
    root, configfile, _ = demo_run
    mat = root / "data" / "ratings" / "scene_02.mat"
    before, data = mat.stat(), mat.read_bytes()
    # Other ratings of the same grid (another seed). A mere touch would not do: Snakemake keeps
    # checksums of small inputs and reruns only when the content changed.
    make_demo_study(tmp_path / "other", n_scenes=2, seed=7)
    try:
        shutil.copy(tmp_path / "other" / "ratings" / "scene_02.mat", mat)
        proc = snakemake(root, configfile, "-n")
    finally:
        mat.write_bytes(data)
        os.utime(mat, ns=(before.st_atime_ns, before.st_mtime_ns))  # the other tests see the run as done
    counts = job_counts(proc.stdout)
    assert counts, proc.stdout[-3000:] + proc.stderr[-3000:]
    counts.pop("all", None)
    # scene_02 trains fold0 (which rates scene_01 and scene_03: one shard, one job); fold1, which
    # rates scene_02, never saw its labels and is not retrained (its test split is rewritten for the
    # held-out loss, an ancient() input of its training); the probe follows the same folds. fold0's
    # shard's map job makes the maps of scene_01 and scene_03.
    assert counts == {"human_ratings": 1, "qa_scene": 1, "qa_split": 2, "finetune": 1,
                      "finetuned_ratings": 1, "probe_fit": 1, "probe_ratings": 2, "map_from_ratings": 3,
                      "maps_finetuned_shard_fold0_0": 1,
                      "score_scene": 3, "evaluate": 1, "figures": 1, "total": 19}  # total counts rule all


def test_rerun_has_nothing_to_do(demo_run):
    root, configfile, _ = demo_run
    proc = snakemake(root, configfile, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_one_scene_map_as_target(demo_run, tmp_path):
    root, configfile, _ = demo_run
    cfg = yaml.safe_load(configfile.read_text())
    cfg["results"] = str(tmp_path / "fresh")
    fresh = write_config(tmp_path / "config.yaml", cfg)
    target = f"{tmp_path}/fresh/maps/human/scene_02.npy"
    proc = snakemake(root, fresh, "-n", target)
    assert job_counts(proc.stdout) == {"human_ratings": 1, "map_from_ratings": 1, "total": 2}


def test_config_typo_fails_in_the_first_seconds(tmp_path):
    configfile = write_config(tmp_path / "bad.yaml", {"results": str(tmp_path), "datset": {}})
    start = time.time()
    proc = snakemake(tmp_path, configfile, "-n", check=False)
    assert proc.returncode != 0
    assert "'datset' was unexpected" in proc.stdout + proc.stderr
    assert time.time() - start < 30


def test_failing_rule_leaves_no_output(demo_run, tmp_path):
    root, configfile, _ = demo_run
    images = tmp_path / "images"
    shutil.copytree(root / "data" / "images", images)
    data = (images / "scene_01.jpg").read_bytes()
    (images / "scene_01.jpg").write_bytes(data[: len(data) // 3])  # truncated JPEG
    cfg = yaml.safe_load(configfile.read_text())
    cfg["results"] = str(tmp_path / "res")
    cfg["dataset"]["images"] = str(images)
    bad = write_config(tmp_path / "config.yaml", cfg)
    proc = snakemake(tmp_path, bad, f"{tmp_path}/res/patches/scene_01", check=False)
    assert proc.returncode != 0
    assert "scene_01.jpg: cannot be decoded" in proc.stdout + proc.stderr
    assert not (tmp_path / "res" / "patches" / "scene_01").exists()
    assert not list((tmp_path / "res" / "patches").glob("scene_01*"))


def test_scene_missing_from_ratings_is_named(demo_run, tmp_path):
    root, configfile, _ = demo_run
    ratings = tmp_path / "ratings"
    shutil.copytree(root / "data" / "ratings", ratings)
    (ratings / "scene_02.mat").unlink()
    cfg = yaml.safe_load(configfile.read_text())
    cfg["dataset"]["ratings"] = str(ratings)
    bad = write_config(tmp_path / "config.yaml", cfg)
    proc = snakemake(tmp_path, bad, "-n", check=False)
    assert proc.returncode != 0
    assert "lacks 1 scene(s) that images has: scene_02" in proc.stdout + proc.stderr


@pytest.mark.realdata
def test_hh17_fixations_alone_plan_40_attention_maps(tmp_path, hh17_file):
    cfg = {"results": str(tmp_path / "res"),
           "dataset": {"fixations": str(HH17), "size": [1024, 768]}}
    proc = snakemake(tmp_path, write_config(tmp_path / "config.yaml", cfg), "-n")
    assert job_counts(proc.stdout)["attention"] == 40


def test_maps_and_fixations_only_with_download(demo_run, tmp_path):
    """No images, no ratings: the scenes are those with fixations and a map, their files come
    through the download checkpoint (a local fake OSF), and the figure is still made."""
    from .osf_fake import serve_tree

    root, _, _ = demo_run
    project = tmp_path / "project"
    shutil.copytree(root / "data" / "maps", project / "maps")
    shutil.copy(root / "data" / "fixations.csv", project / "fixations.csv")
    server, api_base = serve_tree(project, "fake1")
    try:
        dl = tmp_path / "dl"
        cfg = {"results": str(tmp_path / "res"),
               "download": {"enabled": True, "node": "fake1", "api_base": api_base, "dest": str(dl)},
               "dataset": {"fixations": str(dl / "fake1" / "fixations.csv"), "fixation_csv": {"origin": 1},
                           "maps": {"salience": str(dl / "fake1" / "maps" / "salience")}},
               "evaluation": {"semipartial": [["salience", "center"]], "bootstrap": 200},
               "figures": {"reference_source": "salience", "gallery_scenes": 2}}
        proc = snakemake(tmp_path, write_config(tmp_path / "config.yaml", cfg))
    finally:
        server.shutdown()
    manifest = yaml.safe_load((dl / "fake1" / "manifest.json").read_text())
    assert len(manifest["files"]) == 4  # fixations.csv + 3 salience maps
    scores = pd.read_csv(tmp_path / "res" / "evaluation" / "scores.csv")
    assert set(scores.source) == {"salience", "center", "center_empirical"} and scores.scene.nunique() == 3
    assert (tmp_path / "res" / "figures" / "gallery.png").is_file()
    assert not (tmp_path / "res" / "patches").exists()
    assert "download" in proc.stdout + proc.stderr


def pysaliency_style_files(folder: Path) -> dict[str, Path]:
    """stem -> file as pysaliency's SaliencyMapModelFromDirectory matches them: every file under the
    folder (recursively, relative paths, so a subfolder's files have stems like previews/x), the
    first one whose stem is the scene's (here in sorted order)."""
    files = sorted(p.relative_to(folder) for p in folder.rglob("*") if not p.name.startswith("."))
    found = {}
    for rel in files:
        found.setdefault(str(rel.with_suffix("")), folder / rel)
    return found


def test_map_folders_are_map_inputs_again(demo_run, tmp_path):
    """A finished study's maps/finetuned/ and a `meaningmaps map --out` folder hold one file per scene:
    a pysaliency-style reader (by stem) gets the arrays, and both read back as dataset.maps give the
    scores the workflow gave (the copy exactly; the --out maps are those of fold0's model)."""
    root, configfile, _ = demo_run
    res = root / "results"
    scenes = ["scene_01", "scene_02", "scene_03"]
    out = tmp_path / "mapped"
    proc = subprocess.run([MEANINGMAPS, "map", "--model", str(res / "models" / "fold0" / "adapter"),
                           str(root / "data" / "images"), "--out", str(out), "--configfile", str(configfile),
                           "--device", "cpu", "--quiet"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in (out / "previews").iterdir()) == [f"{s}.png" for s in scenes]
    assert sorted(p.name for p in (out / "ratings").iterdir()) == [f"{s}.csv" for s in scenes]
    for source in ("human", "salience", "base", "finetuned", "probe", "center", "center_empirical"):
        assert sorted(p.name for p in (res / "maps" / source).iterdir()) == [f"{s}.npy" for s in scenes], source
        assert sorted(p.name for p in (res / "previews" / "maps" / source).iterdir()) == [f"{s}.png" for s in scenes]
    assert sorted(p.name for p in (res / "attention").iterdir()) == [f"{s}.npy" for s in scenes]
    assert (res / "previews" / "attention" / "scene_01.png").stat().st_size > 1000
    for folder in (res / "maps" / "finetuned", out):
        found = pysaliency_style_files(folder)
        for scene in scenes:
            assert found[scene] == folder / f"{scene}.npy"
            assert np.load(found[scene]).shape == (384, 512)

    info = json.loads((out / "info" / "maps.json").read_text())
    assert (info["source"], info["zero_shot"]) == ("finetuned", False)

    # a base model (no card): the zero-shot `base` source, said so, and equal to the workflow's maps/base
    base_out = tmp_path / "base_mapped"
    proc = subprocess.run([MEANINGMAPS, "map", "--model", str(res / "models" / "tiny-llava"), str(root / "data" / "images"),
                           "--out", str(base_out), "--configfile", str(configfile), "--device", "cpu", "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "with the base model zero-shot (no model card): the workflow's `base` source" in proc.stdout
    info = json.loads((base_out / "info" / "maps.json").read_text())
    assert (info["source"], info["zero_shot"], info["model"]) == ("base", True, str(res / "models" / "tiny-llava"))
    for scene in scenes:
        np.testing.assert_allclose(np.load(base_out / f"{scene}.npy"), np.load(res / "maps" / "base" / f"{scene}.npy"),
                                   rtol=0, atol=1e-6)

    cfg = yaml.safe_load(configfile.read_text())
    cfg["results"] = str(tmp_path / "res")
    cfg["model"] = {"enabled": False}
    cfg["dataset"]["maps"] = {"salience": cfg["dataset"]["maps"]["salience"],
                              "finetuned_copy": str(res / "maps" / "finetuned"), "mapped": str(out)}
    snakemake(root, write_config(tmp_path / "config.yaml", cfg))
    new = tmp_path / "res"
    for scene in scenes:
        np.testing.assert_array_equal(np.load(new / "maps" / "mapped" / f"{scene}.npy"), np.load(out / f"{scene}.npy"))
    before = pd.read_csv(res / "evaluation" / "scores.csv").set_index(["source", "scene"])
    after = pd.read_csv(new / "evaluation" / "scores.csv").set_index(["source", "scene"])
    pd.testing.assert_frame_equal(after.loc["finetuned_copy"], before.loc["finetuned"], check_exact=True)
    pd.testing.assert_frame_equal(after.loc["human"], before.loc["human"], check_exact=True)
    # fold0 rated scene_01 and scene_03 in the workflow; `map` with its adapter gives those maps (to 1e-6)
    for scene in ("scene_01", "scene_03"):
        assert after.loc[("mapped", scene), "pearson_r"] == pytest.approx(
            before.loc[("finetuned", scene), "pearson_r"], abs=1e-5)


def test_report_includes_the_figures(demo_run):
    root, configfile, _ = demo_run
    report = root / "report.zip"
    snakemake(root, configfile, "--report", str(report))
    import zipfile

    names = zipfile.ZipFile(report).namelist()
    assert any(n.endswith("comparison.png") for n in names)
    assert any(n.endswith("gallery.png") for n in names)


def test_adding_a_scene_retrains_only_the_folds_that_gain_it(demo_run, tmp_path):
    """A 4th scene: its own chain, the one fold (of 2) whose training set gains it, and the scenes
    that fold rates; every other scene keeps its fold (fold = hash of the name)."""
    from meaningmaps.model.splits import kfold_assignment

    root, configfile, _ = demo_run
    make_demo_study(tmp_path / "data4", n_scenes=4)  # scenes 1-3 are the same as the fixture's
    data = root / "data"
    added = [data / "images" / "scene_04.jpg", data / "ratings" / "scene_04.mat",
             data / "maps" / "salience" / "scene_04.png"]
    fixations = data / "fixations.csv"
    saved = fixations.read_bytes(), fixations.stat()
    try:
        for path in added:
            shutil.copy(tmp_path / "data4" / path.relative_to(data), path)
        shutil.copy(tmp_path / "data4" / "fixations.csv", fixations)  # the file holds every scene
        proc = snakemake(root, configfile, "-n")
    finally:
        for path in added:
            path.unlink(missing_ok=True)
        fixations.write_bytes(saved[0])
        os.utime(fixations, ns=(saved[1].st_atime_ns, saved[1].st_mtime_ns))
    counts = job_counts(proc.stdout)
    assert counts, proc.stdout[-3000:] + proc.stderr[-3000:]
    folds = kfold_assignment([f"scene_{i:02d}" for i in range(1, 5)], 2, 0)
    assert all(folds[s] == f for s, f in {"scene_01": 0, "scene_02": 1, "scene_03": 0}.items())
    assert folds["scene_04"] in (0, 1)  # one fold gains it for training, the other holds it out
    for rule in ("patches", "patch_views", "human_ratings", "qa_scene", "base_ratings", "probe_features",
                 "center_map", "import_map"):
        assert counts.get(rule) == 1, (rule, counts)
    assert counts["finetune"] == 1 and "merge" not in counts, counts
    # the base model's one shard gains scene_04 (base_ratings 1 above); the finetuned shards of both
    # folds rerun: the gaining fold's model changed, the other fold's shard gains scene_04
    assert counts["finetuned_ratings"] == 2, counts
    # the probe features' one shard (probe_features 1 above) is rewritten, so both folds' ridge
    # probes (seconds on the CPU) are refitted and every scene is rated again
    assert counts["probe_fit"] == 2 and counts["probe_ratings"] == 4, counts
    assert counts["attention"] == 4 and counts["score_scene"] == 4, counts  # one fixation file for all
