"""The MIT/Tuebingen saliency benchmark's metrics, exact to its MATLAB code.

What: ports of ``code_forMetrics`` in github.com/cvzoya/saliency (CC.m, NSS.m, AUC_Judd.m,
AUC_shuffled.m, similarity.m, KLdiv.m, InfoGain.m), each reproducing the original's
normalisations, order of operations and tie handling, on float64 arrays.

Why: these numbers are published next to the benchmark's, so every value must be the one the
MATLAB code gives for the same maps. Rules kept throughout:

* maps are 2-D, finite and of equal size. The originals ``imresize`` a map of another size first;
  here sizes never differ, so a size mismatch is an error instead of a silent resampling.
* where the original returns NaN (a constant map, no fixations, an empty negative set) a
  ``ValueError`` says why; where it returns a number (e.g. KLdiv of a constant map, similarity of
  an all-zero map) that number is returned.
* ``im2double``/``double`` of a float64 array is the identity; our inputs are float64.
* a fixation map is non-negative; its fixated pixels are those > 0, each counted once (MATLAB's
  ``logical(fixationMap)`` / ``F > 0``, the same for a non-negative map).
* KL divergence needs non-negative maps: a map with real negative values is an error (MATLAB's log
  turns complex); negatives at FFT-rounding level (a blurred fixation map) give MATLAB's real part.
* the shuffled AUC's thresholds ``0:step:max`` follow MATLAB's colon operator (:func:`matlab_colon`);
  Octave's ranges can differ by one ulp in the upper half, which changes a value only when a map
  value lies exactly on such a threshold.

Not reproducible: the random draws. AUC_shuffled (and AUC_Judd with ``jitter``) draw from numpy's
seeded generator, not MATLAB's ``randperm``/``rand`` stream, so those values match MATLAB only in
distribution, not to the digit; AUC_shuffled is exact (draw-independent) when the other map has no
more fixated pixels than the scene. MATLAB's AUC_Judd jitters by default; here ``jitter=False`` is
the default (deterministic; the benchmark's authors advise no jitter for smooth maps).
"""

from __future__ import annotations

import math

import numpy as np

from ..matlab import matlab_round

__all__ = ["EPS", "auc_judd", "auc_shuffled", "cc", "has_negative_values", "information_gain", "kl_divergence",
           "matlab_colon", "nss", "similarity"]

EPS = 2.220446049250313e-16  # MATLAB's eps (= np.finfo(float).eps), as KLdiv.m and InfoGain.m use


# ------------------------------------------------------------------------------ input checks


def _map(a, name: str) -> np.ndarray:
    """``a`` as a finite, non-empty 2-D float64 array."""
    m = np.asarray(a, dtype=np.float64)
    if m.ndim != 2 or m.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D map, got shape {m.shape}")
    if not np.isfinite(m).all():
        raise ValueError(f"{name} has {int(np.count_nonzero(~np.isfinite(m)))} NaN or infinite value(s)")
    return m


def _maps(**named) -> list[np.ndarray]:
    """Checked maps, all of one size (the originals would imresize; here that is an error)."""
    maps = [_map(a, name) for name, a in named.items()]
    shapes = {name: m.shape for name, m in zip(named, maps, strict=True)}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"maps must have the same size, got {listed} (resize them to the scene first)")
    return maps


def _fixated(fixation_map: np.ndarray, name: str = "fixation_map") -> np.ndarray:
    """Boolean mask of fixated pixels (> 0) of a non-negative fixation map with at least one."""
    if (fixation_map < 0).any():
        raise ValueError(f"{name} has negative values; it must be a binary (or count) map of fixated pixels")
    mask = fixation_map > 0
    if not mask.any():
        raise ValueError(f"{name} has no fixated pixel; the metric is undefined (MATLAB returns NaN)")
    return mask


def _not_constant(m: np.ndarray, name: str, metric: str) -> None:
    if m.min() == m.max():
        raise ValueError(f"{name} is constant (every pixel = {m.flat[0]!r}); {metric} is undefined "
                         "(MATLAB returns NaN)")


