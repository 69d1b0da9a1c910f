"""Labels (three rating rules, the map rule), scene splits (k-fold, the paper's) and the QA JSONL files."""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from meaningmaps.errors import InputError
from meaningmaps.maps.patch_files import write_scene_patches
from meaningmaps.maps.patch_grid import PatchGrid, ScaleSpec, cut_patch
from meaningmaps.model.labels import labels_from_map, labels_from_ratings, map_bins
from meaningmaps.model.prompting import CATEGORIES, QUESTION
from meaningmaps.model.qa_jsonl import (
    composite,
    concat_jsonl,
    read_jsonl,
    scene_records,
    write_jsonl,
    write_scene_views,
)
from meaningmaps.model.splits import fold_scenes, kfold_assignment, paper_split

from .reference import patch_means

SPECS = [ScaleSpec("fine", 6, 45), ScaleSpec("coarse", 3, 80)]  # covers a 60 x 90 scene


def _long(per_patch: dict) -> pd.DataFrame:
    rows = [(s, k, r, i) for (s, k), rs in per_patch.items() for i, r in enumerate(rs)]
    return pd.DataFrame(rows, columns=["scale", "k", "rating", "rater"])


# ---------------------------------------------------------------- labels from ratings

TIES = {("coarse", 1): [5, 6], ("coarse", 2): [1, 1, 6], ("fine", 2): [2, 2, 5, 5],
        ("fine", 1): [2, 3], ("fine", 3): [1, 1, 2], ("fine", 4): [3, 4]}


def test_nearest_rounds_halves_up_and_orders_fine_first():
    out = labels_from_ratings(_long(TIES), "nearest")
    assert list(zip(out["scale"], out["k"])) == [("fine", 1), ("fine", 2), ("fine", 3), ("fine", 4),
                                                 ("coarse", 1), ("coarse", 2)]
    got = dict(zip(zip(out["scale"], out["k"]), out["label"]))
    # 2.5 -> 3, 3.5 -> 4, 1.33 -> 1, 3.5 -> 4, 5.5 -> 6, 2.67 -> 3
    assert got == {("fine", 1): 3, ("fine", 2): 4, ("fine", 3): 1, ("fine", 4): 4, ("coarse", 1): 6, ("coarse", 2): 3}
    assert out.loc[0, "category"] == "somewhat low" and out.loc[4, "category"] == "very high"
    assert list(out["n_ratings"]) == [2, 4, 3, 2, 2, 3]
    ref = patch_means(_long(TIES).assign(scene="s")).set_index(["scale", "k"])
    for s, k, m in zip(out["scale"], out["k"], out["mean_rating"]):
        assert m == pytest.approx(ref.loc[(s, k), "mean_rating"], abs=1e-12)


def test_median_and_mode_rules():
    med = labels_from_ratings(_long(TIES), "median").set_index(["scale", "k"])["label"]
    assert med[("fine", 1)] == 3  # median 2.5 -> 3
    assert med[("coarse", 2)] == 1  # [1, 1, 6]: median 1 (nearest would give 3)
    assert med[("fine", 2)] == 4  # median 3.5 -> 4
    mode = labels_from_ratings(_long(TIES), "mode").set_index(["scale", "k"])["label"]
    assert mode[("fine", 2)] == 2  # 2 and 5 twice each: the lower wins
    assert mode[("fine", 1)] == 2  # 2 and 3 once each
    assert mode[("coarse", 2)] == 1


def test_rules_match_an_independent_implementation_on_random_ratings():
    rng = np.random.default_rng(3)
    per = {(s, k): list(rng.integers(1, 7, size=rng.integers(1, 9))) for s in ("fine", "coarse") for k in range(1, 13)}
    frame = _long(per).sample(frac=1.0, random_state=1)  # row order must not matter
    for rule in ("nearest", "median", "mode"):
        out = labels_from_ratings(frame, rule).set_index(["scale", "k"])
        for key, rs in per.items():
            if rule == "nearest":
                want = math.floor(sum(rs) / len(rs) + 0.5)
            elif rule == "median":
                want = math.floor(statistics.median(rs) + 0.5)
            else:
                c = Counter(rs)
                want = min(v for v in c if c[v] == max(c.values()))
            assert out.loc[key, "label"] == want, (rule, key, rs)
            assert out.loc[key, "category"] == CATEGORIES[want - 1]


