"""Data inspection (data/inspection.py): what a folder holds, the dataset: section it suggests (which must
load and run discovery), and the download-layout errors of dataset.discover."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import scipy.io
import yaml
from PIL import Image

from meaningmaps.config import validate_config
from meaningmaps.data.dataset import discover
from meaningmaps.data.demo import make_demo_study
from meaningmaps.data.inspection import dataset_section, describe_download, format_inspection, inspect_folder
from meaningmaps.errors import InputError

from .conftest import HH17, SMM

SCENES = ["scene_01", "scene_02", "scene_03"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    root = tmp_path_factory.mktemp("inspect") / "study"
    make_demo_study(root, n_scenes=3)
    return root


@pytest.fixture
def study(pristine, tmp_path):
    """The demo study plus maps in other formats, a .mat of two variables, a v7.3 .mat and a colour map."""
    root = tmp_path / "study"
    shutil.copytree(pristine, root)
    rng = np.random.default_rng(0)
    for folder in ("deepgaze", "gbvs", "published meaning", "jet"):
        (root / folder).mkdir()
    for scene in SCENES:
        np.savez(root / "deepgaze" / f"{scene}.npz", log_density=np.log(rng.random((384, 512)) + 1e-3))
        scipy.io.savemat(root / "gbvs" / f"{scene}.mat", {"map": rng.random((384, 512)), "sigma": 3.0})
        grey = rng.integers(0, 256, (384, 512)).astype(np.uint8)
        Image.fromarray(grey).save(root / "published meaning" / f"{scene}.jpg")
    for scene in SCENES:  # colour-mapped maps, as many as the scene images: not taken for them
        Image.fromarray(rng.integers(0, 256, (384, 512, 3)).astype(np.uint8)).save(root / "jet" / f"{scene}.png")
    scipy.io.savemat(root / "two.mat", {"a": np.ones((4, 5)), "b": np.zeros((4, 5))})
    (root / "old.mat").write_bytes(b"MATLAB 7.3 MAT-file".ljust(116) + b"\x00" * 8 + b"\x00\x02IM" + b"\x00" * 400)
    from .mat73_writer import write_v73

    write_v73(root / "v73.mat", {"a": np.ones((4, 5))})  # MATLAB v7.3 (HDF5): read with h5py
    (root / ".hidden.npy").write_bytes(b"not looked at")
    return root


def test_inspect_demo_study(study):
    insp = inspect_folder(study)
    assert not any(e.path.name.startswith(".") for e in insp.entries)
    kinds = {e.path.as_posix(): e.kind for e in insp.entries}
    assert kinds["images/scene_01.jpg"] == "scene image" and kinds["images/scene_02.png"] == "grey image"
    assert kinds["ratings/scene_01.mat"] == "rating matrix" and kinds["fixations.csv"] == "fixations"
    assert {kinds[f"{f}/scene_01.{s}"] for f, s in [("gbvs", "mat"), ("deepgaze", "npz"), ("truth/meaning", "npy")]} \
        == {"array"}
    assert kinds["published meaning/scene_01.jpg"] == "grey image" and kinds["jet/scene_01.png"] == "scene image"
    assert kinds["two.mat"] == "array" and kinds["v73.mat"] == "array"
    details = {e.path.as_posix(): e.detail for e in insp.entries}
    assert details["v73.mat"] == "a 4x5 double"
    assert kinds["old.mat"] == "unreadable" and "has a MATLAB v7.3 header but cannot be read as HDF5" in details["old.mat"]
    assert insp.images.as_posix() == "images" and insp.ratings.as_posix() == "ratings"
    assert insp.fixations.as_posix() == "fixations.csv" and insp.fixation_columns == {}
    assert {n: f.as_posix() for n, f in insp.maps.items()} == {
        "deepgaze": "deepgaze", "gbvs": "gbvs", "salience": "maps/salience",
        "published_meaning": "published meaning", "meaning": "truth/meaning"}  # ratings: no `human` map source
    text = format_inspection(insp)
    for expected in (r"images/  2 files \(\.jpg 1, \.png 1\); 512x384 \(WxH\)",
                     r"maps/salience/  3 files \(\.png\); 512x384 \(WxH\); stems match all 3 scene images",
                     r"gbvs/  3 files \(\.mat\); 512x384 \(WxH\); stems match all 3 scene images",
                     r"scene_01\.mat: map 384x512 double, sigma 1x1 double",
                     r"old\.mat: unreadable: has a MATLAB v7\.3 header but cannot be read as HDF5.*save\(path, \.\.\., '-v7'\)",
                     r"v73\.mat: a 4x5 double",
                     r"two\.mat: a 4x5 double, b 4x5 double",
                     r"fixations\.csv: columns scene, x, y, duration, subject",
                     r"ratings/  3 files \(\.mat\)\n    scene_01\.mat: rating_matrix 384x512x2 cell"):
        assert re.search(expected, text), (expected, text)


def test_dataset_section_loads_and_runs_discovery(study):
    insp = inspect_folder(study)
    text = dataset_section(insp, study)
    ds = yaml.safe_load(text)["dataset"]
    assert ds["images"] == f"{study}/images" and ds["ratings"] == f"{study}/ratings"
    assert ds["fixations"] == f"{study}/fixations.csv"
    assert ds["maps"]["salience"] == f"{study}/maps/salience" and ds["maps"]["published_meaning"] == \
        f"{study}/published meaning"
    assert "# fixation_csv: {origin: 0}  # or 1" in text  # the origin is left to the user, said how
    study_ = discover(validate_config({"dataset": dict(ds, fixation_csv={"origin": 1})}))
    assert study_.scenes == SCENES and set(study_.maps) == set(ds["maps"])


def test_patches_are_read_from_the_rating_matrices(study):
    """The suggested patches: section is the demo's grid (N 328 and 109 at its 512 x 384 scenes, not the
    toolkit's defaults), so the section runs on the demo data: the ratings are recovered as with
    demo/config.yaml's patches."""
    from meaningmaps.config import scale_specs
    from meaningmaps.data.demo import DEMO_SETTINGS
    from meaningmaps.data.human_ratings import human_ratings
    from meaningmaps.maps.patch_grid import PatchGrid

    text = dataset_section(inspect_folder(study), study)
    assert re.search(r"patches:  # the grid that covers ratings/scene_01\.mat \(3 ratings per patch\)", text), text
    cfg = yaml.safe_load(text)
    assert cfg["patches"] == {"fine": {"n": 328, "diameter_px": 44}, "coarse": {"n": 109, "diameter_px": 102}}
    ours = PatchGrid(384, 512, scale_specs(validate_config({"patches": cfg["patches"]})))
    demo = PatchGrid(384, 512, scale_specs(validate_config({"patches": DEMO_SETTINGS["patches"]})))
    for scale in ("fine", "coarse"):
        np.testing.assert_array_equal(ours.coverage(scale), demo.coverage(scale))
    mat = study / "ratings" / "scene_02.mat"
    pd.testing.assert_frame_equal(human_ratings(mat, "scene_02", ours), human_ratings(mat, "scene_02", demo))


