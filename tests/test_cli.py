"""The `meaningmaps` command as a user meets it: the installed console entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from meaningmaps.data.demo import make_demo_study

MEANINGMAPS = str(Path(sys.executable).with_name("meaningmaps"))


def run(*args, cwd=None):
    return subprocess.run([MEANINGMAPS, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.mark.parametrize("sub", [[], ["map"], ["score"], ["inspect"], ["keys"], ["demo"], ["build-tiny"]])
def test_every_subcommand_has_help(sub):
    proc = run(*sub, "--help")
    assert proc.returncode == 0 and "usage:" in proc.stdout, proc.stderr


def test_map_refuses_a_missing_model_before_loading_anything(tmp_path):
    image = tmp_path / "a.jpg"
    from PIL import Image

    Image.new("RGB", (64, 48)).save(image)
    proc = run("map", "--model", tmp_path / "nope", image, "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert f"{tmp_path / 'nope'}: (the trained model) does not exist." in proc.stderr and "Fix:" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_map_refuses_a_folder_that_holds_no_model(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "notes.txt").write_text("x")
    from PIL import Image

    Image.new("RGB", (64, 48)).save(tmp_path / "a.jpg")
    proc = run("map", "--model", tmp_path / "m", tmp_path / "a.jpg", "--out", tmp_path / "out")
    assert proc.returncode == 2 and "holds neither a LoRA adapter" in proc.stderr


def test_map_refuses_missing_images_and_clashing_names(tmp_path):
    from PIL import Image

    (tmp_path / "x").mkdir()
    Image.new("RGB", (64, 48)).save(tmp_path / "a.jpg")
    Image.new("RGB", (64, 48)).save(tmp_path / "x" / "a.png")
    proc = run("map", "--model", tmp_path, tmp_path / "b.jpg", "--out", tmp_path / "out")
    assert proc.returncode == 2 and "b.jpg: does not exist." in proc.stderr
    proc = run("map", "--model", tmp_path, tmp_path / "a.jpg", tmp_path / "x" / "a.png", "--out", tmp_path / "out")
    assert proc.returncode == 2 and "same name stem" in proc.stderr


def test_inspect_prints_the_demo_data_and_a_usable_dataset_section(tmp_path):
    make_demo_study(tmp_path / "data", n_scenes=3)
    proc = run("inspect", tmp_path / "data")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "scene_01" in out and "512" in out and "384" in out
    section = out.split("dataset:", 1)[1]
    ds = yaml.safe_load("dataset:" + section)["dataset"]
    assert Path(ds["images"]).resolve() == (tmp_path / "data" / "images").resolve()
    assert Path(ds["ratings"]).resolve() == (tmp_path / "data" / "ratings").resolve()
    assert Path(ds["fixations"]).resolve() == (tmp_path / "data" / "fixations.csv").resolve()


def test_version_and_python_m():
    from meaningmaps import __version__

    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"meaningmaps {__version__}"
    proc = subprocess.run([sys.executable, "-m", "meaningmaps", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"meaningmaps {__version__}", proc.stderr
    proc = subprocess.run([sys.executable, "-m", "meaningmaps", "score", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "--fixations" in proc.stdout


def test_map_takes_folders_of_images(tmp_path):
    from PIL import Image

    from meaningmaps.model.map_images import check_images

    (tmp_path / "photos").mkdir()
    for name in ("b.jpg", "a.png", ".hidden.jpg", "notes.txt"):
        (Image.new("RGB", (64, 48)).save(tmp_path / "photos" / name) if name.endswith(("jpg", "png"))
         else (tmp_path / "photos" / name).write_text("x"))
    Image.new("RGB", (64, 48)).save(tmp_path / "c.jpg")
    assert check_images([tmp_path / "photos", tmp_path / "c.jpg"]) == [
        tmp_path / "photos" / "a.png", tmp_path / "photos" / "b.jpg", tmp_path / "c.jpg"]
    (tmp_path / "empty").mkdir()
    proc = run("map", "--model", tmp_path, tmp_path / "empty", "--out", tmp_path / "out")
    assert proc.returncode == 2 and "is a folder with no scene images" in proc.stderr


def test_demo_writes_a_config_that_is_the_repositorys_demo_config(tmp_path):
    """`meaningmaps demo DIR` writes DIR/config.yaml: demo/config.yaml's settings with DIR's paths."""
    from meaningmaps.config import validate_config
    from meaningmaps.data.demo import demo_config

    from .conftest import REPO

    assert demo_config("demo/data", "demo/results") == yaml.safe_load((REPO / "demo" / "config.yaml").read_text())
    proc = run("demo", tmp_path / "study", "--scenes", "2")
    assert proc.returncode == 0, proc.stderr
    cfg = yaml.safe_load((tmp_path / "study" / "config.yaml").read_text())
    study = (tmp_path / "study").resolve()
    assert cfg == demo_config(study, study / "results")
    validate_config(cfg)
    for key in ("images", "ratings", "fixations"):
        assert Path(cfg["dataset"][key]).exists()


@pytest.mark.slow
def test_demo_config_runs_as_it_is(tmp_path):
    """snakemake --configfile DIR/config.yaml plans the whole demo from any folder (a dry run)."""
    from .conftest import REPO

    assert run("demo", tmp_path / "study", "--scenes", "2").returncode == 0
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    (tmp_path / "elsewhere").mkdir()
    proc = subprocess.run([snakemake, "-s", str(REPO / "Snakefile"), "--configfile", str(tmp_path / "study" / "config.yaml"),
                           "--cores", "1", "-n"], cwd=tmp_path / "elsewhere", capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "figures" in proc.stdout and "finetune" in proc.stdout


def test_a_model_without_a_card_is_a_base_model(tmp_path):
    from meaningmaps.model.map_images import is_base_model

    assert is_base_model("llava-hf/llava-1.5-7b-hf")
    folder = tmp_path / "copy"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert is_base_model(folder)  # a local copy of a base model
    (folder / "meaningmaps_card.json").write_text('{"format": "meaningmaps model card 1"}')
    assert not is_base_model(folder)  # a merged model: trained, with its card
    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter" / "adapter_config.json").write_text("{}")
    assert not is_base_model(tmp_path / "adapter") and not is_base_model(tmp_path / "nope")
