"""The paper's own procedure (zhanshicu/meaning-map), selectable for replication: its patch grid,
its labels from meaning-map images and its map builder, each checked against a transcription of
the paper's code in tests/reference.py (not against our own output)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from meaningmaps.config import patch_specs, validate_config
from meaningmaps.errors import InputError
from meaningmaps.maps.meaning_map import map_from_ratings, paper_meaning_map
from meaningmaps.maps.patch_grid import PatchGrid, paper_specs
from meaningmaps.model.labels import labels_from_grey_map
from meaningmaps.model.prompting import CATEGORIES, paper_table_rating

from . import reference


def _ours_as_paper(grid: PatchGrid) -> list[dict]:
    """Our paper-grid patches in the paper's terms: 0-based centre (x, y), radius, bbox."""
    out = []
    for scale in ("fine", "coarse"):
        for p in grid.patches[scale]:
            out.append({"center": (p.cx - 1, p.cy - 1), "radius": p.diameter / 2,
                        "bbox": (p.col_min - 1, p.row_min - 1, p.col_max - 1, p.row_max - 1)})
    return out


def _check_grid(h: int, w: int, masks_every: int) -> None:
    ref = reference.paper_patches(np.zeros((h, w, 3), np.uint8), keep_images=False)
    grid = PatchGrid(h, w, paper_specs())
    ours = _ours_as_paper(grid)
    assert [(d["center"], d["radius"], d["bbox"]) for d in ours] == \
        [(r["center"], r["radius"], r["bbox"]) for r in ref]
    patches = grid.patches["fine"] + grid.patches["coarse"]
    for p, r in list(zip(patches, ref, strict=True))[::masks_every]:
        full = np.zeros((h, w), bool)
        full[p.rows, p.cols] = p.mask
        x, y = r["center"]
        want = np.hypot(*np.meshgrid(np.arange(w) - x, np.arange(h) - y)) <= r["radius"]
        assert np.array_equal(full, want), (p.scale, p.k)


@pytest.mark.slow
def test_paper_grid_is_the_papers_1945_patches_at_1024x768():
    """The paper's 1024 x 768 grid: radii 25 and 59 px, steps 22 and 53 px, 1,645 + 300 patches,
    every centre, radius and bounding box as dataset.ipynb makes them (masks sampled)."""
    grid = PatchGrid(768, 1024, paper_specs())
    assert {s: len(p) for s, p in grid.patches.items()} == {"fine": 1645, "coarse": 300}
    assert [p.cx - 1 for p in grid.patches["fine"][:3]] == [0, 22, 44]
    assert [p.cy - 1 for p in grid.patches["coarse"][::20][:3]] == [0, 53, 106]
    _check_grid(768, 1024, masks_every=97)


@pytest.mark.parametrize("h, w", [(120, 160), (97, 131)])
def test_paper_grid_small_scenes(h, w):
    _check_grid(h, w, masks_every=1)


def test_paper_labels_are_the_notebooks(tmp_path):
    """Labels from a grey map image: our rule against dataset.ipynb's patches + PIL 'L' + cuts,
    on a map whose grey levels hit every cut exactly and hold black holes."""
    rng = np.random.default_rng(3)
    h, w = 120, 160
    grey = rng.integers(0, 256, (h, w)).astype(np.uint8)
    grey[::7, ::5] = 0
    grey[:30, :40] = 0  # patches with no non-black pixel: mean 0, very low
    grey[60:70, 80:100] = np.array([42, 43, 84, 85, 126, 127, 168, 169, 210, 211], np.uint8).repeat(2)[None, :]
    ref = reference.paper_patch_scores(np.repeat(grey[..., None], 3, axis=2))
    ours = labels_from_grey_map(grey.astype(np.float32), PatchGrid(h, w, paper_specs()))
    assert len(ours) == len(ref)
    assert ours["mean_rating"].tolist() == [r[1] for r in ref]
    assert ours["category"].tolist() == [r[2] for r in ref]
    assert set(ours["category"]) == set(CATEGORIES)


def test_paper_label_cuts_at_the_edges():
    grid = PatchGrid(120, 160, paper_specs())
    for level, category in [(42, "very low"), (43, "low"), (84, "low"), (126, "somewhat low"),
                            (168, "somewhat high"), (210, "high"), (211, "very high")]:
        labels = labels_from_grey_map(np.full((120, 160), level, np.float32), grid)
        assert set(labels["category"]) == {category} == {reference.paper_mean_score_to_likert(level)}


def test_paper_labels_refuse_a_map_without_grey_levels():
    with pytest.raises(InputError, match="8-bit greyscale"):
        labels_from_grey_map(np.full((120, 160), 2.5), PatchGrid(120, 160, paper_specs()))


