"""The `meaningmaps` command as a user meets it: the installed console entry point."""

from __future__ import annotations

import re
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

    Image.new("RGB", (1024, 768)).save(image)  # a valid scene: the model is what is missing
    proc = run("map", "--model", tmp_path / "nope", image, "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert f"{tmp_path / 'nope'}: (the trained model) does not exist." in proc.stderr and "Fix:" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_map_refuses_a_folder_that_holds_no_model(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "notes.txt").write_text("x")
    from PIL import Image

    Image.new("RGB", (1024, 768)).save(tmp_path / "a.jpg")
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


# --------------------------------------------------------------------------- issue 21 §3: checked before the model loads

#: a patch grid that covers a 128 x 96 image with few patches (16), so the tiny model maps one in seconds
SMALL = {"patches": {"fine": {"n": 12, "diameter_px": 48}, "coarse": {"n": 6, "diameter_px": 100}},
         "meaning_map": {"sigma": 5}, "model": {"inference": {"batch_size": 16}}}


def _photo(path, seed=0, size=(128, 96)):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def photos(tmp_path):
    """a.jpg, c.png (good) and b.jpg (a text file named .jpg, the issue's example), the small config."""
    (tmp_path / "photos").mkdir()
    a, c = _photo(tmp_path / "photos" / "a.jpg", 1), _photo(tmp_path / "photos" / "c.png", 2)
    b = tmp_path / "photos" / "b.jpg"
    b.write_text("scene,x,y\nscene_01,10,20\n")
    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL))
    return a, b, c, config


def _meaningmaps_lines(stderr: str, command: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(f"meaningmaps {command}:")]


def test_map_reports_a_bad_image_and_maps_the_others(photos, tiny_llava_dir, tmp_path):
    """A text file named .jpg second of three: its one line (file, what is wrong, the fix), the first
    and third mapped, a summary naming it, exit code 2."""
    import json

    a, b, c, config = photos
    out = tmp_path / "maps"
    proc = run("map", "--model", tiny_llava_dir, a, b, c, "--out", out, "--configfile", config, "--device", "cpu",
               "--quiet")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    lines = _meaningmaps_lines(proc.stderr, "map")
    assert len(lines) == 2, proc.stderr
    assert lines[0].startswith(f"meaningmaps map: {b}: ") and "not a readable image" in lines[0] and "Fix: " in lines[0]
    assert lines[1].startswith("meaningmaps map: 2 of 3 images mapped; 1 not: ") and str(b) in lines[1]
    assert "2 image(s) mapped into" in proc.stdout
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["a.npy", "c.npy"]
    assert sorted(p.name for p in (out / "previews").iterdir()) == ["a.png", "c.png"]
    assert json.loads((out / "info" / "maps.json").read_text())["images"] == {"a": str(a), "c": str(c)}


def _no_model_load(monkeypatch):
    """The model loaders fail the test: whatever calls them ran past the checks."""
    from meaningmaps.model import loading as model_loading
    from meaningmaps.model import trained_models

    def loaded(*args, **kwargs):
        pytest.fail(f"the model was loaded ({args[0] if args else kwargs})")

    for module, name in ((model_loading, "load_llava"), (trained_models, "load_trained")):
        monkeypatch.setattr(module, name, loaded)


def test_map_reports_bad_images_before_the_model_loads(photos, tiny_llava_dir, tmp_path, monkeypatch):
    """The order of events: the bad image is reported, then the model is loaded (once), then the good
    ones are mapped; an image that fails while it is mapped (an InputError about its temporary
    ratings) is reported naming the image, the others are still mapped, and it leaves no output."""
    from meaningmaps.config import validate_config
    from meaningmaps.errors import InputError
    from meaningmaps.model import loading as model_loading
    from meaningmaps.model import ratings as model_ratings
    from meaningmaps.model.map_images import map_images

    a, b, c, _ = photos
    d = _photo(a.parent / "d.jpg", 3)
    events = []
    real_load, real_rate = model_loading.load_llava, model_ratings.rate_scene

    def load(*args, **kwargs):
        events.append("model loaded")
        return real_load(*args, **kwargs)

    def rate(model, views, index, out_csv, **kwargs):
        if "/.c." in str(out_csv):  # c's temporary folder: the model's answers name no category
            raise InputError(out_csv, "2 of 16 generated answers name no category.", "raise max_new_tokens.")
        return real_rate(model, views, index, out_csv, **kwargs)

    monkeypatch.setattr(model_loading, "load_llava", load)
    monkeypatch.setattr(model_ratings, "rate_scene", rate)
    out = tmp_path / "maps"
    run_ = map_images(tiny_llava_dir, [a, b, c, d], out, validate_config(SMALL), device="cpu", progress=False,
                      log=lambda line: events.append(line), report=lambda err: events.append(f"bad {err.path}"))
    assert events.index(f"bad {b}") < events.index("model loaded") < events.index(f"bad {c}")
    assert events.count("model loaded") == 1
    assert [m.image for m in run_.mapped] == [a, d]
    assert [str(e) for e in run_.failed][0].startswith(f"{b}: ")
    assert str(run_.failed[1]).startswith(f"{c}: could not be mapped: 2 of 16 generated answers name no category.")
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["a.csv", "a.npy", "a.png", "d.csv", "d.npy",
                                                                       "d.png", "maps.json"]