def _zscore(m: np.ndarray) -> np.ndarray:
    """``(map - mean(map(:))) / std(map(:))`` with MATLAB's sample standard deviation (n - 1)."""
    return (m - m.mean()) / m.std(ddof=1)


def _minmax(m: np.ndarray) -> np.ndarray:
    """``(map - min(map(:))) / (max(map(:)) - min(map(:)))``, elementwise as MATLAB."""
    lo = m.min()
    return (m - lo) / (m.max() - lo)


def _at(m: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``m(mask)`` in MATLAB's column-major order (it sets the order of summation)."""
    return m.T[mask.T]


def _trapz(x: np.ndarray, y: np.ndarray) -> float:
    """MATLAB ``trapz(x, y)`` for vectors: ``diff(x)' * (y(1:end-1) + y(2:end)) / 2``."""
    return float(np.dot(np.diff(x), y[:-1] + y[1:]) / 2.0)


# ------------------------------------------------------------------------------ the metrics


def cc(map1, map2) -> float:
    """Linear correlation coefficient of two maps (CC.m).

    Both maps are z-scored (sample standard deviation), then ``corr2``: each is centred again and
    ``r = sum(a .* b) / sqrt(sum(a .* a) * sum(b .* b))``. A constant map is an error.
    """
    m1, m2 = _maps(map1=map1, map2=map2)
    _not_constant(m1, "map1", "CC")
    _not_constant(m2, "map2", "CC")
    a, b = _zscore(m1), _zscore(m2)
    a = a - a.mean()  # corr2
    b = b - b.mean()
    return float(np.sum(a * b) / math.sqrt(float(np.sum(a * a)) * float(np.sum(b * b))))


def nss(saliency, fixation_map) -> float:
    """Normalized scanpath saliency (NSS.m): mean of the z-scored map at the fixated pixels.

    z-scoring uses the sample standard deviation; every fixated pixel counts once, whatever its
    number of fixations (MATLAB's ``logical(fixationMap)``).
    """
    s, f = _maps(saliency=saliency, fixation_map=fixation_map)
    mask = _fixated(f)
    _not_constant(s, "saliency", "NSS")
    return float(np.mean(_at(_zscore(s), mask)))


def auc_judd(saliency, fixation_map, jitter: bool = False, seed=0) -> float:
    """Area under the ROC curve, Judd's version (AUC_Judd.m).

    The map is min-max normalised; its values at the N fixated pixels, sorted descending, are the
    thresholds. At the i-th threshold t: tp = i / N and fp = (#pixels with value >= t - i) /
    (#pixels - N), exactly as the original, so tied fixated values count towards fp at the earlier
    ties. ROC (0,0) + those N points + (1,1), integrated with ``trapz``. ``jitter=True`` adds
    ``rand / 1e7`` per pixel first (seeded numpy draws: not MATLAB's; MATLAB's default is jitter on).
    """
    s, f = _maps(saliency=saliency, fixation_map=fixation_map)
    mask = _fixated(f)
    if jitter:
        s = s + np.random.default_rng(seed).random(s.shape) / 10000000
    _not_constant(s, "saliency", "AUC-Judd")
    s = _minmax(s)
    n_fix, n_pix = int(mask.sum()), s.size
    if n_fix == n_pix:
        raise ValueError("every pixel is fixated: no negatives, AUC-Judd is undefined (MATLAB returns NaN)")
    thresholds = np.sort(s[mask])[::-1]
    above = n_pix - np.searchsorted(np.sort(s, axis=None), thresholds, side="left")  # sum(S >= t)
    i = np.arange(1, n_fix + 1, dtype=np.float64)
    tp = np.concatenate(([0.0], i / n_fix, [1.0]))
    fp = np.concatenate(([0.0], (above - i) / (n_pix - n_fix), [1.0]))
    return _trapz(fp, tp)


def matlab_colon(base: float, step: float, limit: float) -> np.ndarray:
    """MATLAB's ``base:step:limit`` for doubles, element for element.

    MATLAB does not add ``step`` repeatedly: it fixes the count n (``round((limit - base) / step)``,
    less one if that overshoots by more than ``tol = 2 eps max(|base|, |limit|)``), the end point
    ``c = base + n step`` (snapped to ``limit`` when within tol), and fills the first half as
    ``base + k step`` and the second as ``c - k step`` (the middle of an even n as (base + c) / 2),
    so the vector is symmetric about its mid-point (MathWorks' colonop.m). Octave instead computes
    every element as ``base + k step``: the two can differ by one ulp in the upper half (e.g. 0.6 and
    0.7 of 0:0.1:1), which matters only for a map value lying exactly on such a threshold.
    """
    base, step, limit = float(base), float(step), float(limit)
    if not (math.isfinite(base) and math.isfinite(step) and math.isfinite(limit)):
        return np.array([np.nan])
    if step == 0 or (base < limit and step < 0) or (limit < base and step > 0):
        return np.zeros(0)
    tol = 2.0 * EPS * max(abs(base), abs(limit))
    sig = math.copysign(1.0, step)
    if base == math.floor(base) and step == 1:
        n = math.floor(limit) - base
    elif base == math.floor(base) and step == math.floor(step):
        q = math.floor(base / step)
        r = base - q * step
        n = math.floor((limit - r) / step) - math.floor((base - r) / step)
    else:
        n = float(matlab_round((limit - base) / step))
        if sig * (base + n * step - limit) > tol:
            n -= 1
    n = int(n)
    c = base + n * step
    if sig * (c - limit) > -tol:
        c = limit
    out = np.empty(n + 1)
    k = np.arange(n // 2 + 1, dtype=np.float64)
    out[k.astype(int)] = base + k * step
    out[n - k.astype(int)] = c - k * step
    if n % 2 == 0:
        out[n // 2] = (base + c) / 2
    return out


def _count_at_least(sorted_values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """``sum(values >= t)`` for every threshold t, from the values sorted ascending."""
    return sorted_values.size - np.searchsorted(sorted_values, thresholds, side="left")


def auc_shuffled(saliency, fixation_map, other_map, n_splits: int = 100, step: float = 0.1,
                 seed=0) -> float:
    """Shuffled AUC (AUC_shuffled.m): negatives are the map's values at other scenes' fixations.

    The map is min-max normalised. Per split, ``min(N, #other)`` pixels are drawn without
    replacement from the other map's fixated pixels (``randperm``; here numpy's seeded generator:
    draws differ from MATLAB's, the procedure is the same, and the value is exact when the other map
    has no more fixated pixels than this one, as every split then takes all of them). Thresholds
    ``fliplr(0:step:max([fixated; negatives]))`` (MATLAB's colon, :func:`matlab_colon`);
    tp = #fixated >= t / N, fp = #negatives >= t / #negatives; ROC (0,0) + points + (1,1),
    ``trapz``; the score is the mean over ``n_splits`` splits. Pixels fixated in this scene too are
    not excluded from the negatives (nor are they in the original).
    """
    s, f, o = _maps(saliency=saliency, fixation_map=fixation_map, other_map=other_map)
    mask = _fixated(f)
    if (o < 0).any():
        raise ValueError("other_map has negative values; it must be a binary map of other scenes' fixations")
    if int(n_splits) != n_splits or n_splits < 1:
        raise ValueError(f"n_splits must be a positive integer, got {n_splits!r}")
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be a positive number, got {step!r}")
    _not_constant(s, "saliency", "shuffled AUC")
    s = _minmax(s)
    col_major = s.ravel(order="F")  # MATLAB's S = saliencyMap(:) and find() order
    fixated = np.sort(s[mask])
    candidates = np.flatnonzero(o.ravel(order="F") > 0)
    if candidates.size == 0:
        raise ValueError("other_map has no fixated pixel: no negatives, shuffled AUC is undefined "
                         "(MATLAB returns NaN)")
    n_fix = fixated.size
    n_neg = min(n_fix, candidates.size)
    rng = np.random.default_rng(seed)
    auc = np.empty(int(n_splits))
    for split in range(int(n_splits)):
        negatives = np.sort(col_major[candidates[rng.permutation(candidates.size)[:n_neg]]])
        top = float(max(fixated[-1], negatives[-1]))
        thresholds = matlab_colon(0.0, step, top)[::-1]
        tp = np.concatenate(([0.0], _count_at_least(fixated, thresholds) / n_fix, [1.0]))
        fp = np.concatenate(([0.0], _count_at_least(negatives, thresholds) / n_neg, [1.0]))
        auc[split] = _trapz(fp, tp)
    return float(np.mean(auc))


def _as_distribution(m: np.ndarray) -> np.ndarray:
    """``map / sum(map(:))`` unless the map is all zero (then it stays zero), as KLdiv.m."""
    return m / m.sum() if m.any() else m


def similarity(map1, map2) -> float:
    """Histogram intersection of two maps as distributions (similarity.m).

    Each map that is not all zero is min-max normalised, then divided by its sum (an all-zero map
    stays zero, so its similarity is 0); the score is ``sum(min(map1, map2))``. A constant non-zero
    map is an error (MATLAB: NaN).
    """
    maps = _maps(map1=map1, map2=map2)
    out = []
    for name, m in zip(("map1", "map2"), maps, strict=True):
        if m.any():
            _not_constant(m, name, "similarity")
            m = _minmax(m)
            m = m / m.sum()
        out.append(m)
    return float(np.sum(np.minimum(out[0], out[1])))


def has_negative_values(m) -> bool:
    """Whether a map has real negative values: below -1e-9 of its largest |value| (FFT rounding of a
    blurred fixation map, ~1e-16 of it, is not). The KL divergence refuses such maps, and so does the
    input check of an imported map (``external_maps.check_signs``), with this one test."""
    m = np.asarray(m)
    return bool(m.size) and bool(m.min() < -1e-9 * float(np.abs(m).max()))


def _check_non_negative(m: np.ndarray, name: str) -> None:
    """KL needs non-negative maps; FFT rounding (|value| ~ 1e-16 of the maximum) is tolerated."""
    scale = float(np.abs(m).max())
    if has_negative_values(m):
        raise ValueError(f"{name} has negative values (minimum {m.min():g}, maximum |value| {scale:g}); "
                         "the KL divergence of maps as distributions needs non-negative maps "
                         "(a log-density map must be exponentiated first)")


def kl_divergence(saliency, reference) -> float:
    """KL divergence of the reference from the saliency map, both as distributions (KLdiv.m).

    Each map not all zero is divided by its sum; ``sum(ref .* log(eps + ref ./ (sal + eps)))`` with
    eps = 2.220446049250313e-16. Maps must be non-negative; negative values at rounding level (a
    blurred fixation map's FFT noise) make MATLAB's log complex: its real part is returned.
    """
    s, r = _maps(saliency=saliency, reference=reference)
    _check_non_negative(s, "saliency")
    _check_non_negative(r, "reference")
    s, r = _as_distribution(s), _as_distribution(r)
    inner = EPS + r / (s + EPS)
    with np.errstate(divide="ignore"):
        return float(np.sum(r * np.log(np.abs(inner))))  # real part of log for negative `inner`


def information_gain(saliency, fixation_map, baseline) -> float:
    """Information gain of the saliency map over a baseline at the fixated pixels (InfoGain.m).

    Both maps are min-max normalised and divided by their sums; the score is
    ``mean(log2(eps + sal(fix)) - log2(eps + base(fix)))`` over fixated pixels (each once), in bits.
    """
    s, f, b = _maps(saliency=saliency, fixation_map=fixation_map, baseline=baseline)
    mask = _fixated(f)
    _not_constant(s, "saliency", "information gain")
    _not_constant(b, "baseline", "information gain")
    s, b = _minmax(s), _minmax(b)
    s, b = s / s.sum(), b / b.sum()
    return float(np.mean(np.log2(EPS + _at(s, mask)) - np.log2(EPS + _at(b, mask))))
