"""The other scenes' fixations (meaningmaps.maps.empirical_center) and the per-scene fixation tables
(meaningmaps.data.fixation_tables): leave one scene out, rescaling, fixated pixels, exact round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from meaningmaps.data.fixation_tables import read_fixation_table, save_fixation_table
from meaningmaps.errors import InputError
from meaningmaps.maps.attention import attention_map
from meaningmaps.maps.empirical_center import (
    empirical_center_map,
    fixated_pixels,
    pool_other_scenes,
    rescale_fixations,
    size_note,
)


def _table(scene, n, h, w, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"scene": scene, "row": rng.uniform(0.5, h + 0.49, n), "col": rng.uniform(0.5, w + 0.49, n),
                         "duration": rng.uniform(100, 400, n), "subject": rng.choice(["1", "2", "3"], n)})


def _study(sizes):
    return {s: _table(s, 40, *size, seed=i) for i, (s, size) in enumerate(sizes.items())}


def test_fixated_pixels_rounds_like_matlab_and_counts_once():
    fix = pd.DataFrame({"row": [2.5, 2.5, 1.0, 3.49], "col": [1.5, 1.5, 4.0, 0.5]})
    m = fixated_pixels(fix, 4, 5)
    # MATLAB round: 2.5 -> 3, 1.5 -> 2 (half away from zero); 0-based [2, 1], [0, 3], [2, 0]
    expected = np.zeros((4, 5))
    expected[2, 1] = expected[0, 3] = expected[2, 0] = 1
    np.testing.assert_array_equal(m, expected)


def test_empirical_center_is_the_attention_map_of_the_other_scenes():
    sizes = {"a": (30, 40), "b": (30, 40), "c": (30, 40)}
    tables = _study(sizes)
    for weight in ("count", "duration"):
        m = empirical_center_map(tables, sizes, "b", fc=6, weight=weight, wrap=True)
        pooled = pd.concat([tables["a"], tables["c"]], ignore_index=True).drop(columns="scene")
        np.testing.assert_array_equal(m, attention_map(pooled, 30, 40, fc=6, weight=weight))
    pooled = pool_other_scenes(tables, sizes, "a")
    assert len(pooled) == 80 and "scene" not in pooled.columns
    assert size_note(sizes, "a") is None


def test_other_sizes_are_rescaled_edge_to_edge():
    fix = pd.DataFrame({"row": [0.5, 10.5, 20.4999], "col": [0.5, 20.5, 40.4999]})
    out = rescale_fixations(fix, (20, 40), (40, 80))
    np.testing.assert_allclose(out["row"], [0.5, 20.5, 40.4998], rtol=0, atol=1e-12)
    np.testing.assert_allclose(out["col"], [0.5, 40.5, 80.4998], rtol=0, atol=1e-12)
    assert rescale_fixations(fix, (20, 40), (20, 40)) is fix
    edge = rescale_fixations(pd.DataFrame({"row": [3.4999999999999996], "col": [1.0]}), (3, 1), (7, 1))
    assert fixated_pixels(edge, 7, 1)[6, 0] == 1  # never rounds off the image
    sizes = {"a": (30, 40), "b": (60, 80)}
    assert "1 other scene(s) of another size" in size_note(sizes, "a")
    m = empirical_center_map(_study(sizes), sizes, "a")
    assert m.shape == (30, 40)


def test_a_study_of_one_scene_has_no_other_scenes():
    sizes = {"a": (30, 40)}
    with pytest.raises(InputError, match="no other scene.*center_empirical: false"):
        pool_other_scenes(_study(sizes), sizes, "a")


def test_fixation_table_round_trip_is_exact(tmp_path):
    table = _table("scene_01", 500, 768, 1024, seed=9)
    table.loc[3, "duration"] = np.nan
    table["subject"] = ["031"] * 250 + ["113"] * 250
    save_fixation_table(tmp_path / "t.csv", table)
    back = read_fixation_table(tmp_path / "t.csv")
    pd.testing.assert_frame_equal(back, table, check_dtype=False)
    assert back["subject"].iloc[0] == "031" and back.attrs["source"] == str(tmp_path / "t.csv")
    np.testing.assert_array_equal(attention_map(back, 768, 1024), attention_map(table, 768, 1024))
    (tmp_path / "bad.csv").write_text("scene,x\n")
    with pytest.raises(InputError, match="lacks column"):
        read_fixation_table(tmp_path / "bad.csv")
