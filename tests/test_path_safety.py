"""No output replaces or deletes an input (issue 21 §1): the path logic of
meaningmaps.workflow.path_safety on a demo study's layout (no snakemake here; the runs through
snakemake are at the end of tests/test_bad_input.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from meaningmaps.config import validate_config
from meaningmaps.errors import InputError
from meaningmaps.workflow.path_safety import check_config_paths, conflicts, refuse_output_overlap

from .conftest import REPO, demo_config


@pytest.fixture
def study(tmp_path):
    """(root, config): the layout of tests' demo study (root/data/{images,ratings,maps/salience},
    root/data/fixations.csv), the files only touched, results in root/results, model off."""
    data = tmp_path / "data"
    for folder in ("images", "ratings", "maps/salience"):
        (data / folder).mkdir(parents=True)
    (data / "images" / "scene_01.jpg").write_bytes(b"jpg")
    (data / "maps" / "salience" / "scene_01.npy").write_bytes(b"npy")
    (data / "fixations.csv").write_text("scene,x,y\n")
    cfg = demo_config(tmp_path)
    cfg["model"]["enabled"] = False
    return tmp_path, cfg


def refused(cfg: dict, cwd) -> str:
    with pytest.raises(InputError) as info:
        check_config_paths(validate_config(cfg), "study.yaml", cwd=cwd)
    return str(info.value)


def allowed(cfg: dict, cwd) -> None:
    check_config_paths(validate_config(cfg), "study.yaml", cwd=cwd)


def test_results_beside_the_data_is_allowed(study):
    root, cfg = study
    allowed(cfg, root)


def test_results_equal_to_the_data_folder_is_refused_naming_both_keys_paths_and_the_fix(study):
    root, cfg = study
    cfg["results"] = str(root / "data")
    message = refused(cfg, root)
    assert message.startswith(f"study.yaml: config key results ({root / 'data'}) holds config key dataset.images "
                              f"({root / 'data' / 'images'}), ")
    for key in ("dataset.ratings", "dataset.maps.salience", "dataset.fixations"):
        assert f"config key {key} (" in message
    assert "deletes a job's outputs before it runs the job" in message
    assert message.endswith("Fix: set results to a folder of its own that neither holds nor lies inside the data, "
                            "e.g. results: results.")


def test_results_equal_to_a_map_folder_is_the_same_path(study):
    root, cfg = study
    cfg["results"] = str(root / "data" / "maps" / "salience")
    assert f"is the same path as config key dataset.maps.salience ({root / 'data' / 'maps' / 'salience'})" \
        in refused(cfg, root)


@pytest.mark.parametrize("inside", ["images", "ratings", "maps/salience"])
def test_results_inside_an_input_folder_is_refused(study, inside):
    root, cfg = study
    cfg["results"] = str(root / "data" / inside / "results")
    message = refused(cfg, root)
    key = "dataset.maps.salience" if inside.startswith("maps") else f"dataset.{inside}"
    assert f"config key results ({root / 'data' / inside / 'results'}) lies inside config key {key} (" in message
    assert "Outputs would be written among the inputs" in message


def test_results_above_the_data_is_refused(study):
    root, cfg = study
    cfg["results"] = str(root)
    assert f"config key results ({root}) holds config key dataset.images" in refused(cfg, root)


def test_results_beside_the_data_inside_a_project_folder_is_allowed(study):
    """`meaningmaps demo OUT_DIR` lays a study out as OUT_DIR/{images,ratings,maps,fixations.csv,results}:
    the folder that holds the data may hold the results beside them."""
    root, cfg = study
    cfg["results"] = str(root / "data" / "results")
    allowed(cfg, root)


def test_relative_paths_start_in_the_working_directory(study):
    root, cfg = study
    ds = cfg["dataset"]
    cfg["results"] = "data"
    ds["images"], ds["ratings"], ds["fixations"] = "data/images", "data/ratings", "data/fixations.csv"
    ds["maps"] = {"salience": {"folder": "./data/maps/../maps/salience", "transform": "none"}}  # the {folder} form
    message = refused(cfg, root)
    assert f"config key results (data, that is {root / 'data'}) holds config key dataset.images (data/images" in message
    assert f"config key dataset.maps.salience (./data/maps/../maps/salience, that is {root / 'data/maps/salience'})" \
        in message
    run = root / "run"
    run.mkdir()
    ds.update(images=str(root / "data" / "images"), ratings=str(root / "data" / "ratings"),
              fixations=str(root / "data" / "fixations.csv"), maps={"salience": str(root / "data/maps/salience")})
    allowed(cfg, run)  # from run/, results "data" is run/data


def test_a_symlink_to_the_data_is_resolved(study):
    root, cfg = study
    (root / "out").symlink_to(root / "data")
    cfg["results"] = str(root / "out")
    assert f"config key results ({root / 'out'}, that is {root / 'data'}) holds config key dataset.images" \
        in refused(cfg, root)


def test_a_path_that_does_not_exist_yet_resolves_by_its_existing_parent(study):
    root, cfg = study
    (root / "pictures").symlink_to(root / "data" / "images")
    cfg["results"] = str(root / "pictures" / "new" / "results")  # pictures/new does not exist yet
    message = refused(cfg, root)
    assert f"that is {root / 'data' / 'images' / 'new' / 'results'}) lies inside config key dataset.images" in message


def test_an_input_linked_into_results_is_refused_by_its_given_path(study):
    """A map folder symlinked into results: Snakemake would delete results/maps/salience/<scene>.npy,
    which is the file behind the link."""
    root, cfg = study
    (root / "results" / "maps").mkdir(parents=True)
    (root / "results" / "maps" / "salience").symlink_to(root / "data" / "maps" / "salience")
    cfg["dataset"]["maps"] = {"salience": str(root / "results" / "maps" / "salience")}
    assert "holds config key dataset.maps.salience" in refused(cfg, root)


def test_the_fixation_file_inside_results_is_refused(study):
    root, cfg = study
    cfg["dataset"]["fixations"] = str(root / "results" / "fixations.csv")
    assert f"holds config key dataset.fixations ({root / 'results' / 'fixations.csv'})" in refused(cfg, root)


def test_a_prefix_of_a_name_is_not_inside(study):
    root, cfg = study
    cfg["results"] = str(root / "data" / "images-results")  # beside images, not inside
    allowed(cfg, root)


# --------------------------------------------------------------------------- models


def _model(cfg, **keys):
    cfg["model"].update(enabled=True, **keys)
    return cfg


def test_the_tiny_model_built_inside_results_is_allowed(study):
    root, cfg = study
    allowed(_model(cfg), root)  # base: root/results/models/tiny-llava, model.build_tiny set


@pytest.mark.parametrize("base, says", [
    ("results", "config key model.base ({root}/results) is the same path as config key results"),
    (".", "config key model.base ({root}) holds config key dataset.images"),
    ("data/images/tiny", "lies inside config key dataset.images")])
def test_a_built_model_folder_that_overlaps_is_refused(study, base, says):
    root, cfg = study
    message = refused(_model(cfg, base=str(root / base)), root)
    assert says.format(root=root) in message and "Fix: set model.base to a folder of its own" in message


def test_a_given_model_inside_results_is_refused(study):
    """The rule that trains a model writes <results>/models/<fold>/...: Snakemake could rebuild a
    given model that lies there, deleting it first."""
    root, cfg = study
    release = root / "results" / "models" / "all" / "release"
    cfg = _model(cfg, sources=["finetuned"], finetuned_model=str(release), build_tiny=None)
    message = refused(cfg, root)
    assert f"holds config key model.finetuned_model ({release})" in message
    assert "Snakemake could retrain it" in message and "copy it out of that run's results" in message


def test_a_given_model_of_another_run_is_allowed(study):
    """The README's photos study: results/photos, rated with results/models/all/release."""
    root, cfg = study
    cfg["results"] = str(root / "results" / "photos")
    release, probe = root / "results" / "models" / "all" / "release", root / "results" / "probe" / "all" / "ridge.npz"
    allowed(_model(cfg, sources=["finetuned", "probe"], finetuned_model=str(release), probe_model=str(probe),
                   build_tiny=None), root)


