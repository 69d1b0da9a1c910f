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


@pytest.mark.parametrize("sub", [[], ["map"], ["inspect"], ["keys"], ["demo"], ["build-tiny"]])
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
