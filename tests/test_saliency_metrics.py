"""The saliency benchmark's metrics (meaningmaps.evaluation.saliency_metrics) on hand-checkable maps, against
line-by-line ports of the MATLAB loops, and on the edge cases where MATLAB returns NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest

from meaningmaps.evaluation import metrics
from meaningmaps.evaluation import saliency_metrics as sm

EPS = 2.220446049250313e-16
TOL = 1e-12  # the hand values below are exact to rounding; Octave comparisons use 1e-9


# ------------------------------------------------------------------ hand-checkable examples


def test_eps_is_matlab_eps():
    assert sm.EPS == EPS == np.finfo(np.float64).eps
    assert metrics.EPS == EPS and metrics.cc is sm.cc  # re-exported


def test_cc_hand():
    # values 1..4 vs 1,3,2,4 (row-major). Centred: (-1.5, -.5, .5, 1.5) and (-1.5, .5, -.5, 1.5).
    # sum(ab) = 2.25 - .25 - .25 + 2.25 = 4; sum(a^2) = sum(b^2) = 5; r = 4 / 5 = 0.8
    # (z-scoring first does not change r).
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[1.0, 3.0], [2.0, 4.0]])
    assert sm.cc(a, b) == pytest.approx(0.8, abs=TOL)
    assert sm.cc(b, a) == pytest.approx(0.8, abs=TOL)
    assert sm.cc(a, -a) == pytest.approx(-1.0, abs=TOL)


def test_nss_hand_counts_each_fixated_pixel_once():
    # map 1..4: mean 2.5, sample sd sqrt(5/3) (population sd would be sqrt(5/4)).
    # Fixated pixels: the 3 (once) and the 4 (twice, count 2): NSS = mean(0.5, 1.5) / sqrt(5/3)
    # = 1 / sqrt(5/3) = sqrt(3/5) = 0.7745966692414834. Counting the 4 twice would give 1.1667 / sd.
    s = np.array([[1.0, 2.0], [3.0, 4.0]])
    f = np.array([[0.0, 0.0], [1.0, 2.0]])
    assert sm.nss(s, f) == pytest.approx(math.sqrt(3 / 5), abs=TOL)
    assert sm.nss(s, f > 0) == sm.nss(s, f)


def test_auc_judd_hand_with_the_matlab_tie_quirk():
    # map (0.1 0.4 0.35; 0.8 0.4 0) -> min-max (0.125 0.5 0.4375; 1 0.5 0). Fixated: the 1 and both
    # 0.5 (N = 3 of 6 pixels; negatives 0.125, 0.4375, 0). Thresholds sorted descending 1, .5, .5:
    #   i=1 t=1 : #S>=t = 1 -> tp 1/3, fp (1-1)/3 = 0
    #   i=2 t=.5: #S>=t = 3 -> tp 2/3, fp (3-2)/3 = 1/3   (the tied fixated pixel counts as fp)
    #   i=3 t=.5: #S>=t = 3 -> tp 1,   fp (3-3)/3 = 0
    # ROC (0,0) (0,1/3) (1/3,2/3) (0,1) (1,1): trapz = 0 + 1/6 - 5/18 + 1 = 8/9 (tie-free AUC: 1).
    s = np.array([[0.1, 0.4, 0.35], [0.8, 0.4, 0.0]])
    f = np.array([[0, 1, 0], [1, 1, 0]], dtype=float)
    assert sm.auc_judd(s, f) == pytest.approx(8 / 9, abs=TOL)


def test_auc_judd_hand_without_ties():
    # min-max values (0 .25 .5 .75 1) row-major 1x5 + a 0; fixated .75 and .25 (N=2, 4 negatives:
    # 0, .5, 1, 0). t=.75: #>= = 2 (.75, 1) -> tp 1/2, fp (2-1)/4 = 1/4;
    # t=.25: #>= = 4 -> tp 1, fp (4-2)/4 = 1/2. ROC (0,0)(1/4,1/2)(1/2,1)(1,1):
    # 1/4 * 1/4 + 1/4 * 3/4 + 1/2 * 1 = 1/16 + 3/16 + 8/16 = 12/16 = 0.75
    s = np.array([[0.0, 1.0, 2.0, 3.0, 4.0, 0.0]])
    f = np.array([[0, 1, 0, 1, 0, 0]], dtype=float)
    assert sm.auc_judd(s, f) == pytest.approx(0.75, abs=TOL)


def test_auc_shuffled_hand_deterministic_case():
    # Same map as the tie example: min-max (0.125 0.5 0.4375; 1 0.5 0). Fixated (0,0)=.125 and
    # (0,1)=.5; other scenes' fixated pixels (1,0)=1 and (0,2)=.4375: 2 <= N = 2, so every split
    # takes both and the value does not depend on the draws. max = 1: thresholds 1, .9, ..., 0.
    #   t in 1...0.6: tp 0,   fp 1/2 (the 1)
    #   t = .5      : tp 1/2, fp 1/2
    #   t = .4 .3 .2: tp 1/2, fp 1   (.4375 >= t)
    #   t = .1, 0   : tp 1,   fp 1
    # ROC area: only the step (1/2,1/2) -> (1,1/2) has area: 1/2 * 1/2 = 0.25 (= P(pos > neg)).
    s = np.array([[0.1, 0.4, 0.35], [0.8, 0.4, 0.0]])
    f = np.array([[1, 1, 0], [0, 0, 0]], dtype=float)
    o = np.array([[0, 0, 1], [1, 0, 0]], dtype=float)
    for seed in (0, 1, 12345):
        assert sm.auc_shuffled(s, f, o, n_splits=7, seed=seed) == pytest.approx(0.25, abs=TOL)


def test_similarity_hand():
    # (0 1; 2 3) -> min-max (0 1/3 2/3 1) / 2 = (0 1/6 1/3 1/2); (3 2; 1 0) -> (1/2 1/3 1/6 0).
    # sum(min) = 0 + 1/6 + 1/6 + 0 = 1/3
    a = np.array([[0.0, 1.0], [2.0, 3.0]])
    b = np.array([[3.0, 2.0], [1.0, 0.0]])
    assert sm.similarity(a, b) == pytest.approx(1 / 3, abs=TOL)
    assert sm.similarity(a, a) == pytest.approx(1.0, abs=TOL)


def test_kl_divergence_hand():
    # saliency (1 3; 2 2) / 8 = (1/8 3/8 1/4 1/4); reference (1 1; 0 2) / 4 = (1/4 1/4 0 1/2).
    # KL = 1/4 log 2 + 1/4 log(2/3) + 0 + 1/2 log 2 = log 2 - (1/4) log 3 = 0.41849410839291785
    # (eps changes it by ~1e-16)
    s = np.array([[1.0, 3.0], [2.0, 2.0]])
    r = np.array([[1.0, 1.0], [0.0, 2.0]])
    assert sm.kl_divergence(s, r) == pytest.approx(math.log(2) - math.log(3) / 4, abs=TOL)
    # the formula exactly as KLdiv.m writes it
    s1, r1 = s / s.sum(), r / r.sum()
    assert sm.kl_divergence(s, r) == np.sum(r1 * np.log(EPS + r1 / (s1 + EPS)))


def test_information_gain_hand():
    # saliency (0 1; 2 3) -> (0 1/6 1/3 1/2); baseline (3 1; 2 3) -> min-max (1 0 .5 1) / 2.5 =
    # (.4 0 .2 .4). Fixated: bottom row. IG = mean(log2((1/3)/.2), log2(.5/.4))
    # = mean(log2(5/3), log2(5/4)) = 0.5294468445267842 bits (eps: ~1e-15)
    s = np.array([[0.0, 1.0], [2.0, 3.0]])
    b = np.array([[3.0, 1.0], [2.0, 3.0]])
    f = np.array([[0.0, 0.0], [1.0, 1.0]])
    expected = (math.log2(5 / 3) + math.log2(5 / 4)) / 2
    assert sm.information_gain(s, f, b) == pytest.approx(expected, abs=TOL)
    assert sm.information_gain(b, f, b) == 0.0


# ------------------------------------------------------------------ MATLAB's colon


def test_matlab_colon_is_symmetric_like_matlab():
    v = sm.matlab_colon(0, 0.1, 1)
    assert v.size == 11 and v[0] == 0 and v[-1] == 1 and v[5] == 0.5
    assert v[3] == 3 * 0.1 == 0.30000000000000004  # first half: base + k step
    assert v[7] == 1 - 3 * 0.1 == 0.7 != 7 * 0.1  # second half: end - k step (Octave: 7 * 0.1)
    assert v[6] == 0.6 != 6 * 0.1
    w = sm.matlab_colon(0, 0.1, 0.95)  # round(9.5 - 2e-15) = 9 intervals, ends at 0.9
    assert w.size == 10 and w[-1] == 9 * 0.1
    assert sm.matlab_colon(0, 0.1, 0.96).size == 10  # round(9.6) = 10 overshoots: 9
    assert list(sm.matlab_colon(0, 0.1, 0)) == [0.0]
    assert list(sm.matlab_colon(0, 1, 3.5)) == [0, 1, 2, 3]
    assert list(sm.matlab_colon(0, 2, 7)) == [0, 2, 4, 6]
    assert sm.matlab_colon(1, 0.1, 0).size == 0


# ------------------------------------------------------------------ literal ports of the loops


def _literal_auc_judd(s, f):
    """AUC_Judd.m's loop, statement by statement (column-major, MATLAB sort, trapz)."""
    s = (s - s.min()) / (s.max() - s.min())
    S, F = s.ravel(order="F"), f.ravel(order="F")
    Sth = S[F > 0]
    n_fix, n_pix = len(Sth), len(S)
    allthreshes = -np.sort(-Sth, kind="stable")
    tp, fp = np.zeros(n_fix + 2), np.zeros(n_fix + 2)
    tp[-1] = fp[-1] = 1
    for i in range(1, n_fix + 1):
        aboveth = np.sum(S >= allthreshes[i - 1])
        tp[i] = i / n_fix
        fp[i] = (aboveth - i) / (n_pix - n_fix)
    return float(np.trapezoid(tp, fp))


