"""Bad input (issue 12): the table of cases, each made from a demo study, where it stops and what
it says. Every message names the file (or the config key) and ends with a fix; none prints a
numpy repr (np.float64(7.0)) or an empty cell as nan.

Function-level cases call what the job (or the start-up) calls; the Snakemake cases run the
workflow on the same bad input (model off, except the patches of the 16-bit image and the
temporary-name cases, which target the patches folder alone).
"""

from __future__ import annotations

import errno
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io
from PIL import Image

from meaningmaps import atomic
from meaningmaps.atomic import WriteCollision, atomic_dir, content_digest, save_npy
from meaningmaps.config import scale_specs, validate_config
from meaningmaps.data.dataset import discover
from meaningmaps.data.demo import demo_scale_specs, make_demo_study
from meaningmaps.data.external_maps import imported_map
from meaningmaps.data.human_ratings import human_ratings
from meaningmaps.data.images import image_size, load_rgb
from meaningmaps.data.rating_matrix import build_rating_matrix, save_rating_matrix
from meaningmaps.errors import InputError
from meaningmaps.maps.patch_files import write_scene_patches
from meaningmaps.maps.patch_grid import PatchGrid, ScaleSpec

from .conftest import demo_config
from .test_workflow import snakemake, write_config

# --------------------------------------------------------------------------- the demo study


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """One 2-scene demo study (scene_01 JPEG, scene_02 greyscale PNG), copied per test."""
    root = tmp_path_factory.mktemp("pristine")
    make_demo_study(root / "data", n_scenes=2)
    return root / "data"


@pytest.fixture
def demo(pristine, tmp_path):
    """(root, config) of a fresh copy of the demo study, model off."""
    import shutil

    shutil.copytree(pristine, tmp_path / "data")
    cfg = demo_config(tmp_path)
    cfg["model"]["enabled"] = False
    return tmp_path, cfg


def _grid(cfg: dict, path) -> PatchGrid:
    h, w = image_size(path)
    return PatchGrid(h, w, scale_specs(validate_config(cfg)))


def _ratings_as_csv(root: Path, cfg: dict, raters: bool = True) -> dict[str, Path]:
    """Replace the demo's rating matrices by per-patch CSVs (rater r1..r3 by position in the list)."""
    out = {}
    for mat in sorted((root / "data" / "ratings").glob("*.mat")):
        scene = mat.stem
        frame = human_ratings(mat, scene, _grid(cfg, root / "data" / "images" / _image_name(root, scene)))
        frame = frame.drop(columns="scene")
        if raters:
            frame.insert(0, "rater", [f"r{i + 1}" for i in frame.groupby(["scale", "k"]).cumcount()])
        csv = mat.with_suffix(".csv")
        frame.to_csv(csv, index=False)
        mat.unlink()
        out[scene] = csv
    return out


def _image_name(root: Path, scene: str) -> str:
    return next(p.name for p in (root / "data" / "images").iterdir() if p.stem == scene)


def _error(call: Callable, *args, **kw) -> str:
    with pytest.raises(InputError) as info:
        call(*args, **kw)
    return str(info.value)


def _csv_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


# --------------------------------------------------------------------------- the cases
# Each case spoils a copy of the demo study and returns the error message where it stops.


def image_cmyk(root, cfg):
    path = root / "data" / "images" / "scene_01.jpg"
    with Image.open(path) as im:
        im.convert("CMYK").save(path, "JPEG")
    return _error(discover, validate_config(cfg))


def image_exif_rotated(root, cfg):
    path = root / "data" / "images" / "scene_01.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    with Image.open(path) as im:
        im.load()
        im.save(path, "JPEG", exif=exif)
    return _error(discover, validate_config(cfg))


def image_truncated(root, cfg):
    path = root / "data" / "images" / "scene_02.png"
    path.write_bytes(path.read_bytes()[:5000])
    return _error(load_rgb, path)


def image_float(root, cfg):
    path = root / "data" / "images" / "scene_02.png"  # a 32-bit TIFF saved under the PNG's name
    Image.fromarray(np.zeros((384, 512), np.int32) + 70000).save(path, "TIFF")
    return _error(load_rgb, path)


def csv_duplicate_row(root, cfg):
    csv = _ratings_as_csv(root, cfg)["scene_01"]
    lines = _csv_lines(csv)
    csv.write_text("\n".join(lines + [lines[5]]) + "\n")  # line 6 pasted again as the last line
    return _error(human_ratings, csv, "scene_01", _grid(cfg, root / "data" / "images" / "scene_01.jpg"))


def csv_duplicate_row_no_rater(root, cfg):
    csv = _ratings_as_csv(root, cfg, raters=False)["scene_01"]
    lines = _csv_lines(csv)
    csv.write_text("\n".join(lines + [lines[5]]) + "\n")
    return _error(human_ratings, csv, "scene_01", _grid(cfg, root / "data" / "images" / "scene_01.jpg"))


def csv_uneven(root, cfg):
    csv = _ratings_as_csv(root, cfg)["scene_01"]
    lines = _csv_lines(csv)
    csv.write_text("\n".join(lines[:4] + lines[5:]) + "\n")  # one rating of one patch gone
    return _error(human_ratings, csv, "scene_01", _grid(cfg, root / "data" / "images" / "scene_01.jpg"))


def csv_fractional_k(root, cfg):
    csv = _ratings_as_csv(root, cfg)["scene_01"]
    frame = pd.read_csv(csv)
    frame["k"] = frame["k"].astype(float)
    frame.loc[7, "k"] = 9.5
    frame.to_csv(csv, index=False)
    return _error(human_ratings, csv, "scene_01", _grid(cfg, root / "data" / "images" / "scene_01.jpg"))


def csv_empty_rating(root, cfg):
    csv = _ratings_as_csv(root, cfg)["scene_01"]
    lines = _csv_lines(csv)
    lines[3] = lines[3].rsplit(",", 1)[0] + ","
    csv.write_text("\n".join(lines) + "\n")
    return _error(human_ratings, csv, "scene_01", _grid(cfg, root / "data" / "images" / "scene_01.jpg"))


def matrix_extra_rating(root, cfg):
    mat = root / "data" / "ratings" / "scene_01.mat"
    grid = _grid(cfg, root / "data" / "images" / "scene_01.jpg")
    frame = human_ratings(mat, "scene_01", grid)
    lists = {s: [frame.loc[(frame.scale == s) & (frame.k == p.k), "rating"].to_numpy() for p in grid.patches[s]]
             for s in grid.patches}
    lists["fine"][10] = np.append(lists["fine"][10], 4.0)  # fine patch 11 rated once more
    save_rating_matrix(mat, build_rating_matrix(grid, lists))
    return _error(human_ratings, mat, "scene_01", grid)


def matrix_rating_7(root, cfg):
    mat = root / "data" / "ratings" / "scene_01.mat"
    cells = scipy.io.loadmat(mat)["rating_matrix"]
    cells[0, 0, 0] = np.array([[7.0]])
    scipy.io.savemat(mat, {"rating_matrix": cells})
    return _error(human_ratings, mat, "scene_01", _grid(cfg, root / "data" / "images" / "scene_01.jpg"))


def results_key(value):
    def case(root, cfg):
        cfg["results"] = value
        configfile = write_config(root / "study.yaml", cfg)
        return _error(validate_config, cfg, configfile)
    return case


def patches_n_huge(root, cfg):
    cfg["patches"]["fine"]["n"] = 10_000_000
    return _error(validate_config, cfg, write_config(root / "study.yaml", cfg))


def patches_n_too_dense(root, cfg):
    return _error(PatchGrid, 40, 40, [ScaleSpec("fine", 10_000, 5)])


def scene_name_dotdot(root, cfg):
    cfg["dataset"]["scenes"] = ["scene_01", "../scene_02"]
    return _error(discover, validate_config(cfg))


def map_with_nan(root, cfg):
    path = root / "data" / "maps" / "salience" / "scene_01.npy"
    arr = np.ones((384, 512))
    arr[5, 5] = np.nan
    np.save(path, arr)
    (root / "data" / "maps" / "salience" / "scene_01.png").unlink()
    return _error(imported_map, path, (384, 512), source="salience")


def map_constant(root, cfg):
    path = root / "data" / "maps" / "salience" / "scene_01.npy"
    np.save(path, np.full((384, 512), 7.0))
    return _error(imported_map, path, (384, 512), source="salience")