ANSWERS = ["very low", "Very low", "low", "Low", "somewhat low", "Somewhat low", "somewhat high",
           "Somewhat high", "high", "High", "very high", "Very high", "VERY HIGH", "high.", "", "I think high"]


def test_paper_table_is_generate_meaning_maps():
    assert [paper_table_rating(a) for a in ANSWERS] == [reference.paper_likert_to_numeric(a) for a in ANSWERS]
    assert paper_table_rating(float("nan")) == 0


@pytest.mark.parametrize("h, w", [(120, 160), (96, 128)])
def test_paper_builder_is_generate_meaning_maps(tmp_path, h, w):
    """Answers (junk and capitalised ones among them, which score 0 and still count) through our
    paper builder against generate_meaning_map.py on the same rows, to the float32 bit."""
    grid = PatchGrid(h, w, paper_specs())
    rng = np.random.default_rng(h)
    rows = []
    for scale in ("fine", "coarse"):
        for p in grid.patches[scale]:
            rows.append(dict(scale=scale, k=p.k, center_x=p.cx - 1, center_y=p.cy - 1, radius=int(p.diameter / 2),
                             bbox_x_min=p.col_min - 1, bbox_y_min=p.row_min - 1, bbox_x_max=p.col_max - 1,
                             bbox_y_max=p.row_max - 1, likert_label_predicted=ANSWERS[rng.integers(len(ANSWERS))]))
    frame = pd.DataFrame(rows)
    frame["rating"] = [paper_table_rating(a) for a in frame["likert_label_predicted"]]
    want = reference.paper_meaning_map(frame)
    got = paper_meaning_map(frame, grid, sigma=5.0, power=3.0)
    assert got.dtype == np.float32 and want.dtype == np.float32
    assert np.array_equal(got, want)
    csv = tmp_path / "r.csv"
    frame[["scale", "k", "rating"]].to_csv(csv, index=False)
    specs = paper_specs()
    assert np.array_equal(map_from_ratings(csv, (h, w), specs, 5.0, builder="paper", power=3.0,
                                           unparsable="zero"), want)
    with pytest.raises(InputError, match="outside 1-6"):  # a 0 is admitted only where answers may score 0
        map_from_ratings(csv, (h, w), specs, 5.0, builder="paper", power=3.0)
    assert not np.array_equal(reference.paper_meaning_map(frame, sigma=4), want)  # the sigma matters


def test_patch_specs_and_config_checks():
    assert patch_specs(validate_config({}))[0].grid == "toolkit"
    assert [s.degrees for s in patch_specs(validate_config({"patches": {"grid": "paper"}}))] == [3.0, 7.0]
    base = {"dataset": {"images": "i", "ratings": "r"}, "model": {"enabled": True}}
    with pytest.raises(InputError, match="patches no rater rated"):
        validate_config({**base, "patches": {"grid": "paper"}})
    with pytest.raises(InputError, match="grey levels"):
        validate_config({**base, "model": {"enabled": True, "labels": {"rule": "paper"}}})
    ok = {"dataset": {"images": "i", "maps": {"human": "m"}}, "patches": {"grid": "paper"},
          "model": {"enabled": True, "sources": ["base", "finetuned"], "labels": {"from": "human", "rule": "paper"}}}
    validate_config(ok)


def test_dropped_patches_leave_the_map_to_the_rest(tmp_path):
    """unparsable: drop: the ratings CSV lacks those patches; both builders make the map from the rest
    (the paper's: each pixel the mean of the rows covering it, as generate_meaning_map.py would with
    those rows absent)."""
    h, w = 120, 160
    grid = PatchGrid(h, w, paper_specs())
    rng = np.random.default_rng(1)
    rows = [dict(scale=s, k=p.k, rating=int(rng.integers(1, 7)), center_x=p.cx - 1, center_y=p.cy - 1,
                 radius=int(p.diameter / 2), bbox_x_min=p.col_min - 1, bbox_y_min=p.row_min - 1,
                 bbox_x_max=p.col_max - 1, bbox_y_max=p.row_max - 1)
            for s in ("fine", "coarse") for p in grid.patches[s]]
    frame = pd.DataFrame(rows)
    kept = frame[frame["k"] % 5 != 0].reset_index(drop=True)
    csv = tmp_path / "r.csv"
    kept[["scale", "k", "rating"]].to_csv(csv, index=False)
    with pytest.raises(InputError, match="do not cover"):
        map_from_ratings(csv, (h, w), paper_specs(), 5.0, builder="paper")
    got = map_from_ratings(csv, (h, w), paper_specs(), 5.0, builder="paper", unparsable="drop")
    want = reference.paper_meaning_map(kept.assign(likert_label_predicted=[
        ["very low", "low", "somewhat low", "somewhat high", "high", "very high"][r - 1] for r in kept["rating"]]))
    assert np.array_equal(got, want)