def _literal_auc_shuffled_all_negatives(s, f, o, step=0.1):
    """AUC_shuffled.m for one split that takes every negative (#other <= N)."""
    s = (s - s.min()) / (s.max() - s.min())
    S, F, O = s.ravel(order="F"), f.ravel(order="F"), o.ravel(order="F")  # noqa: E741 (the MATLAB names)
    Sth, curfix = S[F > 0], S[O > 0]
    allthreshes = sm.matlab_colon(0, step, max(Sth.max(), curfix.max()))[::-1]
    tp, fp = np.zeros(len(allthreshes) + 2), np.zeros(len(allthreshes) + 2)
    tp[-1] = fp[-1] = 1
    for i, t in enumerate(allthreshes, start=1):
        tp[i] = np.sum(Sth >= t) / len(Sth)
        fp[i] = np.sum(curfix >= t) / len(curfix)
    return float(np.trapezoid(tp, fp))


@pytest.mark.parametrize("seed", range(6))
def test_auc_judd_matches_the_literal_loop_with_ties(seed):
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 12, size=(17, 23)).astype(float)  # many ties, among fixated values too
    f = (rng.random(s.shape) < 0.15).astype(float) * rng.integers(1, 4, size=s.shape)
    assert sm.auc_judd(s, f) == pytest.approx(_literal_auc_judd(s, f), abs=1e-14)
    smooth = rng.gamma(2.0, size=s.shape)
    assert sm.auc_judd(smooth, f) == pytest.approx(_literal_auc_judd(smooth, f), abs=1e-14)


