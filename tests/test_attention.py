"""Attention maps: fixation counting and the antonioGaussian port, checked independently."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from meaningmaps.errors import InputError
from meaningmaps.maps.attention import (
    antonio_gaussian,
    antonio_gaussian_nowrap,
    attention_map,
    fixation_map,
    gaussian_transfer,
    padded_size,
)

HH17 = (Path(__file__).resolve().parents[2] / "shared" / "data" / "hh17"
        / "HendersonHayes17-NHB_eyetracking_data.mat")


# ----------------------------------------------------------------------------------------- fixation_map


def test_fixation_map_counts_repeats_and_rounds_half_away_from_zero():
    rows = [1, 2.5, 2.5, 3.4, 0.5, 4.49]
    cols = [1, 1.5, 2.0, 4.49, 1, 5]
    m = fixation_map(rows, cols, 4, 5)
    expected = np.zeros((4, 5))
    expected[0, 0] = 2  # (1, 1) and (0.5 -> 1, 1)
    expected[2, 1] = 2  # (2.5 -> 3, 1.5 -> 2) twice; banker's rounding would give [1, 1]/[1, 2]
    expected[2, 3] = 1  # (3.4 -> 3, 4.49 -> 4)
    expected[3, 4] = 1
    assert m.dtype == np.float64 and m.shape == (4, 5)
    np.testing.assert_array_equal(m, expected)


def test_fixation_map_weights():
    m = fixation_map([1, 0.5, 2.5, 2.5], [1, 1, 1.5, 2], 4, 5, weights=[10, 20, 30, 40.5])
    expected = np.zeros((4, 5))
    expected[0, 0] = 30
    expected[2, 1] = 70.5
    np.testing.assert_array_equal(m, expected)


@pytest.mark.parametrize("r,c", [(0.49, 1), (4.5, 1), (1, 0.2), (1, 5.5), (np.nan, 1)])
def test_fixation_map_rejects_off_image(r, c):
    # a negative index must not silently wrap to the far edge
    with pytest.raises(ValueError):
        fixation_map([1, r], [1, c], 4, 5)


def test_fixation_map_rejects_nan_weight():
    with pytest.raises(ValueError):
        fixation_map([1], [1], 4, 5, weights=[np.nan])


# ----------------------------------------------------------------------------------------- antonioGaussian


def spatial_kernel_1d(n: int, fc: float) -> np.ndarray:
    """The 1-D factor of the filter's n-point circular kernel, by an explicit inverse DFT sum.

    antonioGaussian's transfer function exp(-(fx^2 + fy^2) / s^2) is the product of
    exp(-fx^2 / s^2) and exp(-fy^2 / s^2), so its kernel is the outer product of two 1-D kernels
    k[x] = 1/n sum_f g(f) exp(2 pi i f x / n), f = -n/2 .. n/2 - 1.
    """
    s = fc / np.sqrt(np.log(2.0))
    f = np.arange(-n // 2, n // 2, dtype=np.float64)
    g = np.exp(-(f**2) / s**2)
    x = np.arange(n, dtype=np.float64)
    k = (np.exp(2j * np.pi * np.outer(x, f) / n) @ g) / n
    assert np.abs(k.imag).max() < 1e-12
    return k.real


def circular_convolution(img: np.ndarray, kernel: np.ndarray, n: int, r0: int = 0, c0: int = 0) -> np.ndarray:
    """Place img at (r0, c0) on the n x n torus, convolve explicitly (shifted kernels), crop back."""
    out = np.zeros((n, n))
    for (p, q), v in np.ndenumerate(img):
        if v:
            out += v * np.roll(kernel, (p + r0, q + c0), axis=(0, 1))
    h, w = img.shape
    return out[r0:r0 + h, c0:c0 + w]


def test_padded_size_and_transfer():
    assert padded_size(768, 1024) == 1024
    assert padded_size(12, 20) == 32
    assert padded_size(17, 3) == 32  # 17 -> 18 -> 32
    assert padded_size(64, 64) == 64
    g = gaussian_transfer(64, 6.0)
    assert g[0, 0] == 1.0  # DC gain 1 (fftshift puts fx = fy = 0 first)
    assert g[0, 6] == pytest.approx(0.5, abs=1e-12) and g[6, 0] == pytest.approx(0.5, abs=1e-12)  # -6 dB at fc
    assert g[0, -6] == pytest.approx(0.5, abs=1e-12)


def test_antonio_gaussian_equals_explicit_circular_convolution():
    rng = np.random.default_rng(0)
    img = rng.random((12, 20))
    for fc in (1.5, 3.0, 6.0):
        n = 32
        k1 = spatial_kernel_1d(n, fc)
        expected = circular_convolution(img, np.outer(k1, k1), n)
        got = antonio_gaussian(img, fc)
        assert got.shape == (12, 20) and got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
        # and the blur did something
        assert np.abs(got - img).max() > 0.05


def test_antonio_gaussian_nowrap_equals_explicit_padded_convolution():
    rng = np.random.default_rng(1)
    img = rng.random((12, 20))
    fc = 3.0
    n, n2 = 32, 64  # n2 = 2^ceil(log2(2 * 20))
    k1 = spatial_kernel_1d(n2, fc * n2 / n)
    expected = circular_convolution(img, np.outer(k1, k1), n2, r0=(n2 - 12) // 2, c0=(n2 - 20) // 2)
    np.testing.assert_allclose(antonio_gaussian_nowrap(img, fc), expected, rtol=0, atol=1e-10)


def test_nowrap_equals_the_2n_padding_with_doubled_width():
    """The padded variant seen in circulation (image at offset (n, n) of a 2n x 2n zero array,
    s = 2 fc / sqrt(ln 2), crop the image region) gives the same map: placement on the torus does
    not matter, only the padding and the kernel width do."""
    rng = np.random.default_rng(5)
    img = rng.random((24, 40))
    n = 64
    pad = np.zeros((2 * n, 2 * n))
    pad[n:n + 24, n:n + 40] = img
    f = np.arange(2 * n) - n
    fx, fy = np.meshgrid(f, f)
    s = 2 * 6.0 / np.sqrt(np.log(2))
    gf = np.fft.fftshift(np.exp(-(fx ** 2 + fy ** 2) / s ** 2))
    ref = np.real(np.fft.ifft2(np.fft.fft2(pad) * gf))[n:n + 24, n:n + 40]
    assert np.abs(antonio_gaussian_nowrap(img, 6.0) - ref).max() < 1e-12


def test_delta_near_corner_wraps_only_in_the_original():
    # 48 x 64 (proportions of 768 x 1024): n = 64, so columns have no padding and rows 16 rows
    img = np.zeros((48, 64))
    img[1, 1] = 1.0
    wrap = antonio_gaussian(img, 6.0)
    nowrap = antonio_gaussian_nowrap(img, 6.0)
    peak = wrap[1, 1]
    assert wrap[1, 63] > 0.3 * peak  # 2 columns away on the torus: re-enters at the right edge
    assert wrap[47, 1] < 1e-12 * peak  # the top's wrap lands in the cropped padding rows
    assert nowrap[1, 63] < 1e-12 * peak
    assert nowrap[47, 63] < 1e-12 * peak
    assert nowrap[1, 1] == pytest.approx(peak, rel=1e-9)  # same kernel away from the wrap
    # mass that wraps stays in the original's map and is lost without wrap
    assert wrap.sum() > nowrap.sum() + 0.1


def test_same_kernel_in_both_variants_far_from_edges():
    img = np.zeros((100, 100))
    img[50, 40] = 1.0
    np.testing.assert_allclose(antonio_gaussian_nowrap(img, 6.0), antonio_gaussian(img, 6.0), rtol=0, atol=1e-12)


def test_dc_preserved():
    rng = np.random.default_rng(2)
    img = np.zeros((40, 50))
    img[15:26, 20:31] = rng.random((11, 11))  # >= 14 px (7 sigma) from every edge
    for f in (antonio_gaussian, antonio_gaussian_nowrap):
        out = f(img, 6.0)
        assert out.sum() == pytest.approx(img.sum(), rel=1e-6)
        assert np.abs(out - img).max() > 0.05
    # an image that fills the torus keeps its sum exactly, edges included (gain 1 at DC)
    full = rng.random((64, 64))
    assert antonio_gaussian(full, 6.0).sum() == pytest.approx(full.sum(), rel=1e-12)


def test_larger_fc_narrower_blur_with_the_expected_width():
    # transfer exp(-f^2 / s^2), s = fc / sqrt(ln 2), f in cycles per n px  <=>
    # spatial Gaussian with sigma = n / (pi * sqrt(2) * s)
    n = 128
    img = np.zeros((n, n))
    img[64, 64] = 1.0
    widths = {}
    for fc in (4.0, 8.0):
        out = antonio_gaussian(img, fc)
        profile = out.sum(axis=1)
        x = np.arange(n) - 64
        widths[fc] = np.sqrt((profile * x**2).sum() / profile.sum())
        sigma = n / (np.pi * np.sqrt(2) * fc / np.sqrt(np.log(2)))
        assert widths[fc] == pytest.approx(sigma, rel=1e-6)
    assert widths[8.0] < 0.6 * widths[4.0]


# ----------------------------------------------------------------------------------------- attention_map


def scene_table(durations):
    return pd.DataFrame({"scene": "s", "row": [1.0, 10.0, 10.0, 20.5], "col": [1.0, 30.0, 30.0, 2.5],
                         "duration": durations, "subject": ["a", "a", "b", "b"]})


def test_attention_map_count_and_duration():
    t = scene_table([100.0, 200.0, 300.0, 50.0])
    m = attention_map(t, 24, 32)
    fm = fixation_map(t["row"], t["col"], 24, 32)
    assert fm.sum() == 4 and fm[9, 29] == 2
    np.testing.assert_array_equal(m, antonio_gaussian(fm, 6.0))
    np.testing.assert_array_equal(attention_map(t, 24, 32, fc=3.0, wrap=False), antonio_gaussian_nowrap(fm, 3.0))
    d = attention_map(t, 24, 32, weight="duration")
    fd = np.zeros((24, 32))
    fd[0, 0], fd[9, 29], fd[20, 2] = 100, 500, 50  # 20.5 -> 21, 2.5 -> 3
    np.testing.assert_allclose(d, antonio_gaussian(fd, 6.0), rtol=0, atol=1e-12)


def test_attention_map_duration_needs_durations():
    t = scene_table([100.0, np.nan, 300.0, 50.0])
    t.attrs["source"] = "fix.csv"
    attention_map(t, 24, 32)  # counts do not need durations
    with pytest.raises(InputError) as e:
        attention_map(t, 24, 32, weight="duration")
    assert "fix.csv" in str(e.value) and "1 of 4" in str(e.value) and e.value.fix


def test_attention_map_rejects_several_scenes_and_bad_weight():
    t = scene_table([1.0] * 4)
    t.loc[0, "scene"] = "other"
    with pytest.raises(ValueError, match="one scene"):
        attention_map(t, 24, 32)
    with pytest.raises(ValueError):
        attention_map(scene_table([1.0] * 4), 24, 32, weight="dwell")


def test_attention_map_empty_scene_is_zero():
    t = scene_table([1.0] * 4).iloc[:0]
    m = attention_map(t, 24, 32)
    assert m.shape == (24, 32) and not m.any()


# ----------------------------------------------------------------------------------------- real data


@pytest.mark.realdata
@pytest.mark.skipif(not HH17.is_file(), reason=f"{HH17} absent")
def test_hh17_attention_maps():
    from meaningmaps.data.fixations import check_fixations, load_fixations

    t = load_fixations(HH17)
    scenes = sorted(t["scene"].unique())
    assert len(scenes) == 40
    for scene in scenes:
        g, dropped = check_fixations(t, scene, 768, 1024)
        assert dropped == 0
        m = attention_map(g, 768, 1024)
        assert m.shape == (768, 1024) and m.dtype == np.float64
        assert np.isfinite(m).all()
        assert m.max() > m.min()
        # gain 1 at DC: only mass blurred into the 256 cropped padding rows is lost
        assert 0.9 * len(g) < m.sum() <= len(g) * (1 + 1e-9)