def map_pickled_npy_maps_only(root, cfg):
    folder = root / "data" / "maps" / "salience"
    for png in folder.glob("*.png"):
        np.save(png.with_suffix(".npy"), np.asarray([{"map": 1}], dtype=object), allow_pickle=True)
        png.unlink()
    cfg["dataset"].update(images=None, ratings=None)  # a maps-only study: sizes come from the maps
    return _error(discover, validate_config(cfg))


def disk_full_short_write(root, cfg, monkeypatch=None):
    def short_write(path, arr, *a, **kw):
        Path(path).write_bytes(b"\x93NUMPY")
        raise OSError("196608 requested and 88032 written")

    out = root / "results" / "maps" / "human" / "scene_01.npy"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(np, "save", short_write)
        message = _error(save_npy, out, np.zeros((3, 3)))
    assert not list(out.parent.iterdir()), "the half-written temporary is removed"
    return message


def disk_full_patches(root, cfg):
    real_save = Image.Image.save

    def full_after_ten(self, fp, *a, **kw):
        full_after_ten.n += 1
        if full_after_ten.n > 10:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(self, fp, *a, **kw)

    full_after_ten.n = 0
    out = root / "results" / "patches" / "scene_01"
    specs = scale_specs(validate_config(cfg))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Image.Image, "save", full_after_ten)
        message = _error(write_scene_patches, root / "data" / "images" / "scene_01.jpg", out, specs)
    assert not list(out.parent.iterdir()), "the job's temporary folder is removed"
    return message


def write_collision(root, cfg):
    out = root / "results" / "patches" / "scene_01"
    with pytest.raises(WriteCollision) as info:
        with atomic_dir(out) as tmp:
            (tmp / "a.png").write_bytes(b"mine")
            with atomic_dir(out) as other:  # another run's job finishing first
                (other / "a.png").write_bytes(b"theirs")
    assert (out / "a.png").read_bytes() == b"theirs", "the other writer's folder is left as it is"
    assert [p.name for p in out.parent.iterdir()] == ["scene_01"], "no temporary left"
    return str(info.value)


# issue 21 §1: an output never replaces or deletes an input (meaningmaps.workflow.path_safety)
def results_overlapping(where: str):
    """results set to ``where`` (relative to the study's root) and the start-up's path check run."""
    def case(root, cfg):
        from meaningmaps.workflow.path_safety import check_config_paths

        cfg["results"] = str(root / where)
        configfile = write_config(root / "study.yaml", cfg)
        return _error(check_config_paths, validate_config(cfg, configfile), configfile, cwd=root)
    return case

# issue 21 §3: the command line checks everything before the model loads (map, demo, build-tiny,
# score, inspect: what each command calls before its work; tests/test_cli.py runs the commands).


def map_image_text_named_jpg(root, cfg):
    from meaningmaps.model.map_images import check_image_content

    path = root / "data" / "images" / "scene_01.jpg"
    path.write_text("scene,x,y\nscene_01,10,20\n")
    return _error(check_image_content, path, scale_specs(validate_config(cfg)))


def map_image_grid_uncovered(root, cfg):
    from meaningmaps.model.map_images import check_image_content

    return _error(check_image_content, root / "data" / "images" / "scene_01.jpg", [ScaleSpec("fine", 4, 10.0)])


def map_out_is_the_images_folder(root, cfg):
    from meaningmaps.model.map_images import check_out_folder

    images = root / "data" / "images"
    return _error(check_out_folder, images, [images / "scene_01.jpg"])


def map_out_is_a_file(root, cfg):
    from meaningmaps.model.map_images import check_out_folder

    return _error(check_out_folder, root / "data" / "fixations.csv", [root / "data" / "images" / "scene_01.jpg"])


def map_out_is_a_study_map_folder(root, cfg):
    from meaningmaps.model.map_images import earlier_maps

    return _error(earlier_maps, root / "data" / "maps" / "salience", [root / "data" / "images" / "scene_01.jpg"], {})


def demo_into_a_folder_of_images(root, cfg):
    from meaningmaps.data.demo import check_demo_arguments

    return _error(check_demo_arguments, root / "data" / "images", 8, 2017)


def demo_fewer_scenes_over_a_demo(root, cfg):
    from meaningmaps.data.demo import check_demo_arguments

    return _error(check_demo_arguments, root / "data", 1, 2017)


def tiny_image_size_20(root, cfg):
    from meaningmaps.model.tiny_llava import check_shape

    return _error(check_shape, 20, 64, 2, 32)


def tiny_into_a_study(root, cfg):
    from meaningmaps.model.tiny_llava import check_out_dir

    return _error(check_out_dir, root / "data")


def score_out_is_a_map_folder(root, cfg):
    from meaningmaps.evaluation.score_folders import check_arguments

    maps = root / "data" / "maps" / "salience"
    return _error(check_arguments, [maps], root / "data" / "fixations.csv", maps)


def score_maps_is_a_file(root, cfg):
    from meaningmaps.evaluation.score_folders import check_arguments

    return _error(check_arguments, [root / "data" / "fixations.csv"], root / "data" / "fixations.csv", root / "out")


def inspect_missing_folder(root, cfg):
    from meaningmaps.folders import check_input_folder

    return _error(check_input_folder, root / "dta", "FOLDER", "give the folder the study's files are in.")

# --------------------------------------------------------------------------- issue 21 §4: what the file holds


def _fixations_csv(root) -> Path:
    return root / "data" / "fixations.csv"


def _set_fixation_scenes(root, names: dict) -> Path:
    """Rename the fixation file's scenes (scene -> name as the file writes it)."""
    csv = _fixations_csv(root)
    frame = pd.read_csv(csv, dtype=str)
    frame["scene"] = frame["scene"].map(lambda s: names.get(s, s))
    frame.to_csv(csv, index=False)
    return csv


def _check_image_of(root, cfg, scene="scene_01"):
    from meaningmaps.data.input_checks import check_image

    path = root / "data" / "images" / _image_name(root, scene)
    specs = [dict(vars(s)) for s in scale_specs(validate_config(cfg))]
    return check_image, path, list(image_size(path)), specs


def image_tiny(width, height):
    def case(root, cfg):
        path = root / "data" / "images" / "scene_01.jpg"
        Image.new("RGB", (width, height), (90, 120, 30)).save(path)
        check, path, size, specs = _check_image_of(root, cfg)
        return _error(check, path, size, specs)
    return case


def ratings_of_tiny_scene(root, cfg):
    from meaningmaps.data.input_checks import check_ratings

    Image.new("RGB", (512, 2), (90, 120, 30)).save(root / "data" / "images" / "scene_01.jpg")
    _, _, size, specs = _check_image_of(root, cfg)
    return _error(check_ratings, root / "data" / "ratings" / "scene_01.mat", "scene_01", size, specs)


def image_empty_file(root, cfg):
    (root / "data" / "images" / "scene_01.jpg").write_bytes(b"")
    return _error(discover, validate_config(cfg))


def image_folder_named_like_image(root, cfg):
    (root / "data" / "images" / "scene_03.jpg").mkdir()
    return _error(discover, validate_config(cfg))


def images_folder_empty(root, cfg):
    for path in (root / "data" / "images").iterdir():
        path.unlink()
    (root / "data" / "images" / "README.txt").write_text("scenes to come\n")
    return _error(discover, validate_config(cfg))


def images_in_sub_folder(root, cfg):
    folder = root / "data" / "images"
    (folder / "stimuli").mkdir()
    for path in list(folder.glob("scene_*")):
        path.rename(folder / "stimuli" / path.name)
    return _error(discover, validate_config(cfg))


def image_in_sub_folder_of_images(root, cfg):
    folder = root / "data" / "images"
    (folder / "practice").mkdir()
    (folder / "scene_02.png").rename(folder / "practice" / "scene_02.png")
    cfg["dataset"]["maps"] = {}
    cfg["dataset"]["ratings"] = None
    return _error(discover, validate_config(cfg))


def map_no_pixels(root, cfg):
    path = root / "data" / "maps" / "salience" / "scene_01.npy"
    np.save(path, np.zeros((0, 5)))
    return _error(imported_map, path, (384, 512), source="salience", resize=True)


def map_empty_file(root, cfg):
    path = root / "data" / "maps" / "salience" / "scene_01.png"
    path.write_bytes(b"")
    return _error(imported_map, path, (384, 512), source="salience")