@pytest.mark.parametrize("spoil, says", [
    ("file", r"out \(--out\): is a file, not a folder\. Fix: "),
    ("below a file", r"out/maps \(--out\): cannot be created: .*out is a file, not a folder\. Fix: "),
    ("the images' folder", r"photos \(--out\): is the folder of the input image .*a\.jpg: .*Fix: give --out a folder "
                           r"of its own"),
    ("previews/ holds an image", r"out \(--out\): writes into previews/, the folder of the input image .*a\.jpg"),
    ("other files", r"out \(--out\): already holds 2 file\(s\) or folder\(s\) \(notes\.txt, street\.npy\), and no "
                    r"info/maps\.json: it is no map folder of meaningmaps map.*Fix: give --out a new or empty folder"),
])
def test_map_refuses_a_bad_out_before_the_model_loads(photos, tiny_llava_dir, tmp_path, monkeypatch, capsys, spoil, says):
    from meaningmaps.cli import main

    a, b, c, config = photos
    out, images = tmp_path / "out", [a, c]
    if spoil == "file":
        out.write_text("my notes")
    elif spoil == "below a file":
        out.write_text("my notes")
        out = out / "maps"
    elif spoil == "the images' folder":
        out = a.parent
    elif spoil == "previews/ holds an image":
        (out / "previews").mkdir(parents=True)
        images = [a.replace(out / "previews" / "a.jpg"), c]
    else:
        out.mkdir()
        (out / "notes.txt").write_text("x")
        (out / "street.npy").write_bytes(b"x")
    before = sorted((p, p.read_bytes()) for p in tmp_path.rglob("*") if p.is_file())
    _no_model_load(monkeypatch)
    code = main(["map", "--model", str(tiny_llava_dir), *map(str, images), "--out", str(out), "--configfile",
                 str(config), "--device", "cpu", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and re.search(says, err), err
    assert sorted((p, p.read_bytes()) for p in tmp_path.rglob("*") if p.is_file()) == before, "nothing written"


def test_map_reruns_into_its_own_folder_and_refuses_another_models(photos, tiny_llava_dir, tmp_path, monkeypatch,
                                                                 capsys):
    """An earlier `meaningmaps map` folder: the same model and settings replace its maps of these
    images and keep the others in info/maps.json; other settings (sigma) stop before the model loads."""
    import json

    import numpy as np

    from meaningmaps.cli import main

    a, _, c, config = photos
    out = tmp_path / "maps"
    argv = ["map", "--model", str(tiny_llava_dir), "--out", str(out), "--device", "cpu", "--quiet"]
    assert main([*argv, str(a), str(c), "--configfile", str(config)]) == 0
    first = np.load(out / "a.npy")
    assert main([*argv, str(a), "--configfile", str(config)]) == 0
    assert "replacing 1 image(s)' map, preview and ratings" in capsys.readouterr().out
    np.testing.assert_array_equal(np.load(out / "a.npy"), first)  # the same image and model: the same map
    assert json.loads((out / "info" / "maps.json").read_text())["images"] == {"a": str(a), "c": str(c)}
    other = tmp_path / "sigma6.yaml"
    other.write_text(yaml.safe_dump({**SMALL, "meaning_map": {"sigma": 6}}))
    _no_model_load(monkeypatch)
    assert main([*argv, str(a), "--configfile", str(other)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"maps\.json: says the maps in .*maps were made with sigma 5\.0; this run's sigma is 6\.0.*Fix: ",
                     err), err
    np.testing.assert_array_equal(np.load(out / "a.npy"), first)


#: (command line, what its one line says): {file} a file, {new} a path that does not exist, {own} a folder of
#: the user's files, {maps} a map folder, {fixations} a fixation file, {out} a new output folder
BAD_ARGUMENTS = [
    (["demo", "{file}"], r"^meaningmaps demo: .*notes\.txt \(OUT_DIR\): is a file, not a folder\. Fix: "),
    (["demo", "{file}/study"], r"^meaningmaps demo: .*notes\.txt/study \(OUT_DIR\): cannot be created: .*notes\.txt "
                               r"is a file"),
    (["demo", "{new}", "--scenes", "0"], r"^meaningmaps demo: --scenes: is 0; the demo makes 1 to 99 scenes"),
    (["demo", "{new}", "--scenes", "120"], r"^meaningmaps demo: --scenes: is 120;"),
    (["demo", "{new}", "--seed", "-1"], r"^meaningmaps demo: --seed: is -1;"),
    (["demo", "{own}"], r"^meaningmaps demo: .*own \(OUT_DIR\): holds config\.yaml, images and is no demo study"),
    (["build-tiny", "{file}"], r"^meaningmaps build-tiny: .*notes\.txt \(OUT_DIR\): is a file, not a folder"),
    (["build-tiny", "{own}"], r"^meaningmaps build-tiny: .*own \(OUT_DIR\): holds config\.yaml, images and is no tiny "
                              r"model of meaningmaps"),
    (["build-tiny", "{new}", "--image-size", "20"], r"^meaningmaps build-tiny: --image-size: is 20; .* 14 px patches"),
    (["build-tiny", "{new}", "--text-hidden", "12"], r"^meaningmaps build-tiny: --text-hidden: is 12; .*multiple of 8"),
    (["build-tiny", "{new}", "--text-layers", "0"], r"^meaningmaps build-tiny: --text-layers: is 0;"),
    (["build-tiny", "{new}", "--vision-hidden", "50"], r"^meaningmaps build-tiny: --vision-hidden: is 50;"),
    (["score", "{new}", "--fixations", "{fixations}", "--out", "{out}"], r"^meaningmaps score: .*new \(MAPS\): does "
                                                                         r"not exist\. Fix: "),
    (["score", "{file}", "--fixations", "{fixations}", "--out", "{out}"], r"^meaningmaps score: .*notes\.txt \(MAPS\): "
                                                                          r"is a file, not a folder of maps"),
    (["score", "{maps}", "--fixations", "{own}", "--out", "{out}"], r"^meaningmaps score: .*own \(--fixations\): is a "
                                                                    r"folder, not a fixation file"),
    (["score", "{maps}", "--fixations", "{fixations}", "--out", "{file}"], r"^meaningmaps score: .*notes\.txt "
                                                                           r"\(--out\): is a file, not a folder"),
    (["score", "{maps}", "--fixations", "{fixations}", "--out", "{maps}"], r"^meaningmaps score: .*salience \(--out\): "
                                                                           r"writes into the map folder"),
    (["score", "{maps}", "--fixations", "{fixations}", "--out", "{out}", "--size", "0", "0"],
     r"^meaningmaps score: --size: is 0 0;"),
    (["inspect", "{new}"], r"^meaningmaps inspect: .*new \(FOLDER\): does not exist\. Fix: "),
    (["inspect", "{file}"], r"^meaningmaps inspect: .*notes\.txt \(FOLDER\): is a file, not a folder\. Fix: "),
]


@pytest.mark.parametrize("args, says", BAD_ARGUMENTS, ids=[" ".join(args) for args, _ in BAD_ARGUMENTS])
def test_bad_arguments_end_with_one_line_and_exit_2(tmp_path, args, says):
    """demo, build-tiny, score and inspect: bad input ends with one line (the file or argument, what
    is wrong, the fix) and exit code 2, never a traceback, and nothing is written."""
    from PIL import Image

    (tmp_path / "notes.txt").write_text("my notes\n")
    (tmp_path / "own" / "images").mkdir(parents=True)
    (tmp_path / "own" / "config.yaml").write_text("results: mine\n")
    (tmp_path / "study" / "maps" / "salience").mkdir(parents=True)
    Image.new("L", (64, 48), 9).save(tmp_path / "study" / "maps" / "salience" / "scene_01.png")
    (tmp_path / "study" / "fixations.csv").write_text("scene,x,y\nscene_01,10,20\n")
    paths = dict(file=tmp_path / "notes.txt", new=tmp_path / "new", own=tmp_path / "own", out=tmp_path / "out",
                 maps=tmp_path / "study" / "maps" / "salience", fixations=tmp_path / "study" / "fixations.csv")
    before = sorted((p, p.read_bytes()) for p in tmp_path.rglob("*") if p.is_file())
    proc = run(*(a.format(**paths) for a in args))
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    lines = _meaningmaps_lines(proc.stderr, args[0])
    assert len(lines) == 1 and re.search(says, lines[0]) and "Fix: " in lines[0], proc.stderr
    assert sorted((p, p.read_bytes()) for p in tmp_path.rglob("*") if p.is_file()) == before
    assert not (tmp_path / "new").exists() and not (tmp_path / "out").exists()


@pytest.fixture
def unwritable(tmp_path):
    """A folder this user cannot write into: a read-only folder (as root, who may write into any
    folder, /proc/sys, which is read-only even to root); the test is skipped where none is found."""
    import os

    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (folder, Path("/proc/sys")):
        try:
            (candidate / "probe").mkdir()
        except OSError:
            yield candidate
            break
        (candidate / "probe").rmdir()
    else:
        pytest.skip("no unwritable folder here")
    folder.chmod(0o755)
    assert os.access(folder, os.W_OK)


@pytest.mark.parametrize("command", ["map", "demo", "build-tiny", "score"])
def test_an_unwritable_out_ends_with_one_line_and_exit_2(unwritable, photos, tmp_path, command):
    a, _, _, _ = photos
    target = unwritable / "meaningmaps-out"
    args = {"map": ["map", "--model", tmp_path / "no-model", a, "--out", target],
            "demo": ["demo", target], "build-tiny": ["build-tiny", target],
            "score": ["score", a.parent, "--fixations", a, "--out", target]}[command]
    proc = run(*args)
    lines = _meaningmaps_lines(proc.stderr, command)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert len(lines) == 1 and f"{target} (" in lines[0] and "cannot be written" in lines[0] and "Fix: " in lines[0], lines
    assert not target.exists()