@pytest.mark.parametrize("seed", range(6))
def test_auc_shuffled_matches_the_literal_loop_when_draws_do_not_matter(seed):
    rng = np.random.default_rng(100 + seed)
    s = rng.gamma(2.0, size=(19, 21))
    s[3, 4] = s.max() * 0.6 + s.min() * 0.4  # a value exactly at a threshold
    f = (rng.random(s.shape) < 0.2).astype(float)
    o = np.zeros(s.shape)
    o.flat[rng.choice(s.size, size=int(f.sum()) - 3, replace=False)] = 1
    expected = _literal_auc_shuffled_all_negatives(s, f, o)
    assert sm.auc_shuffled(s, f, o, n_splits=3, seed=seed) == pytest.approx(expected, abs=1e-14)


def test_auc_shuffled_is_seeded_and_near_the_all_negatives_value():
    rng = np.random.default_rng(7)
    s = rng.gamma(2.0, size=(30, 40))
    f = (rng.random(s.shape) < 0.02).astype(float)
    o = (rng.random(s.shape) < 0.3).astype(float)  # many more negatives than fixations: random
    a = sm.auc_shuffled(s, f, o, seed=1)
    assert a == sm.auc_shuffled(s, f, o, seed=1)
    assert a != sm.auc_shuffled(s, f, o, seed=2)
    assert abs(a - _literal_auc_shuffled_all_negatives(s, f, o)) < 0.05
    assert 0.0 <= a <= 1.0


def test_auc_judd_jitter_is_seeded_and_breaks_ties():
    s = np.array([[0.0, 1.0, 1.0, 1.0, 0.0, 2.0]])
    f = np.array([[0, 1, 0, 0, 0, 1]], dtype=float)
    a = sm.auc_judd(s, f, jitter=True, seed=3)
    assert a == sm.auc_judd(s, f, jitter=True, seed=3)
    assert 0.0 <= a <= 1.0
    assert sm.auc_judd(np.ones((2, 3)), np.eye(2, 3), jitter=True) >= 0  # constant map jittered


