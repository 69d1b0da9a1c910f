"""Config schema and scene discovery: typos, cross-key rules, scene sets that disagree, sizes."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from meaningmaps.config import load_config, scale_specs, validate_config
from meaningmaps.data.dataset import discover
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
    for name in ("center", "center_empirical", "base", "finetuned", "probe"):
        with pytest.raises(InputError, match="dataset.maps"):
            validate_config({"dataset": {"maps": {name: "x"}}})
    assert validate_config({"dataset": {"maps": {"human": "x"}}})["dataset"]["maps"] == {"human": "x"}


def test_human_maps_and_ratings_together_refused(tmp_path):
    ds = _write_study(tmp_path, ["a"], ["a"], map_scenes=["a"])
    ds["maps"] = {"human": ds["maps"]["other"]}
    with pytest.raises(InputError, match=r"^dataset\.ratings and dataset\.maps\.human: .*choose one source for "
                       r"the human maps.*Fix: "):
        discover(validate_config({"dataset": ds}))
    del ds["ratings"]
    assert set(discover(validate_config({"dataset": ds})).maps["human"]) == {"a"}


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
        ds["fixation_csv"] = {"origin": 1}
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


# ---------------------------------------------------------------- issue 11: fixation and map settings


def test_new_keys_validate_and_default():
    cfg = validate_config({})
    assert cfg["dataset"]["fixation_csv"] == {"columns": {}, "origin": None}
    assert cfg["attention"]["fixation_numbers"] == {"min": None, "max": None}
    cfg = validate_config({"dataset": {"fixation_csv": {"columns": {"scene": "image"}, "origin": 0},
                                       "maps": {"a": "folder_a", "b": {"folder": "f", "transform": "exp",
                                                                       "resize": True}}},
                           "attention": {"fixation_numbers": {"min": 2, "max": 4}}})
    assert cfg["dataset"]["maps"]["a"] == "folder_a"  # the plain form still works


@pytest.mark.parametrize("dataset, key", [
    ({"fixation_csv": {"origin": 2}}, "fixation_csv.origin"),
    ({"fixation_csv": {"columns": {"scen": "image"}}}, "'scen' was unexpected"),
    ({"maps": {"a": {"folder": "f", "transform": "log"}}}, "maps.a"),
    ({"maps": {"a": {"transform": "exp"}}}, "maps.a"),
    ({"maps": {"a": {"folder": "f", "resise": True}}}, "maps.a"),
])
def test_bad_new_keys_are_named(dataset, key):
    with pytest.raises(InputError, match=key):
        validate_config({"dataset": dataset})


def test_fixation_numbers_min_above_max_refused(tmp_path):
    ds = _write_study(tmp_path, ["a"], fix_scenes=["a"])
    with pytest.raises(InputError, match=r"attention.fixation_numbers: min 5 is above max 3"):
        discover(validate_config({"dataset": ds, "attention": {"fixation_numbers": {"min": 5, "max": 3}}}))


def test_discovery_maps_the_fixation_columns(tmp_path):
    ds = _write_study(tmp_path, ["a", "b"])
    gaze = pd.DataFrame({"image": ["a.jpg", "b.jpg"], "gx": [0.0, 39.0], "gy": [3.0, 4.0]})
    gaze.to_csv(tmp_path / "g.csv", index=False)
    ds.update(fixations=str(tmp_path / "g.csv"), fixation_csv={"columns": {"scene": "image", "x": "gx", "y": "gy"}})
    study = discover(validate_config({"dataset": ds}))
    assert study.scenes == ["a", "b"]
    s = study.fixation_settings  # x = 0 is off a 1-based image, x = 39 on a 0-based 40-px one: 0-based
    assert s["origin"] == 0 and "inferred" in s["origin_evidence"] and "x = 0" in s["origin_evidence"]
    assert s["columns"] == {"scene": "image", "x": "gx", "y": "gy"}
    ds["fixation_csv"] = {}  # without the mapping the CSV has no scene column
    with pytest.raises(InputError, match=r"lacks column\(s\) \['scene', 'x', 'y'\].*fixation_csv.columns"):
        discover(validate_config({"dataset": ds}))


def test_discovery_refuses_an_ambiguous_origin_at_start_up(tmp_path):
    ds = _write_study(tmp_path, ["a"], fix_scenes=["a"])
    del ds["fixation_csv"]
    with pytest.raises(InputError, match=r"fix.csv: .*cannot tell.*Fix: set dataset.fixation_csv.origin"):
        discover(validate_config({"dataset": ds}))


def test_mat_fixations_refuse_csv_keys(tmp_path):
    import scipy.io

    ds = _write_study(tmp_path, ["a"])
    D = np.empty((1, 1), dtype=[("sbj", object), ("image", object), ("loc", object), ("dur", object)])
    D[0, 0]["sbj"], D[0, 0]["image"] = np.array([[1]]), np.array(["a.jpg"], dtype=object)
    D[0, 0]["loc"], D[0, 0]["dur"] = np.array([[5, 6]], dtype=np.uint16), np.array([[100]], dtype=np.uint16)
    scipy.io.savemat(tmp_path / "f.mat", {"D": D})
    ds["fixations"] = str(tmp_path / "f.mat")
    assert discover(validate_config({"dataset": ds})).fixation_settings["origin"] == 1
    with pytest.raises(InputError, match="fixation_csv.origin is set, but this is a .mat file"):
        discover(validate_config({"dataset": dict(ds, fixation_csv={"origin": 1})}))
    with pytest.raises(InputError, match="fixation_csv.columns is set, but this is a .mat file"):
        discover(validate_config({"dataset": dict(ds, fixation_csv={"columns": {"scene": "img"}})}))


def test_map_source_forms_and_sizes(tmp_path):
    ds = _write_study(tmp_path, [], (), ["a"], ["a"])
    del ds["images"]
    (tmp_path / "small").mkdir()
    np.save(tmp_path / "small" / "a.npy", np.random.default_rng(0).random((15, 20)))
    ds["maps"] = {"other": str(tmp_path / "maps"), "small": {"folder": str(tmp_path / "small"), "resize": True}}
    study = discover(validate_config({"dataset": ds}))
    assert study.map_settings == {
        "other": {"folder": str(tmp_path / "maps"), "transform": None, "resize": False, "variable": None},
        "small": {"folder": str(tmp_path / "small"), "transform": None, "resize": True, "variable": None}}
    assert study.sizes["a"] == (30, 40)  # from the source that is not resized
    ds["maps"] = {"small": {"folder": str(tmp_path / "small"), "resize": True}}
    with pytest.raises(InputError, match="resize: true"):
        discover(validate_config({"dataset": ds}))
    assert discover(validate_config({"dataset": dict(ds, size=[40, 30])})).sizes["a"] == (30, 40)