def test_published_meaning_maps_without_ratings_become_human(study):
    shutil.rmtree(study / "ratings")
    shutil.rmtree(study / "truth")
    insp = inspect_folder(study)
    assert insp.ratings is None and insp.maps["human"].as_posix() == "published meaning"
    text = dataset_section(insp, study)
    assert "# ratings: <folder of <scene>.mat rating matrices" in text
    ds = yaml.safe_load(text)["dataset"]
    assert discover(validate_config({"dataset": dict(ds, fixation_csv={"origin": 1})})).maps["human"]


def test_eye_tracker_csv_columns_are_mapped(study):
    frame = pd.read_csv(study / "fixations.csv")
    frame = frame.rename(columns={"scene": "image", "x": "CURRENT_FIX_X", "y": "CURRENT_FIX_Y", "duration": "dur",
                                  "subject": "RECORDING_SESSION_LABEL"})
    frame["image"] = frame["image"] + ".jpg"
    frame.to_csv(study / "fixations.csv", index=False)
    insp = inspect_folder(study)
    assert insp.fixation_columns == {"scene": "image", "x": "CURRENT_FIX_X", "y": "CURRENT_FIX_Y",
                                     "duration": "dur", "subject": "RECORDING_SESSION_LABEL"}
    ds = yaml.safe_load(dataset_section(insp, study))["dataset"]
    assert ds["fixation_csv"]["columns"]["x"] == "CURRENT_FIX_X"
    ds["fixation_csv"]["origin"] = 1
    study_ = discover(validate_config({"dataset": ds}))
    assert study_.fixation_settings["columns"]["scene"] == "image"