def test_a_local_base_model_is_an_input_and_a_hub_id_is_not(study):
    root, cfg = study
    (root / "llava").mkdir()
    cfg["results"] = str(root / "llava" / "results")
    assert "lies inside config key model.base" in refused(_model(cfg, base=str(root / "llava"), build_tiny=None), root)
    cfg["results"] = "llava-hf"
    allowed(_model(cfg, base="llava-hf/llava-1.5-7b-hf", build_tiny=None), root)  # no such folder: a hub id


def test_model_keys_count_only_with_the_model_steps_on(study):
    root, cfg = study
    cfg["model"].update(finetuned_model=str(root / "results" / "m"), sources=["finetuned"])
    allowed(cfg, root)  # model.enabled: false


# --------------------------------------------------------------------------- the download


def _download(cfg, root):
    cfg["download"] = {"enabled": True, "node": "abcde", "dest": str(root / "osf")}
    project = root / "osf" / "abcde"
    cfg["dataset"].update(images=str(project / "scenes"), ratings=None,
                          fixations=str(project / "eye.mat"), maps={"human": str(project)})
    return cfg


def test_inputs_inside_the_download_folder_are_its_own(study):
    root, cfg = study
    allowed(_download(cfg, root), root)


@pytest.mark.parametrize("results, says", [("osf", "holds config key dataset.images"),
                                           ("osf/abcde/results", "lies inside config key dataset.maps.human"),
                                           (".", "holds config key dataset.images")])
