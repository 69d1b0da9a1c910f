"""Map-level and scene-level statistics for comparing meaning maps with attention maps.

What: Pearson correlation between a predictor map (meaning, salience, centre bias, ...) and a
human attention map over all pixels, its square, the squared semipartial correlation (the
variance in attention explained uniquely by one map over another, as Henderson & Hayes 2017
report for meaning over salience), a scene-bootstrap confidence
interval of a mean, paired tests between two sources' per-scene values and Holm's correction of a
family of p values. The saliency benchmark's metrics (CC, NSS, AUC-Judd, shuffled AUC, SIM, KL, IG)
live in ``saliency_metrics.py`` and are re-exported here.

Why: these numbers are published, so every function works in float64, refuses input on which the
statistic is undefined (shape mismatch, NaN/inf, constant maps) instead of returning a silent NaN,
and is deterministic (bootstraps take an explicit seed).
"""

from __future__ import annotations

import warnings
import zlib

import numpy as np
from scipy import stats

from .saliency_metrics import (  # noqa: F401 -- re-exported: one place to import every metric from
    EPS,
    auc_judd,
    auc_shuffled,
    cc,
    information_gain,
    kl_divergence,
    nss,
    similarity,
)

# x counts as a linear function of the control when the residual of x on the control keeps less
# than this fraction of x's centred sum of squares (rounding alone leaves ~1e-31).
_COLLINEAR_TOL = 1e-20
# Bootstrap resamples are drawn in blocks of at most this many indices, to bound memory.
_BOOT_BLOCK = 2_000_000