def test_rating_errors():
    with pytest.raises(InputError, match="outside 1-6"):
        labels_from_ratings(_long({("fine", 1): [2, 7]}), path="r.csv")
    with pytest.raises(InputError, match="rule"):
        labels_from_ratings(_long(TIES), "mean")
    with pytest.raises(InputError, match="whole-number"):
        labels_from_ratings(_long({("fine", 1): [2.5, 3]}), "mode")
    with pytest.raises(InputError, match="column"):
        labels_from_ratings(pd.DataFrame({"scale": ["fine"], "k": [1]}))


# ---------------------------------------------------------------- labels from a map

def test_map_bins_edges():
    # edges 0..6: a value on an inner edge goes to the upper bin; the maximum to bin 6
    assert list(map_bins([0, 0.5, 1, 2.999, 3, 5.999, 6], 0.0, 6.0)) == [1, 1, 2, 3, 4, 6, 6]


def test_labels_from_map_patch_means_and_six_bins():
    grid = PatchGrid(60, 90, SPECS)
    rng = np.random.default_rng(0)
    m = rng.uniform(0.2, 0.8, size=(60, 90))
    m[grid.full_mask("fine", 2)] = 1.0  # patch fine 2 sits at the maximum -> bin 6
    m[0, 0] = 0.0  # the map's minimum, outside most patches
    out = labels_from_map(m, grid)
    assert (out["n_ratings"] == 0).all()
    assert list(out["scale"]) == ["fine"] * len(grid.patches["fine"]) + ["coarse"] * len(grid.patches["coarse"])
    for s, k, v, lab in zip(out["scale"], out["k"], out["mean_rating"], out["label"]):
        mean = m[grid.full_mask(s, k)].mean()
        assert v == pytest.approx(mean, rel=1e-12)
        assert lab == min(6, int((mean - 0.0) / (1.0 - 0.0) * 6) + 1)  # six equal bins over [0, 1]
    fine2 = out[(out["scale"] == "fine") & (out["k"] == 2)].iloc[0]
    assert fine2["mean_rating"] == 1.0 and fine2["label"] == 6 and fine2["category"] == "very high"


def test_labels_from_map_uses_the_map_range_not_the_patch_range():
    grid = PatchGrid(60, 90, SPECS)
    m = np.full((60, 90), 0.5)
    m[0, 0], m[-1, -1] = 0.0, 6.0  # range 0..6, but every patch mean stays near 0.5
    out = labels_from_map(m, grid)
    assert set(out["label"]) <= {1}


def test_labels_from_map_errors():
    grid = PatchGrid(60, 90, SPECS)
    with pytest.raises(InputError, match="constant"):
        labels_from_map(np.ones((60, 90)), grid, path="m.npy")
    with pytest.raises(InputError, match="shape"):
        labels_from_map(np.ones((50, 90)), grid)


# ---------------------------------------------------------------- splits

SCENES = [f"scene_{i:03d}" for i in range(40)]


def test_kfold_every_scene_in_exactly_one_test_fold():
    a = kfold_assignment(SCENES, 5, salt=0)
    tests = [fold_scenes(a, f)[1] for f in range(5)]
    assert sorted(s for t in tests for s in t) == sorted(SCENES)
    for f in range(5):
        train, test = fold_scenes(a, f)
        assert train == sorted(train) and test == sorted(test) and test
        assert not set(train) & set(test) and set(train) | set(test) == set(SCENES)
    for s in SCENES:  # the documented hash rule, recomputed here
        assert a[s] == int(hashlib.sha256(f"0:{s}".encode()).hexdigest()[:12], 16) % 5


def test_kfold_adding_or_removing_a_scene_moves_no_other_scene():
    before = kfold_assignment(SCENES, 5, salt=0)
    after = kfold_assignment(SCENES + ["a_new_scene"], 5, salt=0)
    assert {s: after[s] for s in SCENES} == before
    new = after["a_new_scene"]
    for f in range(5):
        old_test, new_test = set(fold_scenes(before, f)[1]), set(fold_scenes(after, f)[1])
        assert new_test - old_test == ({"a_new_scene"} if f == new else set())
        assert old_test - new_test == set()
    fewer = kfold_assignment(SCENES[1:], 5, salt=0)
    assert fewer == {s: before[s] for s in SCENES[1:]}
    assert kfold_assignment(SCENES, 5, salt=1) != before  # the salt reshuffles