def test_fixation_scenes_other_than_the_images_are_noted(study):
    frame = pd.read_csv(study / "fixations.csv")
    frame.loc[frame.scene == "scene_03", "scene"] = "elsewhere"
    frame.to_csv(study / "fixations.csv", index=False)
    notes = inspect_folder(study).notes
    assert any("fixations: 2 of its 3 scenes are among the 3 scene images" in n for n in notes), notes
    assert any("jet/ also hold colour images" in n for n in notes), notes


def test_inspect_refuses_a_missing_folder(tmp_path):
    with pytest.raises(InputError, match=r"nothing: is not a folder\. Fix: "):
        inspect_folder(tmp_path / "nothing")


# --------------------------------------------------------------------------- downloads


def _download(root):
    """A downloaded OSF project: its manifest and (some of) its files."""
    files = [f"stimuli/{s}.jpg" for s in SCENES] + [f"maps/meaning/{s}.png" for s in SCENES] + \
            ["maps/meaning/readme.txt", "eyetracking/fix.csv", "README.md"]
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    entries = [{"path": rel, "size": 1, "md5": None, "sha256": None, "status": "downloaded"} for rel in files]
    (root / "manifest.json").write_text(json.dumps({"node": "abcde", "api_base": "https://x", "files": entries}))
    return root


def test_describe_download_lists_folders_counts_and_types(tmp_path):
    text = describe_download(_download(tmp_path / "osf" / "abcde"))
    assert text.splitlines() == [
        f"{tmp_path}/osf/abcde (OSF project abcde): 9 files:",
        "  ./             1 file (.md)",
        "  eyetracking/   1 file (.csv)",
        "  maps/meaning/  4 files (.png 3, .txt 1)",
        "  stimuli/       3 files (.jpg)"]
    (tmp_path / "osf" / "abcde" / "manifest.json").write_text("{")
    with pytest.raises(InputError, match=r"manifest\.json: is not a readable download manifest.*Fix: download"):
        describe_download(tmp_path / "osf" / "abcde")


@pytest.mark.parametrize("key", ["images", "ratings", "maps.meaning.folder", "fixations"])
def test_missing_path_inside_a_download_lists_it(tmp_path, key):
    down = _download(tmp_path / "osf" / "abcde")
    ds = {"images": str(down / "stimuli"), "fixations": str(down / "eyetracking" / "fix.csv")}
    wrong = str(down / "data" / "missing")
    if key.startswith("maps"):
        ds["maps"] = {"meaning": {"folder": wrong}}
    else:
        ds[key] = wrong
    with pytest.raises(InputError) as info:
        discover(validate_config({"dataset": ds}))
    message = str(info.value)
    assert message.startswith(f"{wrong}: "), message
    listing = (r"does not exist\. It lies inside the OSF download .*osf/abcde \(OSF project abcde\): 9 files:\n"
               r"  \./ +1 file \(\.md\)\n.*  maps/meaning/  4 files \(\.png 3, \.txt 1\)\n")
    assert re.search(listing, message, re.S), message
    assert f"Fix: set dataset.{key} to the download's folder" in message, message
    assert f"`meaningmaps inspect {down}`" in message, message
    # the section `meaningmaps inspect` prints for the download, ready to paste
    section = message.split(f"# written by `meaningmaps inspect {down}`", 1)[1]
    assert "\ndataset:\n" in section and "fixations:" in section, message


