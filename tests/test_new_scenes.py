"""Train once, map anything: the real study's config on a project laid out like OSF ptsvm (served by
a fake OSF), the model trained on every scene, then scenes nobody rated mapped by the workflow and by
``meaningmaps map``, with the same numbers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io
import yaml
from PIL import Image

from meaningmaps.data.demo import make_demo_study

from .conftest import REPO, demo_config
from .test_workflow import snakemake, write_config

pytestmark = pytest.mark.slow
MEANINGMAPS = str(Path(sys.executable).with_name("meaningmaps"))
EYE_FILE = "HendersonHayes17-NHB_eyetracking_data.mat"


def write_hh17_mat(fixations_csv, path) -> None:
    """Fixations (the demo's 1-based CSV) in the Henderson & Hayes file's layout: a struct array D,
    one element per participant, with per-scene cells of image, fixN, loc ([row, col], 1-based), dur."""
    fix = pd.read_csv(fixations_csv)
    subjects = sorted(fix["subject"].unique())
    scenes = sorted(fix["scene"].unique())
    D = np.empty((1, len(subjects)), dtype=[("sbj", object), ("image", object), ("fixN", object),
                                            ("loc", object), ("dur", object)])

    def cell(values):
        out = np.empty((len(values), 1), dtype=object)
        for i, v in enumerate(values):
            out[i, 0] = v
        return out

    for j, subject in enumerate(subjects):
        own = fix[fix["subject"] == subject]
        per = [own[own["scene"] == s] for s in scenes]
        D[0, j]["sbj"] = np.array([[30 + j]], dtype=np.uint8)
        D[0, j]["image"] = cell([f"{s}.jpg" for s in scenes])
        D[0, j]["fixN"] = cell([np.arange(2, len(p) + 2).reshape(-1, 1) for p in per])
        D[0, j]["loc"] = cell([np.column_stack([p["y"], p["x"]]).astype(np.uint16) for p in per])
        D[0, j]["dur"] = cell([p["duration"].to_numpy().reshape(-1, 1).astype(np.uint16) for p in per])
    scipy.io.savemat(path, {"D": D})


def ptsvm_like_project(study: Path, project: Path) -> None:
    """Scene images, the human meaning maps as greyscale PNGs, the eye-movement .mat: the files the
    real config.yaml reads from the download."""
    for image in sorted((study / "images").iterdir()):
        (project / "scenes").mkdir(parents=True, exist_ok=True)
        Image.open(image).convert("RGB").save(project / "scenes" / f"{image.stem}.jpg", quality=95)
    (project / "meaning_maps").mkdir()
    for truth in sorted((study / "truth" / "meaning").glob("*.npy")):
        m = np.load(truth)
        grey = np.round(255 * (m - m.min()) / (m.max() - m.min())).astype(np.uint8)
        Image.fromarray(grey, "L").save(project / "meaning_maps" / f"{truth.stem}.png")
    write_hh17_mat(study / "fixations.csv", project / EYE_FILE)


def real_config_for(tmp: Path, api_base: str) -> dict:
    """config.yaml (the real study) with the download pointed at the fake OSF, and the tiny model,
    demo patch sizes and few folds of the tests; its dataset paths are kept (moved under tmp)."""
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    demo = demo_config(tmp)
    cfg["results"] = str(tmp / "results")
    cfg["download"].update(api_base=api_base, dest=str(tmp / "osf"))

    def moved(path: str) -> str:
        assert path.startswith("data/osf/ptsvm/"), path
        return str(tmp / "osf" / path[len("data/"):].split("/", 1)[1])

    ds = cfg["dataset"]
    ds["images"], ds["fixations"] = moved(ds["images"]), moved(ds["fixations"])
    ds["maps"] = {name: moved(folder) for name, folder in ds["maps"].items()}
    cfg["patches"], cfg["meaning_map"] = demo["patches"], demo["meaning_map"]
    cfg["evaluation"]["bootstrap"] = 200
    m = cfg["model"]
    m.update(sources=["finetuned", "probe"], base=demo["model"]["base"], build_tiny=demo["model"]["build_tiny"],
             folds={"k": 2, "salt": 0}, probe=demo["model"]["probe"],
             device="auto")  # the real study's cuda: this machine has no GPU (auto runs on the CPU)
    m["finetune"] = dict(demo["model"]["finetune"], max_steps=6)  # the plumbing, not the learning
    m["inference"]["batch_size"] = 64
    return cfg


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The real config on a 2-scene ptsvm-like download (k = 2: each fold model rates one scene):
    k-fold models rate, the `all` model is trained beside them and released with the k-fold scores
    in its card."""
    from .osf_fake import serve_tree

    tmp = tmp_path_factory.mktemp("ptsvm")
    make_demo_study(tmp / "study", n_scenes=2)
    ptsvm_like_project(tmp / "study", tmp / "project")
    server, api_base = serve_tree(tmp / "project", "ptsvm")
    try:
        cfg = real_config_for(tmp, api_base)
        proc = snakemake(tmp, write_config(tmp / "config.yaml", cfg))
    finally:
        server.shutdown()
    return tmp, cfg, proc


def test_real_config_runs_from_the_download_to_the_figure(trained):
    tmp, cfg, proc = trained
    res = Path(cfg["results"])
    assert "download" in proc.stdout + proc.stderr
    scores = pd.read_csv(res / "evaluation" / "scores.csv")
    assert set(scores.source) >= {"human", "finetuned", "probe", "center"} and scores.scene.nunique() == 2
    assert (res / "figures" / "comparison.png").is_file() and (res / "figures" / "gallery.png").is_file()
    # the human maps are the published files as they are (a greyscale PNG is its grey levels)
    png = np.asarray(Image.open(tmp / "osf" / "ptsvm" / "meaning_maps" / "scene_01.png"), dtype=np.float64)
    assert np.array_equal(np.load(res / "maps" / "human" / "scene_01.npy"), png.astype(np.float32))
    # labels by the paper's rule from those maps (no rating matrices in the download)
    labels = pd.read_csv(res / "qa" / "labels" / "scene_01.csv")
    assert labels["category"].nunique() > 1 and not (res / "ratings" / "human").exists()


def test_all_model_is_a_self_describing_release(trained):
    tmp, cfg, _ = trained
    res = Path(cfg["results"])
    release = res / "models" / "all" / "release"
    card = json.loads((release / "meaningmaps_card.json").read_text())
    assert card["fold"] == "all" and card["trained_scenes"] == ["scene_01", "scene_02"]
    assert (card["base_model"], card["prompt_mode"], card["image_aspect"]) == (cfg["model"]["base"], "llava_v1", "pad")
    assert card["labels"] == {"from": "human", "rule": "nearest"} and [s["name"] for s in card["scales"]] == ["fine", "coarse"]
    summary = pd.read_csv(res / "evaluation" / "summary.csv").set_index("source")
    cv = card["cross_validation"]
    assert cv["scheme"] == "kfold" and cv["n_scenes"] == 2
    assert cv["mean_r"] == pytest.approx(summary.loc["finetuned", "mean_r"])
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json"):
        assert (release / name).is_file()
    adapter_card = json.loads((res / "models" / "all" / "adapter" / "meaningmaps_card.json").read_text())
    assert adapter_card["cross_validation"] is None  # known only after the evaluation
    assert not (res / "models" / "all" / "merged").exists()  # the k-fold models rate; all is not merged


@pytest.fixture(scope="module")
def mapped(trained):
    """Three photographs nobody rated, in a study of images only, rated with the released model."""
    tmp, cfg, _ = trained
    make_demo_study(tmp / "new", n_scenes=4, seed=7)
    images = tmp / "photos"
    images.mkdir()
    for src, name in (("scene_01.jpg", "street.jpg"), ("scene_02.png", "kitchen.png"), ("scene_04.jpg", "park.jpg")):
        shutil.copy(tmp / "new" / "images" / src, images / name)
    new = {"results": str(tmp / "mapped"), "dataset": {"images": str(images)},
           "patches": cfg["patches"], "meaning_map": cfg["meaning_map"],
           "model": {"enabled": True, "sources": ["finetuned", "probe"], "base": cfg["model"]["base"],
                     "finetuned_model": str(Path(cfg["results"]) / "models" / "all" / "release"),
                     "probe_model": str(Path(cfg["results"]) / "probe" / "all" / "ridge.npz"),
                     "probe": cfg["model"]["probe"],
                     # one scene per rating job: adding an image then rates that image only (with more
                     # scenes per job it reruns the image's shard)
                     "inference": {"batch_size": 64, "scenes_per_job": 1}}}
    configfile = write_config(tmp / "mapped.yaml", new)
    proc = snakemake(tmp, configfile)
    return tmp, configfile, proc


def test_images_only_study_maps_every_image_without_training(mapped):
    tmp, _, _ = mapped
    res = tmp / "mapped"
    for source in ("finetuned", "probe"):
        for stem in ("street", "kitchen", "park"):
            m = np.load(res / "maps" / source / f"{stem}.npy")
            assert m.dtype == np.float32 and m.shape == (384, 512) and np.isfinite(m).all() and m.std() > 0
    assert (res / "figures" / "gallery.png").is_file()
    for absent in ("evaluation", "models", "qa/labels", "qa/splits", "attention", "maps/center"):
        assert not (res / absent).exists(), absent


def test_cli_map_equals_the_workflow(mapped):
    tmp, configfile, _ = mapped
    cfg = yaml.safe_load(configfile.read_text())
    images = [str(tmp / "photos" / n) for n in ("street.jpg", "kitchen.png", "park.jpg")]
    out = tmp / "cli"
    proc = subprocess.run([MEANINGMAPS, "map", "--model", cfg["model"]["finetuned_model"], *images, "--out", str(out),
                           "--configfile", str(configfile), "--device", "cpu"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "s per image" in proc.stdout and "rating patches" in proc.stderr  # the seconds, a progress bar
    for stem in ("street", "kitchen", "park"):
        cli, workflow = np.load(out / f"{stem}.npy"), np.load(tmp / "mapped" / "maps" / "finetuned" / f"{stem}.npy")
        assert cli.dtype == np.float32
        np.testing.assert_allclose(cli, workflow, rtol=0, atol=1e-6)
        assert Image.open(out / "previews" / f"{stem}.png").size == (512, 384)
        assert (out / "ratings" / f"{stem}.csv").is_file()
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["kitchen.npy", "park.npy", "street.npy"]


def test_adding_an_image_rates_only_that_image(mapped):
    tmp, configfile, _ = mapped
    shutil.copy(tmp / "new" / "images" / "scene_03.png", tmp / "photos" / "harbour.png")
    proc = snakemake(tmp, configfile)
    ran = {line.split()[1].rstrip(":") for line in proc.stdout.splitlines() + proc.stderr.splitlines()
           if line.startswith(("rule ", "localrule "))}
    scenes = {line.split("scene=")[1].split(",")[0].strip() for line in (proc.stdout + proc.stderr).splitlines()
              if "wildcards:" in line and "scene=" in line}
    assert scenes == {"harbour"}
    assert {"finetuned_ratings", "probe_ratings"} <= ran and not {"finetune", "probe_fit"} & ran
    assert (tmp / "mapped" / "maps" / "finetuned" / "harbour.npy").is_file()


@pytest.mark.parametrize("change, message", [
    ({"background": "grey"}, "trained with background 'black', but is used here with 'grey' (model.background)"),
    ({"image_aspect": "crop"}, "trained with image_aspect 'pad', but is used here with 'crop'"),
    ({"prompt": "chat_template"}, "trained with prompt_mode 'llava_v1', but is used here with 'chat_template'"),
    ({"base": "elsewhere/llava-1.5-7b-hf"}, "trained on the base model"),
    ({"finetuned_model": "no/such/model"}, "does not exist"),
    ({"probe": {"pooling": "mean"}}, "the probe was fitted on 'cls'-pooled features, but model.probe.pooling is 'mean'"),
    ({"finetuned_model": "."}, "holds neither a LoRA adapter"),
])
def test_a_model_that_does_not_fit_the_config_stops_before_any_work(mapped, tmp_path, change, message):
    tmp, configfile, _ = mapped
    cfg = yaml.safe_load(configfile.read_text())
    cfg["results"] = str(tmp_path / "res")
    cfg["model"].update(change)
    proc = snakemake(tmp_path, write_config(tmp_path / "c.yaml", cfg), check=False)
    assert proc.returncode != 0 and message in proc.stdout + proc.stderr
    assert "Fix:" in proc.stdout + proc.stderr
    assert not (tmp_path / "res").exists()


def test_scheme_all_alone_is_refused_where_its_scores_would_be_in_sample(tmp_path):
    """Rating the scenes a model was trained on and scoring them against fixations would publish
    in-sample numbers: the run stops before any job."""
    make_demo_study(tmp_path / "data", n_scenes=2)
    cfg = demo_config(tmp_path)
    cfg["model"]["scheme"] = "all"
    proc = snakemake(tmp_path, write_config(tmp_path / "c.yaml", cfg), "-n", check=False)
    assert proc.returncode != 0
    assert "model.scheme: all alone rates every scene with the model trained on it" in proc.stdout + proc.stderr
    assert "[kfold, all]" in proc.stdout + proc.stderr


def test_a_download_laid_out_otherwise_names_its_folders_and_the_key(tmp_path):
    """The OSF project's layout could not be checked: when config.yaml's paths miss the download,
    the run stops after the download with its folders, file counts and types, and the key to set;
    `meaningmaps inspect` then prints a dataset: section that fits."""
    from .osf_fake import serve_tree

    make_demo_study(tmp_path / "study", n_scenes=2)
    ptsvm_like_project(tmp_path / "study", tmp_path / "project")
    (tmp_path / "project" / "scenes").rename(tmp_path / "project" / "stimuli")  # another layout
    server, api_base = serve_tree(tmp_path / "project", "ptsvm")
    try:
        cfg = real_config_for(tmp_path, api_base)
        proc = snakemake(tmp_path, write_config(tmp_path / "config.yaml", cfg), check=False)
    finally:
        server.shutdown()
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "scene image folder does not exist. It lies inside the OSF download" in out
    assert "stimuli/" in out and "2 files (.jpg)" in out and "meaning_maps/" in out
    assert "set dataset.images to the download's folder" in out and "meaningmaps inspect" in out
    assert not (Path(cfg["results"]) / "patches").exists()
    inspect = subprocess.run([MEANINGMAPS, "inspect", str(tmp_path / "osf" / "ptsvm")], capture_output=True,
                             text=True, timeout=300)
    ds = yaml.safe_load("dataset:" + inspect.stdout.split("\ndataset:", 1)[1])["dataset"]
    assert ds["images"].endswith("stimuli") and ds["fixations"].endswith(EYE_FILE)
    assert ds["maps"]["human"].endswith("meaning_maps")