def test_results_overlapping_the_downloaded_inputs_is_refused(study, results, says):
    root, cfg = study
    cfg = _download(cfg, root)
    cfg["results"] = str(root / results)
    message = refused(cfg, root)
    assert message.startswith("study.yaml: config key results (") and says in message


@pytest.mark.parametrize("results, says", [("osf", "lies inside config key results"),
                                           ("osf/abcde/results", "holds config key results"),
                                           ("osf/abcde", "is the same path as config key results")])
def test_results_and_the_download_folder_overlapping_is_refused(study, results, says):
    """The download's folder and results are kept apart even when no dataset path lies in either."""
    root, cfg = study
    cfg["download"] = {"enabled": True, "node": "abcde", "dest": str(root / "osf")}
    cfg["results"] = str(root / results)
    message = refused(cfg, root)
    assert message.startswith(f"study.yaml: config key download.dest ({root / 'osf'}: the download's folder "
                              f"{root / 'osf' / 'abcde'}) {says} (")
    assert "Fix: set download.dest to a folder of its own" in message


def test_the_download_into_an_input_folder_is_refused(study):
    root, cfg = study
    cfg = _download(cfg, root)
    cfg["dataset"]["ratings"] = str(root / "osf")  # holds the download folder
    message = refused(cfg, root)
    assert f"download's folder {root / 'osf' / 'abcde'}) lies inside config key dataset.ratings ({root / 'osf'})" \
        in message
    assert "Fix: set download.dest to a folder of its own" in message


# --------------------------------------------------------------------------- the shipped configs


@pytest.mark.parametrize("name", ["config.yaml", "config.paper.yaml", "demo/config.yaml"])
def test_the_shipped_configs_are_allowed(name):
    cfg = validate_config(yaml.safe_load((REPO / name).read_text()))
    assert conflicts(cfg, REPO) == []


def test_the_check_never_lists_a_folder(study, monkeypatch):
    """O(configured folders): a few stat calls per pair, never a listing of the scenes' files."""
    root, cfg = study
    cfg["results"] = str(root / "data")
    cfg = validate_config(cfg)

    def no_listing(*args, **kw):
        raise AssertionError("a folder was listed")

    monkeypatch.setattr(os, "scandir", no_listing)
    monkeypatch.setattr(os, "listdir", no_listing)
    assert len(conflicts(cfg, root)) == 4


# --------------------------------------------------------------------------- plain paths (the command line)


def test_cli_out_among_the_inputs_is_refused(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    images = {f"image {n}": photos / f"{n}.jpg" for n in ("a", "b")}
    with pytest.raises(InputError) as info:
        refuse_output_overlap({"--out": photos}, images, cwd=tmp_path)
    message = str(info.value)
    assert message.startswith(f"{photos}: --out ({photos}) holds image a ({photos / 'a.jpg'}) and image b (")
    assert "Fix: give --out a folder of its own" in message
    with pytest.raises(InputError, match=r"--out \(.*\) lies inside --model"):
        refuse_output_overlap({"--out": tmp_path / "model" / "maps"}, {"--model": tmp_path / "model"}, cwd=tmp_path)
    with pytest.raises(InputError, match=r"--out \(photos/a.jpg, that is .*\) is the same path as image a"):
        refuse_output_overlap([("--out", "photos/a.jpg")], images, cwd=tmp_path)
    refuse_output_overlap({"--out": tmp_path / "new_maps"}, images, cwd=tmp_path)  # beside: allowed


def test_cli_message_lists_a_few_of_many_inputs(tmp_path):
    images = {f"image {n}": tmp_path / f"{n}.jpg" for n in range(10)}
    with pytest.raises(InputError) as info:
        refuse_output_overlap({"--out": tmp_path}, images, cwd=tmp_path)
    assert "image 0 (" in str(info.value) and "and 7 more:" in str(info.value) and "image 9" not in str(info.value)


def test_working_directory_default(study, monkeypatch):
    root, cfg = study
    monkeypatch.chdir(root)
    cfg["results"] = "data"
    with pytest.raises(InputError, match="config key results"):
        check_config_paths(validate_config(cfg), "study.yaml")
    assert Path.cwd() == Path(os.path.realpath(root))