def test_missing_path_outside_a_download_is_plain(tmp_path):
    with pytest.raises(InputError, match=r"img: scene image folder does not exist\. Fix: create it or fix "
                                         r"dataset\.images in the config\.$"):
        discover(validate_config({"dataset": {"images": str(tmp_path / "img")}}))


# --------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_inspect_scene_meaning_mapping():
    if not SMM.is_dir():
        pytest.skip("real data ../shared/data/scene-meaning-mapping is absent")
    insp = inspect_folder(SMM)
    assert insp.images.as_posix() == "scene_images" and insp.ratings.as_posix() == "rating_matrices"
    assert insp.fixations is None and not insp.maps
    assert "scene_images/  24 files (.jpg); 1024x768 (WxH)" in format_inspection(insp)
    ds = yaml.safe_load(dataset_section(insp, SMM))["dataset"]
    assert ds == {"images": f"{SMM}/scene_images", "ratings": f"{SMM}/rating_matrices"}


@pytest.mark.realdata
def test_inspect_hh17():
    if not HH17.is_file():
        pytest.skip("real data ../shared/data/hh17 is absent")
    insp = inspect_folder(HH17.parent)
    assert insp.fixations.name == HH17.name
    assert "struct D 1x65 with fields sbj, image, fixN, loc, dur (Henderson & Hayes layout)" in format_inspection(insp)
    assert yaml.safe_load(dataset_section(insp, HH17.parent))["dataset"] == {"fixations": str(HH17)}


@pytest.mark.slow
@pytest.mark.realdata
def test_real_rating_matrices_give_the_toolkits_grid(smm_dir):
    """Henderson-lab rating matrices (1024 x 768): the toolkit's 300 fine 87-px and 108 coarse 205-px patches."""
    from meaningmaps.data.rating_grid import infer_grid
    from meaningmaps.data.rating_matrix import load_rating_matrix

    first = sorted((smm_dir / "rating_matrices").glob("*.mat"))[0]
    grid = infer_grid(load_rating_matrix(first))
    fine, coarse = grid["fine"], grid["coarse"]
    assert (fine.diameter, coarse.diameter) == (87, 205)
    assert fine.n <= 300 <= fine.n_max and coarse.n <= 108 <= coarse.n_max


def test_inspect_command_names_broken_images_as_unreadable(pristine, tmp_path):
    """`meaningmaps inspect` on a folder with a truncated greyscale PNG and a text file named .jpg: both
    listed as unreadable with why (not as greyscale scenes), and named in the dataset section's note."""
    import subprocess
    import sys

    root = tmp_path / "study"
    shutil.copytree(pristine, root)
    grey = root / "images" / "scene_02.png"
    grey.write_bytes(grey.read_bytes()[:3000])
    (root / "images" / "scene_01.jpg").write_text("not an image\n")
    proc = subprocess.run([sys.executable, "-m", "meaningmaps", "inspect", str(root)], capture_output=True, text=True,
                          timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "greyscale scenes of the images folder" not in out, out
    assert re.search(r"unreadable or broken files \(not used for the suggestion\):\n  images/  2 files "
                     r"\(\.jpg 1, \.png 1\)\n    scene_01\.jpg: not an image file \(no image format recognised\)\n"
                     r"    scene_02\.png: not a readable image \(image file is truncated", out), out
    assert re.search(r"# note: images: 2 file\(s\) in images/ cannot be read, so the workflow would refuse them: "
                     r"images/scene_01\.jpg: not an image file.*images/scene_02\.png: not a readable image.*"
                     r"replace them, or leave their scenes out with dataset\.scenes", out), out