def test_kfold_errors_name_the_config_keys():
    with pytest.raises(InputError, match="model.folds.k"):
        kfold_assignment(SCENES[:3], 4)
    with pytest.raises(InputError, match="model.folds.k"):
        kfold_assignment(SCENES, 1)
    # a salt under which two scenes hash to the same fold leaves the other fold empty
    salt = next(t for t in range(100) if len({int(hashlib.sha256(f"{t}:{s}".encode()).hexdigest()[:12], 16) % 2
                                              for s in ("x", "y")}) == 1)
    with pytest.raises(InputError, match="model.folds.salt"):
        kfold_assignment(["x", "y"], 2, salt=salt)
    with pytest.raises(InputError, match="twice"):
        kfold_assignment(SCENES + SCENES[:1], 5)


@pytest.mark.parametrize("n", [40, 24, 10])
def test_paper_split_reproduces_the_papers_code(n):
    names = [f"img{(i * 7919) % 1000:04d}" for i in range(n)]
    shuffled = list(np.random.default_rng(n).permutation(names))
    np.random.seed(123)
    expected_next = np.random.rand()
    np.random.seed(123)
    train, test = paper_split(shuffled)
    assert np.random.rand() == expected_next  # the caller's global random stream is untouched
    # the paper's code, inline
    scenes = sorted(names)
    np.random.seed(42)
    ref_test = np.random.choice(scenes, int(0.3 * len(scenes)), replace=False)
    assert test == sorted(str(s) for s in ref_test)
    assert train == sorted(set(scenes) - set(test))
    assert len(test) == int(0.3 * n)


# ---------------------------------------------------------------- composite and views

def _patch(seed=0):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, size=(60, 90, 3), dtype=np.uint8)
    return cut_patch(image, PatchGrid(60, 90, SPECS).patches["fine"][4])


@pytest.mark.parametrize("background,value", [("black", 0), ("grey", 128), ("white", 255)])
def test_composite_backgrounds(background, value):
    rgba = _patch()
    inside = rgba[..., 3] == 255
    assert inside.any() and (~inside).any()
    out = np.asarray(composite(rgba, background))
    assert out.dtype == np.uint8 and out.shape == rgba.shape[:2] + (3,)
    assert np.array_equal(out[inside], rgba[inside, :3])
    assert (out[~inside] == value).all()
    if background == "black":
        assert np.array_equal(out, rgba[..., :3])
    assert np.array_equal(np.asarray(composite(Image.fromarray(rgba, "RGBA"), background)), out)


def test_composite_partial_alpha_rounds_to_nearest():
    rng = np.random.default_rng(5)
    rgba = rng.integers(0, 256, size=(20, 20, 4), dtype=np.uint8)
    a = rgba[..., 3:].astype(float) / 255
    for background, bg in (("black", 0.0), ("grey", 128.0), ("white", 255.0)):
        want = np.round(rgba[..., :3] * a + bg * (1 - a))  # never exactly halfway for 8-bit inputs
        assert np.array_equal(np.asarray(composite(rgba, background)), want.astype(np.uint8))
    with pytest.raises(InputError, match="background"):
        composite(rgba, "blue")


def test_write_scene_views(tmp_path):
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, size=(60, 90, 3), dtype=np.uint8)).save(tmp_path / "s.png")
    index = write_scene_patches(tmp_path / "s.png", tmp_path / "patches" / "s", SPECS)
    out = write_scene_views(tmp_path / "patches" / "s", tmp_path / "views" / "s", "grey")
    assert len(out) == len(index)
    assert not (tmp_path / "views" / "s.tmp").exists()
    files = sorted(p.name for p in (tmp_path / "views" / "s").iterdir())
    assert files == sorted(f"{s}_{k}.png" for s, k in zip(index["scale"], index["k"]))
    for s, k in zip(index["scale"], index["k"]):
        with Image.open(tmp_path / "patches" / "s" / f"{s}_{k}.png") as p:
            rgba = np.asarray(p)
        with Image.open(tmp_path / "views" / "s" / f"{s}_{k}.png") as v:
            assert v.mode == "RGB"
            view = np.asarray(v)
        assert np.array_equal(view[rgba[..., 3] == 255], rgba[rgba[..., 3] == 255, :3])
        assert (view[rgba[..., 3] == 0] == 128).all()