def fixation_names_two_folders(root, cfg):
    csv = _set_fixation_scenes(root, {"scene_01": "stimuli/scene_01.jpg", "scene_02": "stimuli/scene_02.jpg"})
    lines = _csv_lines(csv)
    lines[-1] = lines[-1].replace("stimuli/scene_02.jpg", "practice/scene_02.jpg")
    csv.write_text("\n".join(lines) + "\n")
    return _error(discover, validate_config(cfg))


def fixation_names_not_the_images(root, cfg):
    _set_fixation_scenes(root, {"scene_01": "img 1", "scene_02": "img 2"})
    return _error(discover, validate_config(cfg))


def fixations_semicolons(root, cfg):
    csv = _fixations_csv(root)
    frame = pd.read_csv(csv)
    frame.to_csv(csv, sep=";", decimal=",", index=False)  # as a spreadsheet in a ',' decimal locale writes it
    return _error(discover, validate_config(cfg))


def fixations_tabs(root, cfg):
    csv = _fixations_csv(root)
    pd.read_csv(csv).to_csv(csv, sep="\t", index=False)
    return _error(discover, validate_config(cfg))


def ratings_csv_semicolons(root, cfg):
    csv = _ratings_as_csv(root, cfg)["scene_01"]
    pd.read_csv(csv).to_csv(csv, sep=";", index=False)
    return _error(human_ratings, csv, "scene_01", _grid(cfg, root / "data" / "images" / "scene_01.jpg"))


def fixations_empty_x(root, cfg):
    csv = _fixations_csv(root)
    lines = _csv_lines(csv)
    cells = lines[4].split(",")
    cells[1] = ""
    lines[4] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    return _error(discover, validate_config(cfg))


def fixations_empty_scene(root, cfg):
    csv = _fixations_csv(root)
    lines = _csv_lines(csv)
    lines[2] = "," + lines[2].split(",", 1)[1]
    csv.write_text("\n".join(lines) + "\n")
    return _error(discover, validate_config(cfg))


def fixations_mat_empty_image_cell(root, cfg):
    from meaningmaps.data.fixations import load_fixations

    dtype = [("sbj", object), ("image", object), ("loc", object), ("dur", object)]
    D = np.empty((1, 1), dtype=dtype)
    image = np.empty((2, 1), dtype=object)
    image[0, 0], image[1, 0] = "scene_01.jpg", np.zeros((0, 0))
    loc = np.empty((2, 1), dtype=object)
    loc[0, 0], loc[1, 0] = np.array([[10.0, 20.0]]), np.array([[30.0, 40.0]])
    dur = np.empty((2, 1), dtype=object)
    dur[0, 0], dur[1, 0] = np.array([[200.0]]), np.array([[250.0]])
    D[0, 0]["sbj"], D[0, 0]["image"], D[0, 0]["loc"], D[0, 0]["dur"] = np.array([[7]]), image, loc, dur
    path = root / "data" / "fixations.mat"
    scipy.io.savemat(path, {"D": D})
    return _error(load_fixations, path)


def matrix_rating_nan(root, cfg):
    mat = root / "data" / "ratings" / "scene_01.mat"
    cells = scipy.io.loadmat(mat)["rating_matrix"]
    cells[0, 0, 0] = np.array([[np.nan]])
    scipy.io.savemat(mat, {"rating_matrix": cells})
    return _error(human_ratings, mat, "scene_01", _grid(cfg, root / "data" / "images" / "scene_01.jpg"))


def matrix_text_cell(root, cfg):
    mat = root / "data" / "ratings" / "scene_01.mat"
    cells = scipy.io.loadmat(mat)["rating_matrix"]
    cells[3, 7, 1] = np.array(["4"])  # a rating typed as text
    scipy.io.savemat(mat, {"rating_matrix": cells})
    return _error(human_ratings, mat, "scene_01", _grid(cfg, root / "data" / "images" / "scene_01.jpg"))


def fixations_a_folder(root, cfg):
    csv = _fixations_csv(root)
    csv.unlink()
    csv.mkdir()
    return _error(discover, validate_config(cfg))


def config_names_no_data(root, cfg):
    cfg["dataset"].update(images=None, ratings=None, fixations=None, maps={})
    return _error(discover, validate_config(cfg))

# issue 21 §2: units and frames that cannot be right (fixations and maps) ------------------------

SCREEN_OFFSET = (704, 348)  # the demo's 512 x 384 scenes shown centred on a 1920 x 1080 screen


def _rewrite_fixations(root: Path, change: Callable) -> Path:
    """The demo's fixations (1-based pixels) rewritten by ``change(frame) -> frame``."""
    path = root / "data" / "fixations.csv"
    change(pd.read_csv(path)).to_csv(path, index=False)
    return path


def _as_fractions(frame: pd.DataFrame) -> pd.DataFrame:
    """1-based pixels of the demo's 512 x 384 scenes as fractions of the image (Tobii's, Pupil's units)."""
    return frame.assign(x=(frame["x"] - 0.5) / 512, y=(frame["y"] - 0.5) / 384)


