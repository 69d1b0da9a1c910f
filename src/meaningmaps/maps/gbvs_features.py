"""The GBVS toolbox's image operations, with its arithmetic (for ``maps/gbvs.py``).

Each function reproduces one toolbox file: ``mySubsample`` (mex, single precision),
``makeGaborFilterGBVS``, ``myconv2`` / ``padImage``, ``attenuateBordersGBVS``, ``mygausskernel``,
``myContrast`` (mex), ``mexLocalMaximaGBVS``, ``maxNormalizeStdGBVS`` and ``mat2gray`` (Octave's
image package: ``(1 / (max - min)) * (x - min)``; MATLAB's ``delta * x - min * delta`` differs by
rounding only).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, signal

from ..matlab import matlab_round


def mat2gray(a: np.ndarray) -> np.ndarray:
    """Scale to 0..1 by the array's min and max; a constant array is only clipped to 0..1."""
    a = np.asarray(a, dtype=np.float64)
    lo, hi = a.min(), a.max()
    if lo == hi:
        return np.clip(a, 0.0, 1.0)
    return np.clip((1.0 / (hi - lo)) * (a - lo), 0.0, 1.0)


# ----------------------------------------------------------------------------- mySubsample

def _decimate_rows(a: np.ndarray) -> np.ndarray:
    """Halve axis 0 with the [1 5 10 10 5 1]/32 filter and its edge variants (float32 as in C).

    The mex file adds pairs of floats in single precision (``p``), multiplies and adds in double
    (single terms: ``d``) and stores the result as a float; every expression keeps the C operand
    order.
    """
    n = a.shape[0]
    d = a.astype(np.float64)

    def p(i, j):  # float + float, rounded to float, then promoted to double
        return (a[i] + a[j]).astype(np.float64)

    if n == 2:
        return (p(0, 1) / 2.0).astype(np.float32)[None]
    if n == 3:
        return ((d[0] + d[1] * 2.0 + d[2]) / 4.0).astype(np.float32)[None]
    rows = [((p(0, 1) * 10.0 + d[2] * 5.0 + d[3]) / 26.0)[None]]
    k = len(range(0, n - 5, 2))
    if k:
        sl = [slice(j, j + 2 * k - 1, 2) for j in range(6)]  # rows x + j for x = 0, 2, ..
        ps = lambda i, j: (a[sl[i]] + a[sl[j]]).astype(np.float64)  # noqa: E731
        rows.append((ps(1, 4) * 5.0 + ps(2, 3) * 10.0 + ps(0, 5)) / 32.0)
    x = 2 * k
    if x == n - 5:
        last = (p(x + 1, x + 4) * 5.0 + p(x + 2, x + 3) * 10.0 + d[x]) / 31.0
    else:
        last = (d[x] + d[x + 1] * 5.0 + p(x + 2, x + 3) * 10.0) / 26.0
    rows.append(last[None])
    return np.concatenate(rows, axis=0).astype(np.float32)