# ---------------------------------------------------------------- JSONL

def _labels():
    return labels_from_ratings(_long(TIES), "nearest")


def test_records_and_round_trip(tmp_path):
    labels = _labels()
    recs = scene_records("sceneA", labels)
    assert recs[0] == {"id": "sceneA/fine_1", "image": "sceneA/fine_1.png",
                       "conversations": [{"from": "human", "value": "<image>\n" + QUESTION},
                                         {"from": "gpt", "value": "somewhat low"}]}
    write_jsonl(tmp_path / "a.jsonl", recs)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left
    rows = read_jsonl(tmp_path / "a.jsonl")
    assert [r.answer for r in rows] == list(labels["category"])
    assert [r.id for r in rows] == [f"sceneA/{s}_{k}" for s, k in zip(labels["scale"], labels["k"])]
    assert all(r.question == QUESTION for r in rows)
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == len(labels)


def test_bad_jsonl_names_file_and_line(tmp_path):
    recs = scene_records("sceneA", _labels())
    lines = [json.dumps(r) for r in recs]
    p = tmp_path / "bad.jsonl"
    p.write_text("\n".join(lines[:2] + ['{"id": "x", "image": '] + lines[2:]) + "\n")
    with pytest.raises(InputError, match=r"line 3: not valid JSON") as e:
        read_jsonl(p)
    assert str(p) in str(e.value)
    broken = dict(recs[1])
    del broken["image"]
    p.write_text("\n".join([lines[0], json.dumps(broken)] + lines[2:]) + "\n")
    with pytest.raises(InputError, match=r"line 2: missing key 'image'"):
        read_jsonl(p)
    wrong = json.loads(lines[0])
    wrong["conversations"][1]["value"] = "medium"
    p.write_text("\n".join(lines[:3] + [json.dumps(wrong)]) + "\n")
    with pytest.raises(InputError, match=r"line 4: .*medium"):
        read_jsonl(p)
    p.write_text("\n".join(lines[:2] + [lines[0]]) + "\n")
    with pytest.raises(InputError, match=r"line 3: id 'sceneA/fine_1' repeats line 1"):
        read_jsonl(p)


def test_missing_image_names_the_line(tmp_path):
    recs = scene_records("sceneA", _labels())
    root = tmp_path / "images"
    (root / "sceneA").mkdir(parents=True)
    for r in recs:
        Image.new("RGB", (4, 4)).save(root / r["image"])
    write_jsonl(tmp_path / "a.jsonl", recs)
    assert len(read_jsonl(tmp_path / "a.jsonl", image_root=root)) == len(recs)
    (root / recs[2]["image"]).unlink()
    with pytest.raises(InputError, match=r"line 3: image .*sceneA/fine_3\.png does not exist") as e:
        read_jsonl(tmp_path / "a.jsonl", image_root=root)
    assert e.value.path == str(tmp_path / "a.jsonl")


def test_concat_jsonl(tmp_path):
    labels = _labels()
    paths = []
    for s in ["s1", "s2"]:
        paths.append(tmp_path / f"{s}.jsonl")
        write_jsonl(paths[-1], scene_records(s, labels))
    n = concat_jsonl(paths, tmp_path / "train.jsonl")
    train = read_jsonl(tmp_path / "train.jsonl")
    assert n == len(train) == 2 * len(labels)
    assert [r.id.split("/")[0] for r in train] == ["s1"] * len(labels) + ["s2"] * len(labels)
    assert "conversations" in json.loads((tmp_path / "train.jsonl").read_text().splitlines()[-1])
    with pytest.raises(InputError, match="is also in"):  # a scene listed twice
        concat_jsonl([paths[0], paths[1], paths[0]], tmp_path / "twice.jsonl")
    assert not (tmp_path / "twice.jsonl").exists()