def _on_screen(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(x=frame["x"] + SCREEN_OFFSET[0], y=frame["y"] + SCREEN_OFFSET[1])


def _scene_fixations(cfg: dict, scene: str = "scene_01"):
    """A scene's fixations as the input check and rule fixation_tables read them (the study's settings)."""
    from meaningmaps.data.fixations import scene_fixations

    cfg = validate_config(cfg)
    study = discover(cfg)
    h, w = study.sizes[scene]
    return scene_fixations(study.fixations, scene, h, w, outside=cfg["dataset"]["fixations_outside"],
                           settings=study.fixation_settings)


def fixations_fractions(origin):
    def case(root, cfg):
        _rewrite_fixations(root, _as_fractions)
        cfg["dataset"]["fixation_csv"] = {"origin": origin}
        return _error(_scene_fixations, cfg)
    return case


def fixations_screen_drop(root, cfg):
    _rewrite_fixations(root, _on_screen)
    cfg["dataset"].update(fixations_outside="drop")
    return _error(_scene_fixations, cfg)


def fixations_all_dropped(root, cfg):
    _rewrite_fixations(root, lambda f: f.assign(x=np.where(f["scene"] == "scene_01", f["x"] + 2000, f["x"])))
    cfg["dataset"].update(fixations_outside="drop", fixations_outside_max=1.0)
    return _error(_scene_fixations, cfg)


def fixations_scene_missing(root, cfg):
    from meaningmaps.data.fixations import fixations_by_scene, select_scene_fixations

    path = _rewrite_fixations(root, lambda f: f[f["scene"] != "scene_02"])
    groups = fixations_by_scene(path, {"origin": 1})
    return _error(select_scene_fixations, groups, path, "scene_02", 384, 512, settings={"origin": 1})


def fixations_fraction_with_origin(root, cfg):
    from meaningmaps.data.fixations import fixation_settings

    cfg["dataset"]["fixation_csv"] = {"origin": 0, "units": "fraction"}
    return _error(fixation_settings, validate_config(cfg))


def _salience_npy(root: Path, arr: np.ndarray) -> Path:
    """scene_01's salience map replaced by ``arr`` as a .npy file."""
    folder = root / "data" / "maps" / "salience"
    (folder / "scene_01.png").unlink()
    np.save(folder / "scene_01.npy", arr)
    return folder / "scene_01.npy"


def _salience(root: Path) -> np.ndarray:
    from meaningmaps.data.external_maps import load_map

    return load_map(root / "data" / "maps" / "salience" / "scene_01.png")


def map_z_scored(root, cfg):
    m = _salience(root)
    path = _salience_npy(root, (m - m.mean()) / m.std())
    return _error(imported_map, path, (384, 512), source="salience")


def map_all_zero(root, cfg):
    path = _salience_npy(root, np.zeros((384, 512)))
    message = _error(imported_map, path, (384, 512), source="salience")
    assert "negative" not in message and "log density" not in message, message
    return message


def map_transposed(root, cfg):
    path = _salience_npy(root, _salience(root).T)  # 384 wide, 512 high: the scene's array stored transposed
    return _error(imported_map, path, (384, 512), source="salience", resize=True)


def map_log_density_taken_as_is(root, cfg):
    m = _salience(root) + 1.0
    path = _salience_npy(root, np.log(m / m.sum()))
    return _error(imported_map, path, (384, 512), source="salience", transform="none")


@dataclass
class Case:
    id: str
    spoil: Callable
    stops: str      # where the run stops (for the table; the test runs the function named there)
    names: str      # regex: the file or config key the message must name
    says: str       # regex: the problem


CASES = [
    Case("image CMYK", image_cmyk, "start-up: images.image_size (dataset.discover)",
         r"scene_01\.jpg: ", r"is a CMYK image.*Fix: convert it to 8-bit RGB"),
    Case("image EXIF orientation 6", image_exif_rotated, "start-up: images.image_size",
         r"scene_01\.jpg: ", r"EXIF orientation tag \(6: viewers show it rotated 90 degrees clockwise\)"
                            r".*Orientation=1"),
    Case("image truncated", image_truncated, "input check / patches: images.load_rgb",
         r"scene_02\.png: ", r"cannot be decoded.*truncated.*Fix: re-copy"),
    Case("image 32-bit values", image_float, "input check / patches: images.load_rgb",
         r"scene_02\.png: ", r"outside the 16-bit range.*Fix: re-save it as an 8-bit"),
    Case("ratings CSV duplicate row (rater)", csv_duplicate_row, "input check / human_ratings",
         r"scene_01\.csv: ", r"rated twice or more by the same rater \(rater 'r2', coarse patch 2: lines 6, \d+\)"),
    Case("ratings CSV duplicate row (no rater)", csv_duplicate_row_no_rater, "input check / human_ratings",
         r"scene_01\.csv: ", r"coarse patches have unequal numbers of ratings: \d+ have 3, but patch 2 has 4 "
                            r"\(lines 5, 6, 7, \d+\)"),
    Case("ratings CSV one rating missing", csv_uneven, "input check / human_ratings",
         r"scene_01\.csv: ", r"coarse patches .* patch 2 has 2 \(lines 5, 6\).*Fix: give every patch"),
    Case("ratings CSV k 9.5", csv_fractional_k, "input check / human_ratings",
         r"scene_01\.csv: ", r"whose k is not a whole patch number: line 9 \('9\.5'\)"),
    Case("ratings CSV empty rating", csv_empty_rating, "input check / human_ratings",
         r"scene_01\.csv: ", r"whose rating is outside 1-6 or not a number: line 4 \(an empty cell\)"),
    Case("rating matrix extra rating", matrix_extra_rating, "input check / human_ratings",
         r"scene_01\.mat: ", r"fits the fine grid with 3 ratings per patch except.*fine patch 11 \(1 rating too many\)"
                            r".*the file, not the grid settings"),
    Case("rating matrix rating 7", matrix_rating_7, "input check / human_ratings",
         r"scene_01\.mat: ", r"outside 1-6 or not whole numbers \(e\.g\. 7\)"),
    Case("results empty", results_key(""), "start-up: config.check_cross_keys",
         r"study\.yaml: config key results: ", r"is empty.*filesystem root"),
    Case("results /", results_key("/"), "start-up: config.check_cross_keys",
         r"study\.yaml: config key results: ", r"is the filesystem root"),
    Case("results ~/x", results_key("~/x"), "start-up: config.check_cross_keys",
         r"study\.yaml: config key results: ", r"starts with '~'.*folder named '~'"),
    Case("patches.fine.n 10000000", patches_n_huge, "start-up: config schema",
         r"study\.yaml: config key patches\.fine\.n: ",
         r"10000000 is greater than the maximum of 10000\.\s+Fix: set patches\.fine\.n within its range"),
    Case("patches.fine.n too dense for the scene", patches_n_too_dense, "patches / input check: patch_grid",
         r"^patches\.fine\.n: ", r"too many for a 40x40 scene.*Fix: lower patches\.fine\.n"),
    Case("scene name ../scene_02", scene_name_dotdot, "start-up: dataset.discover",
         r"^dataset\.scenes: ", r"'\.\./scene_02'.*Fix: use the scene image's file stem"),
    Case("map with NaN", map_with_nan, "input check / import_map: external_maps.check_map",
         r"scene_01\.npy: ", r"1 NaN or infinite values.*Fix: re-export the map"),
    Case("map constant", map_constant, "input check / import_map: external_maps.check_map",
         r"scene_01\.npy: ", r"map is constant \(every pixel 7\).*Fix: re-export"),
    Case("maps-only study, pickled .npy", map_pickled_npy_maps_only, "start-up: external_maps.map_size",
         r"scene_01\.npy: ", r"pickled Python objects.*Fix: save the map as a 2-D numeric array"),
    Case("disk full (numpy short write)", disk_full_short_write, "any job writing: atomic.atomic_path",
         r"maps/human: ", r"the disk is full: writing scene_01\.npy failed.*free there now.*Fix: free space"),
    Case("disk full (ENOSPC writing patches)", disk_full_patches, "patches: atomic.atomic_dir",
         r"results/patches: ", r"the disk is full: writing scene_01 failed.*No space left"),
    Case("two runs write one output", write_collision, "any job writing a folder: atomic.atomic_dir",
         r"patches/scene_01: ", r"written by another process.*Fix: run one workflow at a time"),
    # issue 21 §1: an output never replaces or deletes an input
    Case("results = the data folder", results_overlapping("data"), "start-up: path_safety.check_config_paths",
         r"study\.yaml: config key results \(", r"holds config key dataset\.images .*config key dataset\.maps\.salience "
         r".*deletes a job's outputs.*Fix: set results to a folder of its own.*e\.g\. results: results"),
    Case("results inside a map folder", results_overlapping("data/maps/salience/results"),
         "start-up: path_safety.check_config_paths",
         r"study\.yaml: config key results \(", r"lies inside config key dataset\.maps\.salience \(.*Fix: set results"),
    Case("results above the data folder", results_overlapping("."), "start-up: path_safety.check_config_paths",
         r"study\.yaml: config key results \(", r"holds config key dataset\.images .*Fix: set results"),
    # issue 21 §3: the command line checks everything before the model loads
    Case("map: a text file named .jpg", map_image_text_named_jpg, "map, before the model loads: "
         "map_images.check_image_content (input_checks.check_image)", r"scene_01\.jpg: ",
         r"is not a readable image.*Fix: replace it with a JPEG or PNG"),
    Case("map: the grid leaves pixels uncovered", map_image_grid_uncovered, "map, before the model loads: "
         "map_images.check_image_content", r"scene_01\.jpg: ", r"fine grid \(N=4, d=10 px\) leaves pixels of this "
         r"512x384 scene uncovered.*Fix: raise patches\.fine\.n"),
    Case("map: --out is the images' folder", map_out_is_the_images_folder, "map, first: map_images.check_out_folder",
         r"images \(--out\): ", r"is the folder of the input image .*scene_01\.jpg.*Fix: give --out a folder of its own"),
    Case("map: --out is a file", map_out_is_a_file, "map, first: folders.check_output_folder",
         r"fixations\.csv \(--out\): ", r"is a file, not a folder"),
    Case("map: --out is a map folder of the study", map_out_is_a_study_map_folder, "map, before the model loads: "
         "map_images.earlier_maps", r"salience \(--out\): ", r"already holds 2 file\(s\) or folder\(s\) \(scene_01\.png, "
         r"scene_02\.png\), and no info/maps\.json.*Fix: give --out a new or empty folder"),
    Case("demo: OUT_DIR a folder of images", demo_into_a_folder_of_images, "demo, first: demo.check_demo_arguments",
         r"images \(OUT_DIR\): ", r"holds scene_01\.jpg, scene_02\.png and is no demo study.*Fix: give a new or empty"),
    Case("demo: fewer scenes over a demo study", demo_fewer_scenes_over_a_demo, "demo, first: demo.check_demo_arguments",
         r"data \(OUT_DIR\): ", r"holds a demo study of 2 scenes; writing 1 would leave scene_02 without fixations.*"
         r"Fix: give a new folder, or --scenes 2"),
    Case("build-tiny: image_size 20", tiny_image_size_20, "build-tiny, first (and build_tiny_llava): "
         "tiny_llava.check_shape", r"^model\.build_tiny\.image_size: ", r"is 20;.*14 px patches.*Fix: give a multiple "
         r"of 14"),
    Case("build-tiny: OUT_DIR a study folder", tiny_into_a_study, "build-tiny, first: tiny_llava.check_out_dir",
         r"data \(OUT_DIR\): ", r"holds fixations\.csv, images, maps, ratings, \.\.\. and is no tiny model of meaningmaps"
         r".*the tiny model's config\.json, weights and tokenizer would be written among its files"),
    Case("score: --out is a map folder", score_out_is_a_map_folder, "score, first: score_folders.check_arguments",
         r"salience \(--out\): ", r"writes into the map folder .*salience \(source salience\).*Fix: give --out a folder "
         r"of its own"),
    Case("score: MAPS is a file", score_maps_is_a_file, "score, first: score_folders.check_arguments",
         r"fixations\.csv \(MAPS\): ", r"is a file, not a folder of maps"),
    Case("inspect: no such folder", inspect_missing_folder, "inspect, first: folders.check_input_folder",
         r"dta \(FOLDER\): ", r"does not exist\."),
    # issue 21 §4: messages that say what the file holds (its size, names, separator, cells) and the fix
    Case("image 512x2 (smaller than a patch)", image_tiny(512, 2), "input check: input_checks.check_scene_size",
         r"scene_01\.jpg: ", r"is 512x2 px \(WxH\), smaller than a patch: the patches are fine 44 px and coarse "
                             r"102 px across.*Fix: replace it with the scene image"),
    Case("image 1x1 (smaller than a patch)", image_tiny(1, 1), "input check: input_checks.check_scene_size",
         r"scene_01\.jpg: ", r"is 1x1 px \(WxH\), smaller than a patch.*Fix: replace it"),
    Case("ratings of a 512x2 scene", ratings_of_tiny_scene, "input check: input_checks.check_ratings",
         r"scene_01\.mat: ", r"rates a scene whose image is 512x2 px \(WxH\), smaller than a patch.*Fix: replace the image"),
    Case("image file empty", image_empty_file, "start-up: images.image_size",
         r"scene_01\.jpg: ", r"is empty \(0 bytes\), so it holds no scene image.*Fix: replace it"),
    Case("folder named like an image", image_folder_named_like_image, "start-up: dataset.scan_folder",
         r"images/scene_03\.jpg: ", r"is a folder named like a scene image file.*Fix: rename or move the folder"),
    Case("images folder without images", images_folder_empty, "start-up: dataset.scan_folder",
         r"data/images: ", r"holds no scene image files \(\.jpg, \.jpeg, \.png\) at its top level: it holds "
                          r"README\.txt\..*Fix: put the study's scene image files"),
    Case("images in a sub-folder", images_in_sub_folder, "start-up: dataset.scan_folder",
         r"data/images: ", r"it holds stimuli/\. Its sub-folders hold 2 scene image file\(s\), e\.g\. "
                          r"stimuli/scene_01\.jpg, stimuli/scene_02\.png.*Fix: set dataset\.images to \S+/images/stimuli"),
    Case("one image in a sub-folder", image_in_sub_folder_of_images, "start-up: dataset.check_same_scenes",
         r"fixations\.csv: ", r"has 1 scene\(s\) that images lacks: scene_02 \(practice/scene_02\.png is an image "
                              r"in a sub-folder of dataset\.images, which is not searched"),
    Case("map with no pixels", map_no_pixels, "input check / import_map: external_maps.load_map",
         r"scene_01\.npy: ", r"map has shape 0 x 5: it has no pixels.*Fix: save the map"),
    Case("map file empty", map_empty_file, "input check / import_map: external_maps.load_map",
         r"scene_01\.png: ", r"is empty \(0 bytes\), so it holds no map.*Fix: replace it"),
    Case("fixation scene names in two folders", fixation_names_two_folders, "start-up: fixations.check_scene_names",
         r"fixations\.csv: ", r"'stimuli/scene_02\.jpg' \(line \d+\), 'practice/scene_02\.jpg' \(line \d+\) both "
                              r"are scene 'scene_02'.*Fix: if they are one image"),
    Case("fixation scene names not the images'", fixation_names_not_the_images, "start-up: dataset.check_same_scenes",
         r"fixations\.csv: ", r"lacks 2 scene\(s\) that images has: scene_01, scene_02; .*include 2 that are not a "
                              r"scene of the study: img 1, img 2\..*Fix: give its scenes the names"),
    Case("fixation CSV with ';' and decimal commas", fixations_semicolons, "start-up: csv_format.refuse_other_separator",
         r"fixations\.csv: ", r"separated by semicolons \(';'\), not commas: its header "
                              r"'scene;x;y;duration;subject' .*first row is 'scene_01;303,66;.*Fix: save it as a "
                              r"comma-separated CSV"),
    Case("fixation CSV with tabs", fixations_tabs, "start-up: csv_format.refuse_other_separator",
         r"fixations\.csv: ", r"separated by tabs, not commas: its header 'scene\\tx\\ty.*split at '\\t': scene, x, y"),
    Case("ratings CSV with ';'", ratings_csv_semicolons, "input check / human_ratings",
         r"scene_01\.csv: ", r"separated by semicolons.*split at ';': rater, scale, k, rating.*Fix: save it"),
    Case("fixation CSV empty x cell", fixations_empty_x, "start-up: fixations.load_fixations",
         r"fixations\.csv: ", r"column 'x': 1 value\(s\) missing or not finite numbers \(line 5: an empty cell\)"),
    Case("fixation CSV empty scene cell", fixations_empty_scene, "start-up: fixations.load_fixations",
         r"fixations\.csv: ", r"column 'scene' has 1 empty cell\(s\) \(line\(s\) 3\).*Fix: give every fixation"),
    Case("fixation .mat empty image cell", fixations_mat_empty_image_cell, "start-up: fixations.load_fixations",
         r"fixations\.mat: ", r"D\(1\)\.image\{2\} \(subject 7\) is an empty cell, not a text cell.*Fix: give"),
    Case("rating matrix NaN", matrix_rating_nan, "input check / human_ratings",
         r"scene_01\.mat: ", r"outside 1-6 or not whole numbers \(e\.g\. NaN \(not a number\)\)"),
    Case("rating matrix text cell", matrix_text_cell, "input check / human_ratings: rating_matrix.load_rating_matrix",
         r"scene_01\.mat: ", r"rating_matrix\(4,8,2\) holds the text '4', not ratings.*Fix: use the toolkit's"),
    Case("fixation file is a folder", fixations_a_folder, "start-up: fixations.load_fixations",
         r"fixations\.csv: ", r"is a folder, not a file, so it holds no fixations.*Fix: point dataset\.fixations"),
    Case("config names no data", config_names_no_data, "start-up: dataset.discover",
         r"dataset\.images", r"the config names no data.*Fix: set dataset\.images"),
    # issue 21 §2: units and frames that cannot be right are refused, not computed
    Case("fixations as fractions (0..1), origin 0", fixations_fractions(0),
         "input check / fixation_tables: fixation_frame.check_span",
         r"fixations\.csv: ", r"scene 'scene_01': its 144 fixations lie within x 0\.\d+ to 0\.\d+ and y 0\.\d+ to "
                              r"0\.\d+, a box of 0\.\d+ x 0\.\d+ px, under 5% of the width and of the height of its "
                              r"512 x 384 \(W x H\) image.*Fix: .*set dataset\.fixation_csv\.units: fraction"),
    Case("fixations as fractions (0..1), origin unset", fixations_fractions(None),
         "input check / fixation_tables: fixation_frame.check_span (the origin inferred 0 at start-up)",
         r"fixations\.csv: ", r"scene 'scene_01': its 144 fixations lie within .*not pixel positions on this image"
                              r".*Fix: .*dataset\.fixation_csv\.units: fraction"),
    Case("fixations in screen coordinates, drop", fixations_screen_drop,
         "input check / fixation_tables: fixation_frame.check_dropped_share",
         r"fixations\.csv: ", r"scene 'scene_01': 144 of 144 fixations \(100\.0%\) fall outside its 512 x 384 \(W x H\) "
                              r"image and would be dropped .*more than dataset\.fixations_outside_max \(0\.05\) allows; "
                              r"its fixations lie at x \(col\) 7\d\d.*Fix: .*set dataset\.fixation_csv\.offset: \[x, y\]"
                              r".*raise dataset\.fixations_outside_max"),
    Case("scene with every fixation dropped", fixations_all_dropped, "input check / fixation_tables: fixation_frame.check_kept",
         r"fixations\.csv: ", r"scene 'scene_01': all 144 of its fixations fall outside its 512 x 384 \(W x H\) image "
                              r"and were dropped .*no fixations left.*Fix: "),
    Case("scene without fixations in the file", fixations_scene_missing,
         "input check: fixation_frame.check_has_fixations",
         r"fixations\.csv: ", r"scene 'scene_02' has no fixations in this file.*Fix: add the scene's fixations"),
    Case("units fraction with an origin", fixations_fraction_with_origin, "start-up: fixations.fixation_settings",
         r"^dataset\.fixation_csv\.units: ", r"is fraction and dataset\.fixation_csv\.origin is 0.*have no origin"
                                              r".*Fix: remove dataset\.fixation_csv\.origin"),
    Case("map z-scored (both signs)", map_z_scored, "input check / import_map: external_maps.check_signs",
         r"scene_01\.npy: ", r"has both signs \(values -\d[.\d]* to \d[.\d]*\): a z-scored .*KL divergence.*"
                            r"Fix: export the map's non-negative values"),
    Case("map all zero", map_all_zero, "input check / import_map: external_maps.check_map",
         r"scene_01\.npy: ", r"map is constant \(every pixel 0\).*Fix: re-export"),
    Case("map transposed, resize: true", map_transposed, "input check / import_map: external_maps.imported_map",
         r"scene_01\.npy: ", r"map is 384x512 \(WxH\) but the scene is 512x384: their aspect ratios differ "
                            r"\(width / height 0\.75 against 1\.333\) \(its width and height swapped.*"
                            r"Fix: .*m\.T.*dataset\.maps\.salience\.resize: stretch"),
    Case("log density, transform: none", map_log_density_taken_as_is, "input check / import_map: external_maps.check_signs",
         r"scene_01\.npy: ", r"is negative everywhere .*dataset\.maps\.salience\.transform is none.*KL divergence.*"
                            r"Fix: .*dataset\.maps\.salience\.transform: exp"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_stops_naming_the_file_and_the_fix(case, demo):
    root, cfg = demo
    message = case.spoil(root, cfg)
    assert re.search(case.names, message), message
    assert re.search(case.says, message, re.S), message
    assert "Fix: " in message, message
    assert not re.search(r"\bnp\.(float|int|uint|bool|str)\w*\(|\bnan\b", message), f"numpy repr or nan: {message}"


# --------------------------------------------------------------------------- images that load


def _to_16bit_grey(path: Path) -> np.ndarray:
    """Rewrite an 8-bit greyscale PNG as 16-bit (v * 257, mode I;16); return the 8-bit pixels."""
    with Image.open(path) as im:
        grey = np.asarray(im.convert("L"))
    Image.fromarray(grey.astype(np.uint16) * 257).save(path)
    with Image.open(path) as im:
        assert im.mode == "I;16"
    return grey


def _write_png16(path: Path, rgb16: np.ndarray) -> None:
    """A 16-bit RGB PNG (Pillow cannot write one): IHDR bit depth 16, colour type 2."""
    import struct
    import zlib

    h, w = rgb16.shape[:2]
    rows = rgb16.astype(">u2").reshape(h, -1)
    raw = b"".join(b"\x00" + r.tobytes() for r in rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_16bit_grey_reads_as_its_high_byte(tmp_path):
    values = np.array([[0, 255, 256, 32767], [32768, 65279, 65280, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "g.png")
    rgb = load_rgb(tmp_path / "g.png")
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 4, 3)
    assert rgb[..., 0].tolist() == [[0, 0, 1, 127], [128, 254, 255, 255]]  # v >> 8, not white


def test_16bit_rgb_palette_and_alpha_read_as_viewers_show_them(pristine, tmp_path):
    with Image.open(pristine / "images" / "scene_01.jpg") as im:
        rgb8 = np.asarray(im.convert("RGB"))
    _write_png16(tmp_path / "rgb16.png", rgb8.astype(np.uint16) * 257)
    assert np.array_equal(load_rgb(tmp_path / "rgb16.png"), rgb8)
    pal = Image.fromarray(rgb8).quantize(64)
    pal.save(tmp_path / "p.png")
    assert np.array_equal(load_rgb(tmp_path / "p.png"), np.asarray(pal.convert("RGB")))
    alpha = np.dstack([rgb8, np.full(rgb8.shape[:2], 255, np.uint8)])
    alpha[:10, :10, 3] = 0  # transparent corner: black, as before (composited on black)
    Image.fromarray(alpha, "RGBA").save(tmp_path / "a.png")
    got = load_rgb(tmp_path / "a.png")
    assert (got[:10, :10] == 0).all() and np.array_equal(got[10:, 10:], rgb8[10:, 10:])
    exif = Image.Exif()
    exif[0x0112] = 1  # orientation 1 (normal) is fine
    Image.fromarray(rgb8).save(tmp_path / "o.png", exif=exif)
    assert np.array_equal(load_rgb(tmp_path / "o.png"), rgb8)


def test_16bit_scene_patches_equal_the_8bit_ones(pristine, tmp_path):
    """Function level: the patches of a 16-bit copy of the greyscale scene equal the 8-bit ones."""
    specs = demo_scale_specs()
    src = tmp_path / "scene_02.png"
    src.write_bytes((pristine / "images" / "scene_02.png").read_bytes())
    write_scene_patches(src, tmp_path / "ref", specs)
    _to_16bit_grey(src)
    write_scene_patches(src, tmp_path / "new", specs)
    _assert_same_patches(tmp_path / "ref", tmp_path / "new")


def _assert_same_patches(ref: Path, new: Path) -> None:
    files = sorted(p.name for p in ref.glob("*.png"))
    assert files and files == sorted(p.name for p in new.glob("*.png"))
    for name in files:
        with Image.open(ref / name) as a, Image.open(new / name) as b:
            assert np.array_equal(np.asarray(a), np.asarray(b)), name
    assert not (np.asarray(Image.open(new / files[0]))[..., :3] == 255).all(), "not white"


# --------------------------------------------------------------------------- temporaries, digests


def test_atomic_dir_temporaries_are_unique_and_only_ones_own_are_removed(tmp_path):
    out = tmp_path / "patches" / "scene_01"
    foreign = tmp_path / "patches" / "scene_01.tmp"  # another job's (or an old version's) temporary
    foreign.mkdir(parents=True)
    (foreign / "x.png").write_bytes(b"theirs")
    seen = []
    for _ in range(2):
        with atomic_dir(out) as tmp:
            seen.append(tmp.name)
            (tmp / "index.csv").write_text("k\n1\n")
    assert seen[0] != seen[1] and all(re.fullmatch(r"\.scene_01\.\d+-\w+\.tmp", n) for n in seen)
    assert (foreign / "x.png").read_bytes() == b"theirs"
    assert sorted(p.name for p in out.parent.iterdir()) == ["scene_01", "scene_01.tmp"]
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            raise RuntimeError("job failed")
    assert not tmp.exists() and (out / "index.csv").is_file()


def test_file_written_by_another_process_meanwhile_is_a_collision(tmp_path):
    out = tmp_path / "maps" / "x.npy"
    with pytest.raises(WriteCollision, match=r"x\.npy: was written by another process"):
        with atomic.atomic_path(out) as tmp:
            tmp.write_bytes(b"mine")
            out.write_bytes(b"theirs")
    assert out.read_bytes() == b"theirs" and [p.name for p in out.parent.iterdir()] == ["x.npy"]
    save_npy(out, np.zeros(2))  # an existing output is simply replaced
    assert np.load(out).tolist() == [0, 0]


def test_content_digest_follows_content_not_times(tmp_path):
    import os

    path = tmp_path / "a.mat"
    path.write_bytes(b"one")
    first = content_digest(path)
    os.utime(path, (1e9, 1e9))
    assert content_digest(path) == first  # same content, other time: no rerun
    path.write_bytes(b"two")
    os.utime(path, (1e9, 1e9))  # an older time, as cp -p leaves it
    assert content_digest(path) != first


# --------------------------------------------------------------------------- through Snakemake


def _run(root: Path, cfg: dict, *args, check=False):
    configfile = write_config(root / "study.yaml", cfg)
    proc = snakemake(root, configfile, *args, check=check, timeout=600)
    return proc, proc.stdout + proc.stderr


def _model_on(cfg: dict) -> dict:
    cfg["model"]["enabled"] = True
    return cfg


@pytest.mark.parametrize("value,says", [("", "is empty"), ("/", "is the filesystem root"),
                                        ("~/x", "starts with '~'")])
@pytest.mark.slow
def test_snakemake_refuses_results_folder_naming_the_config_file(demo, value, says):
    root, cfg = demo
    cfg["results"] = value
    proc, out = _run(root, cfg, "-n")
    assert proc.returncode != 0
    assert f"{root / 'study.yaml'}: config key results: " in out and says in out and "Fix: set results" in out
    assert not (root / "~").exists()


@pytest.mark.slow
def test_snakemake_stops_on_cmyk_image_at_start_up(demo):
    root, cfg = demo
    image_cmyk(root, cfg)
    proc, out = _run(root, cfg, "-n")
    assert proc.returncode != 0 and "scene_01.jpg: is a CMYK image" in out and "Fix: convert it" in out


@pytest.mark.slow
def test_snakemake_stops_on_duplicated_csv_rating_naming_the_lines(demo):
    root, cfg = demo
    csv_duplicate_row(root, cfg)  # spoils data/ratings/scene_01.csv (and checks the function level)
    proc, out = _run(root, cfg)
    assert proc.returncode != 0
    assert re.search(r"scene_01\.csv: 1 patch\(es\) rated twice or more by the same rater "
                     r"\(rater 'r2', coarse patch 2: "
                     r"lines 6, \d+\)\. Fix: remove the duplicated rows", out), out[-3000:]
    assert not (root / "results" / "maps" / "human" / "scene_01.npy").exists()


@pytest.mark.slow
def test_snakemake_cuts_16bit_scene_into_the_8bit_patches(demo):
    root, cfg = demo
    _model_on(cfg)
    image = root / "data" / "images" / "scene_02.png"
    specs = scale_specs(validate_config(cfg))
    write_scene_patches(image, root / "ref", specs)
    _to_16bit_grey(image)
    target = root / "results" / "patches" / "scene_02"
    proc, out = _run(root, cfg, str(target))
    assert proc.returncode == 0, out[-3000:]
    _assert_same_patches(root / "ref", target)


@pytest.mark.slow
def test_snakemake_leaves_another_jobs_temporary_alone(demo):
    root, cfg = demo
    _model_on(cfg)
    folder = root / "results" / "patches"
    foreign = [folder / "scene_01.tmp", folder / ".scene_01.99999-abcdefgh.tmp"]
    for tmp in foreign:
        tmp.mkdir(parents=True)
        (tmp / "fine_1.png").write_bytes(b"another job is writing this")
    proc, out = _run(root, cfg, str(folder / "scene_01"))
    assert proc.returncode == 0, out[-3000:]
    assert all((tmp / "fine_1.png").read_bytes() == b"another job is writing this" for tmp in foreign)
    assert (folder / "scene_01" / "index.csv").is_file()


@pytest.mark.slow
def test_snakemake_names_a_second_run_writing_the_same_patches(demo):
    """Another run (another working directory) finishes the same patches folder while this run's job
    is still writing it: the job fails saying so, and leaves no temporary behind."""
    root, cfg = demo
    _model_on(cfg)
    folder = root / "results" / "patches"
    target = folder / "scene_01"
    done = threading.Event()

    def other_run():
        while not done.is_set():
            if folder.is_dir() and any(p.name.startswith(".scene_01.") for p in folder.iterdir()):
                target.mkdir()
                (target / "index.csv").write_text("written by the other run\n")
                return
            time.sleep(0.002)

    watcher = threading.Thread(target=other_run, daemon=True)
    watcher.start()
    try:
        proc, out = _run(root, cfg, str(target))
    finally:
        done.set()
        watcher.join()
    assert proc.returncode != 0
    assert "scene_01: was written by another process while this job was writing it" in out, out[-3000:]
    assert "Fix: run one workflow at a time on a results folder" in out
    assert not folder.exists() or not [p for p in folder.iterdir() if p.name.startswith(".scene_01.")]


# issue 21 §1: an output never replaces or deletes an input


def _checksums(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """relative path -> sha256 of every file under ``folder`` (top-level names in ``skip`` left out)."""
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.relative_to(folder).parts[0] not in skip}


@pytest.mark.parametrize("where, says", [("data", "holds config key dataset.images ("),
                                         ("data/maps/salience/results", "lies inside config key dataset.maps.salience ("),
                                         (".", "holds config key dataset.images (")],
                         ids=["equal", "inside", "above"])
@pytest.mark.slow
def test_snakemake_refuses_results_overlapping_the_data_and_leaves_it_intact(demo, where, says):
    """results equal to, inside or above the data folder: the run stops before any job, naming both keys,
    and every file of the data folder is as it was. (Without the check, results = data ran with exit 0:
    rule import_map's output was the user's map file itself, which Snakemake took as made (a cyclic
    dependency: the map was never imported; a job that ran would delete it first), and 75 outputs
    were written among the data.)"""
    root, cfg = demo
    for png in sorted((root / "data" / "maps" / "salience").glob("*.png")):  # maps as .npy (DeepGaze's files):
        np.save(png.with_suffix(".npy"), np.asarray(Image.open(png), dtype=np.float32))  # import_map's output names
        png.unlink()
    results = (root / where).resolve()
    cfg["results"] = str(results)
    write_config(root / "study.yaml", cfg)
    data_before = _checksums(root / "data")
    results_before = _checksums(results, skip=(".snakemake",)) if results.is_dir() else {}
    proc, out = _run(root, cfg)
    assert proc.returncode != 0
    assert f"{root / 'study.yaml'}: config key results ({results}) {says}" in out, out[-3000:]
    assert f"config key dataset.maps.salience ({root / 'data' / 'maps' / 'salience'})" in out  # the imported maps
    assert "Fix: set results to a folder of its own" in out
    assert _checksums(root / "data") == data_before  # every input file, byte for byte, and no new file
    # nothing written that Snakemake could take as complete (its own .snakemake in the working directory aside)
    assert (_checksums(results, skip=(".snakemake",)) if results.is_dir() else {}) == results_before
    assert "Job stats" not in out and not re.search(r"^(local)?(rule|checkpoint) \w+:", out, re.M)  # no job started


@pytest.mark.parametrize("where", ["results", "data/results"], ids=["beside", "in the project folder"])
@pytest.mark.slow
def test_snakemake_plans_results_beside_the_data(demo, where):
    """results beside the inputs (also inside the folder that holds them, as `meaningmaps demo OUT_DIR`
    lays a study out), with the model steps' tiny model built inside results: planned as usual."""
    root, cfg = demo
    cfg["results"] = str(root / where)
    cfg["model"]["base"] = str(root / where / "models" / "tiny-llava")
    _model_on(cfg)
    proc, out = _run(root, cfg, "-n")
    assert proc.returncode == 0, out[-3000:]
    assert "import_map" in out and "build_tiny_llava" in out

# --------------------------------------------------------------------------- issue 21 §4 through Snakemake


@pytest.mark.slow
def test_snakemake_reads_folder_prefixed_scene_names_as_their_scenes(demo):
    """PsychoPy writes the image path (stimuli/scene_01.jpg; on Windows stimuli\\scene_02.png): the run
    reads each row as the scene of its file stem, every row on its own scene and none lost."""
    root, cfg = demo
    plain = pd.read_csv(_fixations_csv(root))
    _set_fixation_scenes(root, {"scene_01": "stimuli/scene_01.jpg", "scene_02": "stimuli\\scene_02.png"})
    targets = [str(root / "results" / "attention" / f"{s}.npy") for s in ("scene_01", "scene_02")]
    proc, out = _run(root, cfg, *targets)
    assert proc.returncode == 0, out[-3000:]
    from meaningmaps.data.fixation_tables import scene_table

    for scene in ("scene_01", "scene_02"):
        got = scene_table(root / "results" / "fixations" / "scenes", scene)
        want = plain[plain["scene"] == scene]
        assert len(got) == len(want) > 0
        assert np.array_equal(got["col"].to_numpy(float), want["x"].to_numpy(float))  # origin 1: as in the file
        assert np.array_equal(got["row"].to_numpy(float), want["y"].to_numpy(float))
        assert got["subject"].astype(str).tolist() == want["subject"].astype(str).tolist()
        assert np.load(root / "results" / "attention" / f"{scene}.npy").sum() > 0


@pytest.mark.slow
def test_snakemake_refuses_one_scene_named_from_two_folders_at_start_up(demo):
    root, cfg = demo
    fixation_names_two_folders(root, cfg)  # stimuli/scene_02.jpg and practice/scene_02.jpg
    proc, out = _run(root, cfg, "-n")
    assert proc.returncode != 0
    assert re.search(r"fixations\.csv: names images in different folders that give one scene: "
                     r"'stimuli/scene_02\.jpg' \(line \d+\), 'practice/scene_02\.jpg' \(line \d+\) both are scene "
                     r"'scene_02'.*Fix: if they are one image", out, re.S), out[-3000:]


@pytest.mark.slow
def test_snakemake_stops_on_an_image_smaller_than_a_patch_in_the_input_check(demo):
    """A 512 x 2 scene image (was an IndexError from the patch grid, a traceback in the input check):
    the check names the image, its size and the patch diameters, and no scene's job starts."""
    root, cfg = demo
    Image.new("RGB", (512, 2), (90, 120, 30)).save(root / "data" / "images" / "scene_01.jpg")
    proc, out = _run(root, cfg)
    assert proc.returncode != 0
    assert re.search(r"scene_01\.jpg: is 512x2 px \(WxH\), smaller than a patch: the patches are fine 44 px and "
                     r"coarse 102 px across.*Fix: replace it with the scene image", out, re.S), out[-3000:]
    assert "scene_01.mat: rates a scene whose image is 512x2 px" in out
    assert "IndexError" not in out
    guarded = ["patches", "attention", "maps/human", "maps/salience", "fixations"]  # the jobs the check guards
    assert not [f for f in guarded if (root / "results" / f).exists()], sorted((root / "results").iterdir())

# --------------------------------------------------------------------------- issue 21 §2 through Snakemake


def _no_maps_made(root: Path) -> bool:
    maps = root / "results" / "maps"
    return not maps.exists() or not any(maps.rglob("*.npy"))


def _eighths(frame: pd.DataFrame) -> pd.DataFrame:
    """Positions rounded to 1/8 px: their fractions of a 512 x 384 image and their sums with an
    integer offset are exact in decimal and in floating point, so tables compare bit for bit."""
    return frame.assign(x=np.round(frame["x"] * 8) / 8, y=np.round(frame["y"] * 8) / 8)


def _tables_equal(root: Path, reference: dict) -> None:
    from meaningmaps.data.fixation_tables import read_fixation_table, save_fixation_table

    for scene, table in reference.items():
        back = root / f"reference_{scene}.csv"
        save_fixation_table(back, table)
        got = read_fixation_table(root / "results" / "fixations" / "scenes" / f"{scene}.csv")
        pd.testing.assert_frame_equal(got, read_fixation_table(back), check_exact=True)


@pytest.mark.slow
def test_snakemake_refuses_fractions_before_any_map_and_reads_them_with_units_fraction(demo):
    root, cfg = demo
    _rewrite_fixations(root, _eighths)
    reference = {s: _scene_fixations(cfg, s)[0] for s in ("scene_01", "scene_02")}  # as pixels, origin 1
    _rewrite_fixations(root, _as_fractions)
    cfg["dataset"]["fixation_csv"] = {"origin": 0}
    proc, out = _run(root, cfg)
    assert proc.returncode != 0
    assert re.search(r"fixations\.csv: scene 'scene_01': its 144 fixations lie within x 0\.\d+ to 0\.\d+ .*under 5% "
                     r"of the width and of the height of its 512 x 384 \(W x H\) image.*Fix: .*"
                     r"dataset\.fixation_csv\.units: fraction", out), out[-3000:]
    assert "scene 'scene_02': its 144 fixations" in out  # every scene named, in the one refusal
    assert _no_maps_made(root), sorted((root / "results" / "maps").rglob("*"))
    cfg["dataset"]["fixation_csv"] = {"units": "fraction"}
    proc, out = _run(root, cfg, str(root / "results" / "fixations" / "scenes"))
    assert proc.returncode == 0, out[-3000:]
    _tables_equal(root, reference)  # fractions read exactly as the pixels they stand for


@pytest.mark.slow
def test_snakemake_refuses_screen_coordinates_dropped_and_prints_the_dropped_share(demo):
    root, cfg = demo
    _rewrite_fixations(root, _eighths)
    reference = {s: _scene_fixations(cfg, s)[0] for s in ("scene_01", "scene_02")}
    _rewrite_fixations(root, _on_screen)
    cfg["dataset"]["fixations_outside"] = "drop"
    proc, out = _run(root, cfg)
    assert proc.returncode != 0
    assert re.search(r"scene 'scene_01': 144 of 144 fixations \(100\.0%\) fall outside its 512 x 384 \(W x H\) image "
                     r"and would be dropped .*more than dataset\.fixations_outside_max \(0\.05\) allows.*"
                     r"Fix: .*dataset\.fixation_csv\.offset", out), out[-3000:]
    assert _no_maps_made(root)
    cfg["dataset"]["fixation_csv"] = {"origin": 1, "offset": list(SCREEN_OFFSET)}
    proc, out = _run(root, cfg, str(root / "results" / "fixations" / "scenes"))
    assert proc.returncode == 0, out[-3000:]
    _tables_equal(root, reference)
    assert re.search(r"input check: fixations: .*fixations\.csv: 288 fixations kept in 2 scene\(s\)$", out, re.M), out
    # a few fixations beyond the edge (1.4%): dropped, and the study's numbers on the console, not only in a log
    _rewrite_fixations(root, lambda f: f.assign(x=np.where(f.index.isin([0, 1, 150, 151]), 5000.0, f["x"])))
    proc, out = _run(root, cfg, str(root / "results" / "fixations" / "scenes"))
    assert proc.returncode == 0, out[-3000:]
    assert re.search(r"^input check: fixations: .*fixations\.csv: 284 fixations kept in 2 scene\(s\); 4 \(1\.4%\) dropped "
                     r"as outside their image \(dataset\.fixations_outside: drop\), in 2 scene\(s\): scene_01 2, "
                     r"scene_02 2$", out, re.M), out[-3000:]


@pytest.mark.slow
def test_snakemake_stops_a_scene_without_fixations_in_the_input_check(demo):
    root, cfg = demo
    fixations_all_dropped(root, cfg)  # scene_01's fixations all off the image; drop, with no limit on the share
    proc, out = _run(root, cfg)
    assert proc.returncode != 0
    assert re.search(r"fixations\.csv: scene 'scene_01': all 144 of its fixations fall outside its 512 x 384 \(W x H\) "
                     r"image and were dropped .*no fixations left", out), out[-3000:]
    assert "the input check found 1 problem(s)" in out and _no_maps_made(root)


@pytest.mark.slow
def test_snakemake_stops_a_z_scored_map_in_the_input_check(demo):
    root, cfg = demo
    map_z_scored(root, cfg)
    proc, out = _run(root, cfg)
    assert proc.returncode != 0
    assert re.search(r"salience/scene_01\.npy: this map has both signs \(values -[\d.]+ to [\d.]+\): a z-scored", out), \
        out[-3000:]
    assert "the input check found 1 problem(s)" in out and _no_maps_made(root)


@pytest.mark.slow
def test_snakemake_refuses_a_transposed_map_with_resize_true_and_stretches_it_when_told(demo):
    from meaningmaps.data.external_maps import bilinear_resize

    root, cfg = demo
    transposed = _salience(root).T
    _salience_npy(root, transposed)
    cfg["dataset"]["maps"]["salience"] = {"folder": cfg["dataset"]["maps"]["salience"], "resize": True}
    target = root / "results" / "maps" / "salience" / "scene_01.npy"
    proc, out = _run(root, cfg, str(target))
    assert proc.returncode != 0
    assert re.search(r"scene_01\.npy: map is 384x512 \(WxH\) but the scene is 512x384: their aspect ratios differ.*"
                     r"dataset\.maps\.salience\.resize: stretch", out), out[-3000:]
    assert _no_maps_made(root)
    cfg["dataset"]["maps"]["salience"]["resize"] = "stretch"
    proc, out = _run(root, cfg, str(target))
    assert proc.returncode == 0, out[-3000:]
    assert np.array_equal(np.load(target), bilinear_resize(transposed, (384, 512)).astype(np.float32))
