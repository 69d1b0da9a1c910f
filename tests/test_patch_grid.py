"""The toolkit's patch grid: spacing, offsets, MATLAB rounding, numbering, masks, patch images."""

import numpy as np
import pytest

from meaningmaps.maps.patch_grid import PatchGrid, ScaleSpec, cut_patch, grid_centres, make_patches
from meaningmaps.matlab import matlab_round

TOOLKIT = [ScaleSpec("fine", 300, 87), ScaleSpec("coarse", 108, 205)]


def test_matlab_round_is_half_away_from_zero():
    assert list(matlab_round([0.5, 1.5, 2.5, -0.5, -2.5, 2.4999])) == [1, 2, 3, -1, -3, 2]


def test_default_grid_for_1024x768():
    rows, cols, px = grid_centres(768, 1024, 300)
    assert px == 51 and len(rows) == 15 and len(cols) == 20
    # y_off = 51 - ((768-765)+51)/2 = 24; x_off = 51 - ((1024-1020)+51)/2 = 23.5
    assert list(rows[:3]) == [27, 78, 129]
    # 27.5 -> 28 and 78.5 -> 79 (Python's round would give 28 and 78)
    assert list(cols[:3]) == [28, 79, 130]
    rows, cols, px = grid_centres(768, 1024, 108)
    assert px == 85 and len(rows) == 9 and len(cols) == 12
    assert rows[0] == 44 and cols[0] == 45 and rows[-1] == 724 and cols[-1] == 980


def test_counts_and_row_major_numbering():
    g = PatchGrid(768, 1024, TOOLKIT)
    assert len(g.patches["fine"]) == 300 and len(g.patches["coarse"]) == 108
    assert 40 * (len(g.patches["fine"]) + len(g.patches["coarse"])) == 16320
    fine = g.patches["fine"]
    assert [p.k for p in fine] == list(range(1, 301))
    assert fine[0].cy == fine[19].cy and fine[1].cx > fine[0].cx and fine[20].cy > fine[19].cy


def brute_force_mask(h, w, cy, cx, d):
    r = np.arange(1, h + 1)[:, None]
    c = np.arange(1, w + 1)[None, :]
    return (r - cy) ** 2 + (c - cx) ** 2 < (d / 2) ** 2


@pytest.mark.parametrize("h,w,n,d", [(90, 120, 12, 31), (97, 61, 7, 40.0), (768, 1024, 108, 205)])
def test_bbox_masks_equal_full_frame_masks(h, w, n, d):
    g = PatchGrid(h, w, [ScaleSpec("fine", n, d)])
    for p in g.patches["fine"]:
        full = brute_force_mask(h, w, p.cy, p.cx, d)
        assert np.array_equal(g.full_mask("fine", p.k), full)
        rr, cc = np.nonzero(full)
        assert (p.row_min, p.row_max, p.col_min, p.col_max) == (rr.min() + 1, rr.max() + 1, cc.min() + 1, cc.max() + 1)


def test_mask_inequality_is_strict():
    (p,) = make_patches(9, 9, ScaleSpec("fine", 1, 4))  # one patch, radius 2, centre (5, 5)
    assert (p.cy, p.cx) == (5, 5)
    full = np.zeros((9, 9), bool)
    full[p.rows, p.cols] = p.mask
    assert not full[5 + 2 - 1, 5 - 1]  # exactly at distance 2: outside
    assert full[5 + 1 - 1, 5 + 1 - 1]  # distance sqrt(2): inside
    assert full.sum() == 9  # |dr|,|dc| <= 1 only (distance sqrt(5) > 2 excluded too)


def test_patch_image_rgba():
    rng = np.random.default_rng(0)
    img = rng.integers(1, 256, (60, 80, 3), dtype=np.uint8)
    g = PatchGrid(60, 80, [ScaleSpec("fine", 6, 25)])
    p = g.patches["fine"][3]
    rgba = cut_patch(img, p)
    assert rgba.shape == (p.row_max - p.row_min + 1, p.col_max - p.col_min + 1, 4)
    inside = p.mask
    assert (rgba[~inside] == 0).all()
    assert (rgba[inside, 3] == 255).all()
    assert np.array_equal(rgba[inside, :3], img[p.rows, p.cols][inside])


def test_grid_matches_real_rating_matrix_coverage(smm_dir):
    """The toolkit's own rating matrix says how many patches cover each pixel: ours must agree."""
    from meaningmaps.data.rating_matrix import load_rating_matrix

    layers = load_rating_matrix(smm_dir / "rating_matrices" / "after_IMG_0213.mat")
    g = PatchGrid(768, 1024, TOOLKIT)
    lengths = sorted((layer.lengths for layer in layers), key=lambda a: a.max())
    assert np.array_equal(lengths[0], 3 * g.coverage("fine"))
    assert np.array_equal(lengths[1], 3 * g.coverage("coarse"))
