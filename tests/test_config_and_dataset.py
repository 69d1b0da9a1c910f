"""Config schema and scene discovery: typos, cross-key rules, scene sets that disagree, sizes."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from meaningmaps.config import load_config, scale_specs, validate_config
from meaningmaps.dataset import discover
from meaningmaps.errors import InputError

from .conftest import REPO


def test_defaults_are_the_toolkit_settings():
    cfg = load_config(REPO / "config.yaml")
    specs = {s.name: s for s in scale_specs(cfg)}
    assert (specs["fine"].n, specs["fine"].diameter) == (300, 87)
    assert (specs["coarse"].n, specs["coarse"].diameter) == (108, 205)
    assert cfg["meaning_map"]["sigma"] == 10 and cfg["attention"]["fc"] == 6
    assert cfg["download"]["node"] == "ptsvm"


def test_unknown_key_is_named():
    with pytest.raises(InputError, match="'fixation' was unexpected"):
        validate_config({"dataset": {"fixation": "x.mat"}})
    with pytest.raises(InputError, match="meaning_map.*'sigm'"):
        validate_config({"meaning_map": {"sigm": 3}})


def test_degrees_need_pixels_per_degree_and_round_like_matlab():
    with pytest.raises(InputError, match="pixels_per_degree"):
        validate_config({"patches": {"fine": {"n": 300, "diameter_deg": 3}}})
    cfg = validate_config({"patches": {"pixels_per_degree": 14.5, "fine": {"n": 300, "diameter_deg": 3},
                                       "coarse": {"n": 108, "diameter_deg": 7}}})
    assert [s.diameter for s in scale_specs(cfg)] == [44.0, 102.0]  # 43.5 -> 44, 101.5 -> 102


def test_reserved_map_source_names_refused():
    with pytest.raises(InputError, match="dataset.maps"):
        validate_config({"dataset": {"maps": {"human": "x"}}})


def _write_study(tmp_path, image_scenes, rating_scenes=(), fix_scenes=(), map_scenes=()):
    (tmp_path / "img").mkdir()
    for s in image_scenes:
        Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(tmp_path / "img" / f"{s}.png")
    if rating_scenes:
        (tmp_path / "rat").mkdir()
        for s in rating_scenes:
            (tmp_path / "rat" / f"{s}.csv").write_text("scale,k,rating\n")
    if fix_scenes:
        pd.DataFrame({"scene": list(fix_scenes), "x": 5.0, "y": 5.0}).to_csv(tmp_path / "fix.csv", index=False)
    if map_scenes:
        (tmp_path / "maps").mkdir()
        for s in map_scenes:
            np.save(tmp_path / "maps" / f"{s}.npy", np.random.default_rng(0).random((30, 40)))
    ds = {"images": str(tmp_path / "img")}
    if rating_scenes:
        ds["ratings"] = str(tmp_path / "rat")
    if fix_scenes:
        ds["fixations"] = str(tmp_path / "fix.csv")
    if map_scenes:
        ds["maps"] = {"other": str(tmp_path / "maps")}
    return ds


def test_discovery_and_sizes(tmp_path):
    ds = _write_study(tmp_path, ["a", "b"], ["a", "b"], ["a", "b"], ["a", "b"])
    study = discover(validate_config({"dataset": ds}))
    assert study.scenes == ["a", "b"] and study.sizes["a"] == (30, 40)
    assert study.rating_sources == ["human"] and set(study.maps["other"]) == {"a", "b"}


def test_scene_missing_from_a_source_is_named(tmp_path):
    ds = _write_study(tmp_path, ["a", "b"], ["a"], ["a", "b"])
    with pytest.raises(InputError, match=r"rat: lacks 1 scene\(s\) that images has: b"):
        discover(validate_config({"dataset": ds}))


def test_extra_scene_in_a_source_is_named(tmp_path):
    ds = _write_study(tmp_path, ["a"], ["a"], ["a", "zzz"])
    with pytest.raises(InputError, match=r"fix.csv: has 1 scene\(s\) that images lacks: zzz"):
        discover(validate_config({"dataset": ds}))
    ds2 = dict(ds, scenes=["a"])
    assert discover(validate_config({"dataset": ds2})).scenes == ["a"]


def test_without_images_scenes_are_those_with_fixations_and_a_map(tmp_path):
    ds = _write_study(tmp_path, [], (), ["a", "b", "c"], ["b", "c", "d"])
    del ds["images"]
    study = discover(validate_config({"dataset": ds}))
    assert study.scenes == ["b", "c"] and study.sizes["b"] == (30, 40)


def test_odd_scene_names_refused(tmp_path):
    (tmp_path / "img").mkdir()
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "img" / "a b;rm.png")
    with pytest.raises(InputError, match="rename"):
        discover(validate_config({"dataset": {"images": str(tmp_path / "img")}}))


def test_non_image_refused_at_start(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "fake.jpg").write_text("not an image")
    with pytest.raises(InputError, match=r"fake.jpg: is not a readable image"):
        discover(validate_config({"dataset": {"images": str(tmp_path / "img")}}))


def test_misspelled_source_in_semipartial_is_named():
    from meaningmaps.config import check_source_names

    cfg = validate_config({"evaluation": {"semipartial": [["humna", "center"]]}})
    with pytest.raises(InputError, match=r"unknown map source\(s\) \['humna'\]"):
        check_source_names(cfg, ["human", "center"])
    check_source_names(validate_config({}), ["salience", "center"])  # absent human is allowed
