"""Rating matrices: layer detection, exact per-patch recovery, the toolkit's map, bad input."""

import numpy as np
import pandas as pd
import pytest
import scipy.io

from meaningmaps.data.human_ratings import human_ratings
from meaningmaps.data.rating_matrix import assign_scales, build_rating_matrix, load_rating_matrix, save_rating_matrix
from meaningmaps.errors import InputError
from meaningmaps.maps.meaning_map import meaning_map, unsmoothed_map
from meaningmaps.maps.patch_grid import PatchGrid, ScaleSpec
from meaningmaps.maps.smoothing import imgaussfilt

from .reference import matrix_meaning_map, rebuilds_exactly

SPECS = [ScaleSpec("fine", 30, 25), ScaleSpec("coarse", 10, 45)]


@pytest.fixture
def small(tmp_path):
    grid = PatchGrid(48, 64, SPECS)
    assert all((grid.coverage(s) > 0).all() for s in grid.patches)
    rng = np.random.default_rng(3)
    truth = {s: [rng.integers(1, 7, 3).astype(float) for _ in grid.patches[s]] for s in grid.patches}
    path = tmp_path / "scene.mat"
    save_rating_matrix(path, build_rating_matrix(grid, truth))
    return grid, truth, path


def test_layers_detected_whatever_their_order(small, tmp_path):
    grid, truth, path = small
    flipped = tmp_path / "flipped.mat"
    save_rating_matrix(flipped, build_rating_matrix(grid, truth, layer_order=("fine", "coarse")))
    for p in (path, flipped):
        by = assign_scales(load_rating_matrix(p), grid, p)
        assert np.array_equal(by["fine"].lengths, 3 * grid.coverage("fine"))
        assert np.array_equal(by["coarse"].lengths, 3 * grid.coverage("coarse"))


def test_recovery_is_exact_and_rebuilds(small):
    grid, truth, path = small
    frame = human_ratings(path, "scene", grid)
    for s in grid.patches:
        for k, vals in enumerate(truth[s], start=1):
            got = frame[(frame.scale == s) & (frame.k == k)]["rating"].to_numpy()
            assert np.array_equal(np.sort(got), np.sort(vals))
    layers = assign_scales(load_rating_matrix(path), grid, path)
    assert rebuilds_exactly(frame, layers, grid)
    broken = frame.copy()
    broken.loc[0, "rating"] = 7 - broken.loc[0, "rating"] if broken.loc[0, "rating"] != 3.5 else 1
    assert not rebuilds_exactly(broken, layers, grid)


def test_map_from_patches_equals_map_from_matrix(small):
    grid, truth, path = small
    frame = human_ratings(path, "scene", grid)
    by = assign_scales(load_rating_matrix(path), grid, path)
    direct = imgaussfilt(matrix_meaning_map(by), 4)
    assert np.abs(meaning_map(frame, grid, 4) - direct).max() < 1e-12


def test_map_builder_by_hand():
    """Three fine patches on a strip: where they overlap, a pixel takes the pooled mean."""
    grid = PatchGrid(4, 12, [ScaleSpec("fine", 3, 7), ScaleSpec("coarse", 3, 30)])
    assert [p.cx for p in grid.patches["fine"]] == [2, 6, 10]
    frame = pd.DataFrame({"scale": ["fine"] * 4 + ["coarse"] * 3, "k": [1, 1, 2, 3, 1, 2, 3],
                          "rating": [2.0, 4.0, 6.0, 5.0, 1.0, 1.0, 1.0]})
    m = unsmoothed_map(frame, grid)
    lists = {1: [2.0, 4.0], 2: [6.0], 3: [5.0]}
    for row in range(4):
        for col in range(12):
            vals = [v for k in (1, 2, 3) if grid.full_mask("fine", k)[row, col] for v in lists[k]]
            assert m[row, col] == pytest.approx((np.mean(vals) + 1.0) / 2)
    assert m[1, 3] == pytest.approx(((2 + 4 + 6) / 3 + 1) / 2)  # covered by patches 1 and 2


def test_out_of_range_ratings_fail(tmp_path, small):
    grid, truth, _ = small
    bad = {s: [v.copy() for v in truth[s]] for s in truth}
    bad["fine"][0][0] = 7
    path = tmp_path / "bad.mat"
    save_rating_matrix(path, build_rating_matrix(grid, bad))
    with pytest.raises(InputError, match=r"bad.mat.*outside 1-6"):
        load_rating_matrix(path)
    bad["fine"][0][0] = 2.5  # the toolkit's Likert check refuses non-integers too
    save_rating_matrix(path, build_rating_matrix(grid, bad))
    with pytest.raises(InputError, match=r"bad.mat.*not whole numbers"):
        load_rating_matrix(path)


def test_size_mismatch_fails(small):
    _, _, path = small
    other = PatchGrid(50, 64, SPECS)
    with pytest.raises(InputError, match=r"scene.mat.*64x48.*64x50"):
        human_ratings(path, "scene", other)


def test_wrong_grid_fails(small):
    grid, _, path = small
    wrong = PatchGrid(48, 64, [ScaleSpec("fine", 30, 23), ScaleSpec("coarse", 10, 45)])
    with pytest.raises(InputError, match="match"):
        human_ratings(path, "scene", wrong)


def test_not_a_rating_matrix(tmp_path):
    path = tmp_path / "x.mat"
    scipy.io.savemat(path, {"something": np.zeros(3)})
    with pytest.raises(InputError, match=r"x.mat.*no variable 'rating_matrix'"):
        load_rating_matrix(path)
    junk = tmp_path / "junk.mat"
    junk.write_bytes(b"not a mat file at all")
    with pytest.raises(InputError, match="junk.mat"):
        load_rating_matrix(junk)


def test_ratings_csv_checked(tmp_path):
    grid = PatchGrid(48, 64, SPECS)
    rows = [(s, p.k, 3.0) for s in grid.patches for p in grid.patches[s]]
    frame = pd.DataFrame(rows, columns=["scale", "k", "rating"])
    ok = tmp_path / "ok.csv"
    frame.to_csv(ok, index=False)
    assert len(human_ratings(ok, "ok", grid)) == len(rows)
    frame.iloc[:-1].to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(InputError, match=r"short.csv.*coarse ratings do not cover"):
        human_ratings(tmp_path / "short.csv", "short", grid)
    frame.assign(rating=frame.rating.where(frame.index != 3, 0.5)).to_csv(tmp_path / "low.csv", index=False)
    with pytest.raises(InputError, match=r"low.csv.*outside 1-6"):
        human_ratings(tmp_path / "low.csv", "low", grid)