def my_subsample(a: np.ndarray) -> np.ndarray:
    """``mySubsample``: halve both sides (``floor(n / 2)``) with a 6-tap low-pass, in float32.

    Maps of 10 px or less on a side are returned unchanged, as the mex file does.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        return a.copy()
    h, w = a.shape
    if not (w > 10 and h > 10):
        return a.copy()
    x = a.astype(np.float32)
    decx = _decimate_rows(x.T).T  # columns first (lowPass6xDecX), then rows
    return _decimate_rows(decx).astype(np.float64)


# ----------------------------------------------------------------------------- filters

def gabor_filter(angle: float, phase: float, stddev: float = 2.0, elongation: float = 2.0,
                 period: float = np.pi) -> np.ndarray:
    """``makeGaborFilterGBVS(gaborParams, angle, phase)`` with filterSize -1 (automatic)."""
    major_sd = stddev
    minor_sd = major_sd * elongation
    sz = int(np.ceil(max(major_sd, minor_sd) * np.sqrt(10)))
    psi = np.pi / 180 * phase
    rt = np.pi / 180 * angle
    omega = 2 * np.pi / period
    co, si = np.cos(rt), -np.sin(rt)
    vec = np.arange(-sz, sz + 1, dtype=np.float64)
    vco, vsi = vec * co, vec * si
    major = vco[:, None] + vsi[None, :]
    minor = vsi[:, None] - vco[None, :]
    result = np.cos(omega * major + psi) * np.exp(-(major ** 2) / (2 * major_sd ** 2)
                                                  - (minor ** 2) / (2 * minor_sd ** 2))
    filt = result - result.mean()
    return filt / np.sqrt(np.sum(filt ** 2))


def my_conv2(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``myconv2``: ``conv2(..., 'same')`` of the image padded by repeating its edge pixels."""
    k = np.atleast_2d(k)
    vpad = int(np.ceil((k.shape[0] - 1) / 2))
    hpad = int(np.ceil((k.shape[1] - 1) / 2))
    ap = np.pad(a, ((vpad, vpad), (hpad, hpad)), mode="edge")
    method = "fft" if k.size > 64 else "direct"
    full = signal.convolve(ap, k, mode="full", method=method)
    r0, c0 = k.shape[0] // 2, k.shape[1] // 2  # conv2 'same': the full result from floor(k/2)
    same = full[r0:r0 + ap.shape[0], c0:c0 + ap.shape[1]]
    return same[vpad:vpad + a.shape[0], hpad:hpad + a.shape[1]]


def gauss_kernel(std: float, nstds: float) -> np.ndarray:
    """``mygausskernel``: normpdf at -round(std*nstds)..round(std*nstds), summing to 1."""
    maxi = int(matlab_round(std * nstds))
    x = np.arange(0, maxi + 1, dtype=np.float64)
    a = np.exp(-0.5 * (x / std) ** 2) / (np.sqrt(2 * np.pi) * std)
    k = np.concatenate([a[:0:-1], a])
    return k / k.sum()


def attenuate_borders(data: np.ndarray, border: int) -> np.ndarray:
    """``attenuateBordersGBVS``: linear ramps 1/(b+1) .. b/(b+1) over ``border`` pixels per side."""
    result = np.array(data, dtype=np.float64)
    h, w = result.shape
    if border * 2 > h:
        border = h // 2
    if border * 2 > w:
        border = w // 2
    if border < 1:
        return result
    coeffs = np.arange(1, border + 1) / (border + 1)
    bs = np.arange(border)
    result[bs, :] *= coeffs[:, None]
    result[h - 1 - bs, :] *= coeffs[:, None]
    result[:, bs] *= coeffs[None, :]
    result[:, w - 1 - bs] *= coeffs[None, :]
    return result


def local_contrast(img: np.ndarray, m: int) -> np.ndarray:
    """``myContrast``: variance over an (2*floor(m/2)+1)^2 window, cut at the image border."""
    r = int(m / 2)
    ones = np.ones_like(img)
    size = 2 * r + 1
    box = lambda x: ndimage.uniform_filter(x, size=size, mode="constant", cval=0.0) * size * size  # noqa: E731
    n = box(ones)
    s = box(img)
    sq = box(img * img)
    mean = s / n
    return (sq - n * mean * mean) / n


def local_maxima(data: np.ndarray, thresh: float) -> tuple[float, int, float]:
    """``mexLocalMaximaGBVS``: (mean, count, sum) of interior points >= thresh and >= their 4
    neighbours."""
    c = data[1:-1, 1:-1]
    is_max = ((c >= thresh) & (c >= data[:-2, 1:-1]) & (c >= data[2:, 1:-1])
              & (c >= data[1:-1, :-2]) & (c >= data[1:-1, 2:]))
    total = float(c[is_max].sum())
    num = int(is_max.sum())
    return (total / num if total > 0 else 0.0), num, total


def max_normalize_std(data: np.ndarray) -> np.ndarray:
    """``maxNormalizeStdGBVS``: Itti's normalisation, (M - mean local maximum)^2, M = 10."""
    big = 10.0
    data = mat2gray(data) * big
    avg, num, _ = local_maxima(data, big / 10)
    if num > 1:
        return data * (big - avg) ** 2
    if num == 1:
        return data * big ** 2
    return data