def _as_vector(a, name: str) -> np.ndarray:
    """Flatten ``a`` to a float64 vector, refusing NaN/inf."""
    v = np.asarray(a, dtype=np.float64).ravel()
    if v.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(v)):
        bad = int(np.count_nonzero(~np.isfinite(v)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    return v


def _same_shape(arrays: dict[str, np.ndarray]) -> None:
    shapes = {name: np.shape(a) for name, a in arrays.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"arrays must have the same shape, got {listed}")


def _centred_nonconstant(v: np.ndarray, name: str) -> np.ndarray:
    """``v - mean(v)``; a constant ``v`` (zero variance) is an error."""
    if v.size < 2 or v.min() == v.max():
        raise ValueError(
            f"{name} is constant (all {v.size} values equal {v[0]!r}); correlation is undefined"
        )
    return v - v.mean()


def pearson_r(a, b) -> float:
    """Pearson r between two same-shape maps over all pixels (both flattened, float64)."""
    _same_shape({"a": a, "b": b})
    x = _centred_nonconstant(_as_vector(a, "a"), "a")
    y = _centred_nonconstant(_as_vector(b, "b"), "b")
    # Same arithmetic as scipy.stats.pearsonr: normalise first, then dot.
    r = float(np.dot(x / np.linalg.norm(x), y / np.linalg.norm(y)))
    return max(-1.0, min(1.0, r))


def _semipartial_parts(y, x, control):
    """Validated, centred y, x, control and the residual of x on control (None if collinear)."""
    _same_shape({"y": y, "x": x, "control": control})
    yc = _centred_nonconstant(_as_vector(y, "y"), "y")
    xc = _centred_nonconstant(_as_vector(x, "x"), "x")
    ctl = _centred_nonconstant(_as_vector(control, "control"), "control")
    # Centring all variables is exactly equivalent to fitting an intercept, and better conditioned.
    beta = np.dot(ctl, xc) / np.dot(ctl, ctl)
    resid = xc - beta * ctl
    if np.dot(resid, resid) <= _COLLINEAR_TOL * np.dot(xc, xc):
        resid = None
    return yc, xc, ctl, resid


def _r2_ols(yc: np.ndarray, design: np.ndarray) -> float:
    """R^2 of centred ``yc`` on the columns of centred ``design`` by least squares."""
    coef, *_ = np.linalg.lstsq(design, yc, rcond=None)
    resid = yc - design @ coef
    return 1.0 - float(np.dot(resid, resid)) / float(np.dot(yc, yc))


def semipartial_r2(y, x, control) -> float:
    """Squared semipartial correlation: R^2(y ~ x + control) - R^2(y ~ control).

    The share of variance in ``y`` explained uniquely by ``x`` beyond ``control`` (least squares
    with intercept). 0.0 when ``x`` is a linear function of ``control``. Tiny negative rounding
    residue is clipped to 0 (the exact value is never negative).
    """
    yc, xc, ctl, resid = _semipartial_parts(y, x, control)
    if resid is None:
        return 0.0
    full = _r2_ols(yc, np.column_stack([xc, ctl]))
    reduced = _r2_ols(yc, ctl[:, None])
    return max(0.0, full - reduced)


def bootstrap_mean_ci(values, n_boot: int = 10000, level: float = 0.95, seed: int = 0):
    """Scene-bootstrap percentile CI of the mean: returns (mean, lo, hi).

    Resamples the values (one per scene) with replacement ``n_boot`` times with
    ``numpy.random.default_rng(seed)``; lo/hi are the (1-level)/2 and (1+level)/2 quantiles
    (numpy's default linear interpolation) of the resampled means. lo/hi are NaN for one value.
    """
    v = _as_vector(values, "values")
    if np.ndim(values) > 1:
        raise ValueError(f"values must be 1-D (one value per scene), got shape {np.shape(values)}")
    if int(n_boot) != n_boot or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    mean = float(v.mean())
    n = v.size
    if n < 2:
        return mean, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    n_boot = int(n_boot)
    rows = max(1, _BOOT_BLOCK // n)
    means = np.empty(n_boot, dtype=np.float64)
    for start in range(0, n_boot, rows):
        stop = min(n_boot, start + rows)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = v[idx].mean(axis=1)
    lo, hi = np.quantile(means, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return mean, float(lo), float(hi)


def paired_tests(a, b, n_boot: int = 10000, level: float = 0.95, seed: int = 0) -> dict:
    """Paired comparison of two sources' per-scene values (same scenes, same order).

    Returns n, mean_diff (mean of a - b), t and p_t (two-sided paired t, scipy.stats.ttest_rel),
    w and p_wilcoxon (two-sided signed-rank, scipy.stats.wilcoxon; NaN if n < 2 or every
    difference is zero), and diff_ci_low/diff_ci_high (bootstrap_mean_ci of a - b).
    """
    if np.ndim(a) != 1 or np.ndim(b) != 1:
        raise ValueError(f"a and b must be 1-D, got shapes {np.shape(a)} and {np.shape(b)}")
    _same_shape({"a": a, "b": b})
    x = _as_vector(a, "a")
    y = _as_vector(b, "b")
    d = x - y
    n = int(d.size)
    t = p_t = w = p_w = float("nan")
    if n >= 2:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            res = stats.ttest_rel(x, y)
        t, p_t = float(res.statistic), float(res.pvalue)
        if np.any(d != 0):
            res = stats.wilcoxon(x, y, alternative="two-sided")
            w, p_w = float(res.statistic), float(res.pvalue)
    mean_diff, lo, hi = bootstrap_mean_ci(d, n_boot=n_boot, level=level, seed=seed)
    return {
        "n": n,
        "mean_diff": mean_diff,
        "t": t,
        "p_t": p_t,
        "w": w,
        "p_wilcoxon": p_w,
        "diff_ci_low": lo,
        "diff_ci_high": hi,
    }


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p values (family-wise error), in the input order.

    With the m finite p values sorted ascending p_(1) <= ... <= p_(m), the adjusted
    p_(j) = max over i <= j of min(1, (m - i + 1) p_(i)). NaN entries (an undefined test) are not
    part of the family and stay NaN. Equals statsmodels' ``multipletests(p, method="holm")``.
    """
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(~np.isnan(p))
    if finite.size == 0:
        return out
    if (p[finite] < 0).any() or (p[finite] > 1).any():
        raise ValueError("p values must lie in [0, 1]")
    m = finite.size
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def scene_seed(seed: int, scene: str) -> list[int]:
    """A per-scene seed for ``numpy.random.default_rng``: the config seed with the CRC-32 of the
    scene name, so a scene's random draws do not depend on which other scenes the study has."""
    return [int(seed) % 2**63, zlib.crc32(str(scene).encode("utf-8"))]
