"""Tests for meaningmaps.evaluation.metrics against scipy, hand computations and independent formulas."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from meaningmaps.evaluation import metrics
from meaningmaps.maps.center_bias import center_bias_map

from .reference import semipartial_r

# ---------------------------------------------------------------- pearson_r


def test_pearson_matches_scipy_on_random_maps():
    rng = np.random.default_rng(1)
    for _ in range(5):
        a = rng.normal(size=(37, 53))
        b = 0.4 * a + rng.normal(size=(37, 53)) + 5.0
        assert metrics.pearson_r(a, b) == pytest.approx(stats.pearsonr(a.ravel(), b.ravel())[0], abs=1e-13)


def test_pearson_hand_computed():
    # a = [1, 2, 3], b = [1, 3, 2]: centred (-1, 0, 1), (-1, 1, 0); r = 1 / sqrt(2 * 2) = 0.5
    a = np.array([[1.0, 2.0, 3.0]])
    b = np.array([[1.0, 3.0, 2.0]])
    assert metrics.pearson_r(a, b) == pytest.approx(0.5, abs=1e-15)
    assert metrics.pearson_r(a, b) ** 2 == pytest.approx(0.25, abs=1e-15)
    assert metrics.pearson_r(a, -a) == pytest.approx(-1.0, abs=1e-15)


def test_pearson_uses_float64():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(20, 20)).astype(np.float32)
    b = (a + rng.normal(size=(20, 20))).astype(np.float32)
    expected = stats.pearsonr(a.ravel().astype(np.float64), b.ravel().astype(np.float64))[0]
    assert metrics.pearson_r(a, b) == pytest.approx(expected, abs=1e-13)


def test_pearson_errors():
    a = np.arange(12.0).reshape(3, 4)
    with pytest.raises(ValueError, match="constant"):
        metrics.pearson_r(a, np.full((3, 4), 2.0))
    with pytest.raises(ValueError, match="constant"):
        metrics.pearson_r(np.zeros((3, 4)), a)
    nan = a.copy()
    nan[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        metrics.pearson_r(a, nan)
    with pytest.raises(ValueError, match="shape"):
        metrics.pearson_r(a, a.reshape(4, 3))


# ---------------------------------------------------------------- semipartial


def _synthetic(seed=3, n=4000):
    rng = np.random.default_rng(seed)
    c = rng.normal(size=n)
    x = 0.6 * c + 0.8 * rng.normal(size=n)  # corr(x, c) ~ 0.6
    y = x + c + rng.normal(size=n)
    return y, x, c


def _sr2_polyfit(y, x, c):
    """Independent route: residualise x on c with polyfit, correlate with y, square."""
    slope, intercept = np.polyfit(c, x, 1)
    resid = x - (slope * c + intercept)
    return np.corrcoef(y, resid)[0, 1] ** 2


def test_semipartial_r2_matches_independent_computation():
    y, x, c = _synthetic()
    sr2 = metrics.semipartial_r2(y, x, c)
    assert sr2 == pytest.approx(_sr2_polyfit(y, x, c), abs=1e-10)
    assert 0.05 < sr2 < 0.5  # x carries real unique variance here
    # also the textbook formula from the three pairwise correlations
    ryx, ryc, rxc = (np.corrcoef(u, v)[0, 1] for u, v in ((y, x), (y, c), (x, c)))
    assert sr2 == pytest.approx((ryx - ryc * rxc) ** 2 / (1 - rxc**2), abs=1e-10)


def test_semipartial_r_squared_equals_r2_and_is_signed():
    y, x, c = _synthetic(seed=4)
    sr = semipartial_r(y, x, c)
    assert sr > 0
    assert sr**2 == pytest.approx(metrics.semipartial_r2(y, x, c), abs=1e-12)
    assert semipartial_r(-y, x, c) == pytest.approx(-sr, abs=1e-14)


def test_semipartial_accepts_maps():
    y, x, c = _synthetic(seed=5, n=40 * 50)
    shape = (40, 50)
    sr2 = metrics.semipartial_r2(y.reshape(shape), x.reshape(shape), c.reshape(shape))
    assert sr2 == pytest.approx(_sr2_polyfit(y, x, c), abs=1e-10)


def test_semipartial_zero_when_x_is_linear_in_control():
    y, _, c = _synthetic(seed=6)
    x = 2.5 * c - 7.0
    assert metrics.semipartial_r2(y, x, c) == 0.0
    assert semipartial_r(y, x, c) == 0.0


def test_semipartial_bounds():
    rng = np.random.default_rng(7)
    for seed in range(10):
        y, x, c = _synthetic(seed=seed, n=500)
        x = x + rng.normal(scale=seed / 5.0, size=x.size)
        sr2 = metrics.semipartial_r2(y, x, c)
        assert 0.0 <= sr2 <= metrics.pearson_r(x, y) ** 2 + 1e-12


def test_semipartial_errors():
    y, x, c = _synthetic(n=100)
    with pytest.raises(ValueError, match="shape"):
        metrics.semipartial_r2(y, x, c[:-1])
    with pytest.raises(ValueError, match="constant"):
        metrics.semipartial_r2(y, x, np.ones_like(c))
    x = x.copy()
    x[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        metrics.semipartial_r2(y, x, c)


# ---------------------------------------------------------------- centre bias


def test_center_bias_map_geometry():
    m = center_bias_map(5, 7, 0.2)
    assert m.dtype == np.float64 and m.shape == (5, 7)
    assert m[2, 3] == 1.0 and m.max() == 1.0
    sigma = 0.2 * 7
    assert m[0, 0] == pytest.approx(np.exp(-(2**2 + 3**2) / (2 * sigma**2)), rel=1e-15)
    np.testing.assert_allclose(m, m[::-1, ::-1], rtol=0, atol=0)  # symmetric about the centre
    even = center_bias_map(4, 6, 0.25)
    assert even.max() == 1.0
    np.testing.assert_array_equal(even, even[::-1, ::-1])
    assert np.unravel_index(np.argmax(even), even.shape) in {(1, 2), (1, 3), (2, 2), (2, 3)}
    with pytest.raises(ValueError):
        center_bias_map(0, 5, 0.2)
    with pytest.raises(ValueError):
        center_bias_map(5, 5, 0.0)


# ---------------------------------------------------------------- bootstrap


def test_bootstrap_covers_true_mean_and_is_deterministic():
    rng = np.random.default_rng(8)
    values = rng.normal(loc=0.3, scale=0.1, size=60)
    mean, lo, hi = metrics.bootstrap_mean_ci(values, n_boot=5000, seed=11)
    assert mean == pytest.approx(values.mean(), abs=1e-15)
    assert lo < 0.3 < hi
    assert lo < mean < hi
    # width close to the normal-theory interval 2 * 1.96 * s / sqrt(n)
    expected = 2 * 1.96 * values.std(ddof=1) / np.sqrt(values.size)
    assert (hi - lo) == pytest.approx(expected, rel=0.1)
    assert metrics.bootstrap_mean_ci(values, n_boot=5000, seed=11) == (mean, lo, hi)
    assert metrics.bootstrap_mean_ci(values, n_boot=5000, seed=12) != (mean, lo, hi)


def test_bootstrap_narrows_with_more_scenes():
    rng = np.random.default_rng(9)
    big = rng.normal(size=400)
    _, lo_small, hi_small = metrics.bootstrap_mean_ci(big[:25], n_boot=3000)
    _, lo_big, hi_big = metrics.bootstrap_mean_ci(big, n_boot=3000)
    assert (hi_big - lo_big) < 0.5 * (hi_small - lo_small)


def test_bootstrap_edge_cases():
    mean, lo, hi = metrics.bootstrap_mean_ci([0.4])
    assert mean == 0.4 and np.isnan(lo) and np.isnan(hi)
    with pytest.raises(ValueError):
        metrics.bootstrap_mean_ci([])
    with pytest.raises(ValueError, match="NaN"):
        metrics.bootstrap_mean_ci([0.1, np.nan])


# ---------------------------------------------------------------- paired tests


def test_paired_tests_match_scipy_and_sign():
    rng = np.random.default_rng(10)
    a = rng.normal(0.5, 0.1, size=30)
    b = a - 0.05 + rng.normal(0, 0.05, size=30)
    res = metrics.paired_tests(a, b, n_boot=2000, seed=3)
    ref_t = stats.ttest_rel(a, b)
    ref_w = stats.wilcoxon(a, b)
    assert res["n"] == 30
    assert res["mean_diff"] == pytest.approx(np.mean(a - b), abs=1e-15)
    assert res["mean_diff"] > 0
    assert res["t"] == pytest.approx(ref_t.statistic, rel=1e-12)
    assert res["p_t"] == pytest.approx(ref_t.pvalue, rel=1e-12)
    assert res["w"] == pytest.approx(ref_w.statistic, rel=1e-12)
    assert res["p_wilcoxon"] == pytest.approx(ref_w.pvalue, rel=1e-12)
    assert res["diff_ci_low"] < res["mean_diff"] < res["diff_ci_high"]
    flipped = metrics.paired_tests(b, a, n_boot=2000, seed=3)
    assert flipped["mean_diff"] == pytest.approx(-res["mean_diff"], abs=1e-15)
    assert flipped["t"] == pytest.approx(-res["t"], rel=1e-12)
    assert flipped["p_t"] == pytest.approx(res["p_t"], rel=1e-12)


def test_paired_tests_degenerate():
    res = metrics.paired_tests([0.2], [0.1])
    assert res["n"] == 1 and res["mean_diff"] == pytest.approx(0.1)
    assert all(np.isnan(res[k]) for k in ("t", "p_t", "w", "p_wilcoxon"))
    same = metrics.paired_tests([0.1, 0.2, 0.3], [0.1, 0.2, 0.3])
    assert same["mean_diff"] == 0.0
    assert np.isnan(same["w"]) and np.isnan(same["p_wilcoxon"])
    with pytest.raises(ValueError, match="shape"):
        metrics.paired_tests([0.1, 0.2], [0.1, 0.2, 0.3])


# ---------------------------------------------------------------- Holm, seeds


def test_holm_by_hand_and_nan():
    # sorted .01 .03 .04 .2 (m = 4): 4 x .01 = .04; 3 x .03 = .09; 2 x .04 = .08 -> .09 (monotone);
    # 1 x .2 = .2. NaN (an undefined test) is outside the family.
    out = metrics.holm([0.01, 0.04, 0.03, np.nan, 0.2])
    np.testing.assert_allclose(out[[0, 1, 2, 4]], [0.04, 0.09, 0.09, 0.2], rtol=0, atol=1e-15)
    assert np.isnan(out[3])
    assert metrics.holm([0.5, 0.9]).tolist() == [1.0, 1.0]  # capped at 1
    assert np.isnan(metrics.holm([np.nan])).all()
    with pytest.raises(ValueError):
        metrics.holm([1.5])


def test_scene_seed_depends_on_scene_not_study():
    assert metrics.scene_seed(0, "a") == metrics.scene_seed(0, "a") != metrics.scene_seed(0, "b")
    assert metrics.scene_seed(-1, "a")[0] >= 0
    np.random.default_rng(metrics.scene_seed(-5, "kitchen"))
