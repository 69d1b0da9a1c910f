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
    empirical_center_from_pool,
    empirical_center_map,
    fixated_pixels,
    load_pool,
    others_from_pool,
    pool_note,
    pool_other_scenes,
    pooled_fixation_maps,
    rescale_fixations,
    save_pool,
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


# The pools (rule fixation_pool): every scene's fixations on one image size, minus the scene's own.

def _whole_ms(tables):
    return {s: t.assign(duration=np.round(t["duration"])) for s, t in tables.items()}


def test_pool_minus_own_is_the_leave_one_out_map_bit_for_bit(tmp_path):
    """Counts (and durations in whole ms) are exact in float64: the map from the pool equals the map
    from the other scenes' tables, to the last bit, with scenes of other sizes rescaled onto it."""
    sizes = {"a": (30, 40), "b": (30, 40), "c": (60, 80), "d": (30, 40)}
    tables = _whole_ms(_study(sizes))
    for weight in ("count", "duration"):
        pool = pooled_fixation_maps(tables, sizes, (30, 40), weight=weight)
        save_pool(tmp_path / "p.npz", pool)
        back = load_pool(tmp_path / "p.npz")
        assert back["rescaled"] == ["c"] and back["n_scenes"] == 4 and back["n_fixations"] == 160
        for scene in ("a", "b", "d"):
            expected = empirical_center_map(tables, sizes, scene, fc=6, weight=weight, wrap=True)
            got = empirical_center_from_pool(back, tables[scene], scene, fc=6, weight=weight, wrap=True)
            np.testing.assert_array_equal(got, expected)
            other = fixated_pixels(pool_other_scenes(tables, sizes, scene), 30, 40)
            np.testing.assert_array_equal((others_from_pool(back, tables[scene], scene) > 0).astype(float), other)
        assert "1 other scene(s) of another size" in pool_note(back, (30, 40))


def test_pool_with_fractional_durations_is_within_rounding():
    sizes = {"a": (30, 40), "b": (30, 40), "c": (30, 40)}
    tables = _study(sizes)  # durations with fractions: sums in another order round differently
    pool = pooled_fixation_maps(tables, sizes, (30, 40), weight="duration")
    expected = empirical_center_map(tables, sizes, "b", weight="duration")
    got = empirical_center_from_pool(pool, tables["b"], "b", weight="duration")
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def test_pool_of_a_one_scene_study_has_no_other_scenes():
    sizes = {"a": (30, 40)}
    tables = _study(sizes)
    with pytest.raises(InputError, match="no other scene.*center_empirical: false"):
        others_from_pool(pooled_fixation_maps(tables, sizes, (30, 40)), tables["a"], "a")


def test_scene_tables_from_one_read_equal_per_scene_reads(tmp_path):
    """Rule fixation_tables' folder: each scene's table equals scene_fixations of that scene (which
    reads the whole file), with the 0-based origin, number selection and dropping applied."""
    from meaningmaps.data.fixation_tables import read_scene_tables, write_scene_tables
    from meaningmaps.data.fixations import scene_fixations

    sizes = {"k1": (30, 40), "k2": (30, 40), "k3": (20, 20)}
    rows = []
    for i, (scene, (h, w)) in enumerate(sizes.items()):
        t = _table(scene, 25, h, w, seed=i)
        rows.append(t.assign(x=t["col"] - 1, y=t["row"] - 1, fix_index=np.arange(25) + 1))
    rows[2].loc[3, "x"] = 500  # off the image: dropped
    path = tmp_path / "fix.csv"
    pd.concat(rows)[["scene", "subject", "x", "y", "duration", "fix_index"]].to_csv(path, index=False)
    settings = {"origin": 0, "numbers": {"min": 2, "max": None}}
    summary = write_scene_tables(tmp_path / "tables", path, sizes, outside="drop", settings=settings)
    assert "1 (1.4%) dropped" in summary and "k3 1" in summary
    got = read_scene_tables(tmp_path / "tables", list(sizes))
    for scene, (h, w) in sizes.items():
        want, _ = scene_fixations(path, scene, h, w, outside="drop", settings=settings)
        back = tmp_path / f"{scene}.csv"
        save_fixation_table(back, want)
        pd.testing.assert_frame_equal(got[scene], read_fixation_table(back), check_exact=True)