def test_real_sized_map_values_are_sensible():
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:96, 0:128]
    density = np.exp(-((yy - 40.0) ** 2 + (xx - 70.0) ** 2) / (2 * 12.0**2))
    f = (rng.random(density.shape) < density * 0.05).astype(float)
    other = (rng.random(density.shape) < 0.01).astype(float)
    good, flat = density + 0.01, rng.random(density.shape)
    assert sm.nss(good, f) > 1.0 > abs(sm.nss(flat, f))
    assert sm.auc_judd(good, f) > 0.85 and abs(sm.auc_judd(flat, f) - 0.5) < 0.15
    assert sm.auc_shuffled(good, f, other) > 0.8
    assert sm.information_gain(good, f, flat) > 0.5
    assert sm.kl_divergence(good, density) < sm.kl_divergence(flat, density)
    assert sm.similarity(good, density) > sm.similarity(flat, density)
    assert sm.cc(good, density) == pytest.approx(metrics.pearson_r(good, density), abs=1e-12)


# ------------------------------------------------------------------ edge cases


def test_constant_map_is_an_error_where_matlab_returns_nan():
    const, other = np.full((3, 4), 0.5), np.arange(12.0).reshape(3, 4)
    f = np.zeros((3, 4))
    f[1, 2] = 1
    o = np.zeros((3, 4))
    o[0, 0] = 1
    for call in (lambda: sm.cc(const, other), lambda: sm.cc(other, const), lambda: sm.nss(const, f),
                 lambda: sm.auc_judd(const, f), lambda: sm.auc_shuffled(const, f, o),
                 lambda: sm.similarity(const, other), lambda: sm.information_gain(const, f, other),
                 lambda: sm.information_gain(other, f, const)):
        with pytest.raises(ValueError, match="constant"):
            call()


def test_constant_and_zero_maps_where_matlab_gives_a_number():
    # KLdiv.m: a constant map is the uniform distribution. Reference (1 0; 0 1) -> (1/2 0 0 1/2),
    # saliency uniform 1/4: KL = 2 * 1/2 * log(2) = log 2 (eps: ~1e-16).
    assert sm.kl_divergence(np.ones((2, 2)), np.eye(2)) == pytest.approx(math.log(2), abs=TOL)
    # an all-zero map stays zero (KLdiv.m, similarity.m): similarity 0, KL with eps alone
    assert sm.similarity(np.zeros((2, 2)), np.eye(2)) == 0.0
    z = sm.kl_divergence(np.zeros((2, 2)), np.eye(2))
    assert z == pytest.approx(math.log(EPS + 0.5 / EPS), rel=1e-15)


def test_no_fixations_is_an_error():
    s = np.arange(12.0).reshape(3, 4)
    none = np.zeros((3, 4))
    o = np.eye(3, 4)
    for call in (lambda: sm.nss(s, none), lambda: sm.auc_judd(s, none),
                 lambda: sm.auc_shuffled(s, none, o), lambda: sm.information_gain(s, none, s + 1)):
        with pytest.raises(ValueError, match="no fixated pixel"):
            call()
    with pytest.raises(ValueError, match="other_map has no fixated pixel"):
        sm.auc_shuffled(s, o, none)
    with pytest.raises(ValueError, match="every pixel is fixated"):
        sm.auc_judd(s, np.ones((3, 4)))


def test_bad_inputs_are_errors():
    s = np.arange(12.0).reshape(3, 4)
    f = np.eye(3, 4)
    with pytest.raises(ValueError, match="same size"):
        sm.nss(s, np.eye(4, 3))
    with pytest.raises(ValueError, match="same size"):
        sm.cc(s, s.T)
    nan = s.copy()
    nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sm.similarity(nan, s)
    with pytest.raises(ValueError, match="negative"):
        sm.nss(s, -f)
    with pytest.raises(ValueError, match="2-D"):
        sm.cc(s.ravel(), s.ravel())
    with pytest.raises(ValueError, match="negative values"):
        sm.kl_divergence(s - 5.0, s)
    with pytest.raises(ValueError, match="n_splits"):
        sm.auc_shuffled(s, f, f, n_splits=0)


def test_kl_tolerates_fft_rounding_negatives_as_matlabs_real_part():
    rng = np.random.default_rng(5)
    s = rng.random((8, 9)) + 0.1
    r = rng.random((8, 9))
    r[0, 0] = -1e-18  # a blurred fixation map's rounding noise
    r1 = r / r.sum()
    s1 = s / s.sum()
    expected = np.sum(np.real(r1 * np.log((EPS + r1 / (s1 + EPS)).astype(complex))))
    assert sm.kl_divergence(s, r) == pytest.approx(float(expected), abs=1e-15)
