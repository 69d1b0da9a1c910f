"""Attention maps: fixation counts per pixel, blurred as in the MIT saliency benchmark.

Henderson & Hayes (2017) compare meaning maps with *attention maps*: the fixations of all
participants on a scene are counted per pixel and the count map is low-pass filtered with
Torralba's ``antonioGaussian.m`` (from the MIT saliency benchmark's ``code_forMetrics``) at a
cut-off of ``fc = 6`` cycles per image. The published correlations depend on that exact filter,
including its quirks, so :func:`antonio_gaussian` ports it line by line:

* the image is zero-padded at the bottom/right to an ``n x n`` square, ``n`` the next power of two
  of the larger side (made even first);
* the filter is the Gaussian transfer function ``exp(-(fx^2 + fy^2) / s^2)``, ``s = fc /
  sqrt(log 2)``, over integer frequencies ``fx, fy = -n/2 .. n/2 - 1`` (cycles per padded image),
  so its gain is 1 at DC (the map's sum is kept) and 0.5 (-6 dB) at radius ``fc``;
* it is applied by FFT, i.e. as a *circular* convolution on the ``n x n`` torus, and the
  top-left ``H x W`` block is kept. Mass blurred across the bottom/right edge of the padded
  square therefore re-enters at the top/left (wrap-around). For a 768 x 1024 scene (n = 1024) the
  rows have only 256 zero rows of padding and the columns none, so fixations near the left and
  right edges leak into each other.

:func:`antonio_gaussian_nowrap` is the same filter without wrap-around, for sensitivity
analyses; :func:`attention_map` builds a scene's map from the tidy fixation table of
``fixations.py``. Maps are returned unnormalised (blurred counts or blurred durations, in the
units of the input) and in float64.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.fft

from ..errors import InputError
from ..matlab import matlab_round

WEIGHTS = ("count", "duration")


def fixation_map(fix_rows, fix_cols, height: int, width: int, weights=None) -> np.ndarray:
    """Per-pixel fixation count (or summed ``weights``, e.g. durations), float64 ``height x width``.

    Positions are 1-based pixel coordinates; a fixation falls on the 0-based element
    ``[round(row) - 1, round(col) - 1]`` with MATLAB's ``round`` (half away from zero), so
    row 2.5 lands on index 2. Repeated pixels accumulate. Off-image or non-finite positions raise
    ``ValueError`` (use ``fixations.check_fixations`` first for a message that names the file).
    """
    height, width = _size(height, width)
    r = np.asarray(fix_rows, dtype=np.float64).reshape(-1)
    c = np.asarray(fix_cols, dtype=np.float64).reshape(-1)
    if r.shape != c.shape:
        raise ValueError(f"{r.size} fixation rows but {c.size} columns")
    if not (np.isfinite(r).all() and np.isfinite(c).all()):
        raise ValueError("fixation positions must be finite (found NaN or inf)")
    ri = matlab_round(r).astype(np.int64) - 1
    ci = matlab_round(c).astype(np.int64) - 1
    off = (ri < 0) | (ri >= height) | (ci < 0) | (ci >= width)
    if off.any():
        k = int(np.argmax(off))
        raise ValueError(f"{int(off.sum())} fixation(s) outside the {height} x {width} image "
                         f"(e.g. row {r[k]:g}, col {c[k]:g}; positions are 1-based pixels)")
    if weights is None:
        w = None
    else:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if w.shape != r.shape:
            raise ValueError(f"{w.size} weights for {r.size} fixations")
        if not np.isfinite(w).all():
            raise ValueError("fixation weights must be finite (found NaN or inf)")
    counts = np.bincount(ri * width + ci, weights=w, minlength=height * width)
    return counts.astype(np.float64, copy=False).reshape(height, width)


def _size(height, width) -> tuple[int, int]:
    if int(height) != height or int(width) != width or height < 1 or width < 1:
        raise ValueError(f"height and width must be positive integers, got {height} x {width}")
    return int(height), int(width)


def _as_image(img) -> np.ndarray:
    a = np.asarray(img, dtype=np.float64)
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"expected a non-empty 2-D map, got shape {a.shape}")
    return a


def _check_fc(fc) -> float:
    fc = float(fc)
    if not (np.isfinite(fc) and fc > 0):
        raise ValueError(f"fc must be a positive number of cycles per image, got {fc}")
    return fc


def padded_size(height: int, width: int) -> int:
    """``antonioGaussian``'s FFT size: ``n = max(H, W); n += mod(n, 2); n = 2^ceil(log2(n))``."""
    n = max(int(height), int(width))
    n = n + n % 2
    return int(2 ** int(np.ceil(np.log2(n))))


def gaussian_transfer(n: int, fc: float) -> np.ndarray:
    """``fftshift(gf)`` of ``antonioGaussian``: the n x n transfer function in FFT order.

    ``gf = exp(-(fx^2 + fy^2) / s^2)`` with ``s = fc / sqrt(log 2)`` on the grid
    ``fx, fy = (0:n-1) - n/2``; for even ``n`` MATLAB's ``fftshift`` equals ``np.fft.fftshift``.
    """
    if n % 2:
        raise ValueError(f"n must be even, got {n}")
    s = _check_fc(fc) / np.sqrt(np.log(2.0))
    f = np.arange(n, dtype=np.float64) - n / 2
    fx, fy = np.meshgrid(f, f)  # MATLAB meshgrid(0:n-1, 0:n-1): fx varies along columns
    gf = np.exp(-(fx**2 + fy**2) / (s**2))
    return np.fft.fftshift(gf)


def antonio_gaussian(img, fc: float) -> np.ndarray:
    """Port of Torralba's ``antonioGaussian.m`` (MIT saliency benchmark, code_forMetrics).

    ``img`` (H x W) is zero-padded at the bottom/right to ``n x n`` (``n`` from
    :func:`padded_size`), multiplied in the Fourier domain by :func:`gaussian_transfer` (``fc`` =
    -6 dB cut-off in cycles per padded image; Henderson & Hayes used 6) and the top-left H x W
    block of the real part is returned: a circular convolution, with the original's wrap-around
    across opposite edges. float64 throughout (complex128 FFTs; scipy.fft, which agrees with
    numpy.fft to rounding and is faster).
    """
    a = _as_image(img)
    sn, sm = a.shape
    n = padded_size(sn, sm)
    gf = gaussian_transfer(n, fc)
    bf = np.real(scipy.fft.ifft2(scipy.fft.fft2(a, s=(n, n)) * gf))
    return np.ascontiguousarray(bf[:sn, :sm])


def antonio_gaussian_nowrap(img, fc: float) -> np.ndarray:
    """``antonio_gaussian`` without wrap-around (zero padding on all sides).

    The H x W image is placed at the centre (offsets ``(n2 - H) // 2``, ``(n2 - W) // 2``) of an
    ``n2 x n2`` zero array, ``n2 = 2^ceil(log2(2 * max(H, W)))``, filtered with the same Gaussian
    transfer function but with ``fc`` scaled by ``n2 / n`` (``n`` the original's padded size, see
    :func:`padded_size`), so that the spatial kernel has the same width in pixels as in
    :func:`antonio_gaussian`; the image region is cropped back. With at least ``max(H, W)`` zeros
    between opposite edges on the torus, mass that leaves the image is lost instead of re-entering
    at the opposite edge (the map's sum is then no longer kept near edges).
    """
    a = _as_image(img)
    h, w = a.shape
    n = padded_size(h, w)
    n2 = int(2 ** int(np.ceil(np.log2(2 * max(h, w)))))
    r0, c0 = (n2 - h) // 2, (n2 - w) // 2
    padded = np.zeros((n2, n2), dtype=np.float64)
    padded[r0:r0 + h, c0:c0 + w] = a
    gf = gaussian_transfer(n2, _check_fc(fc) * n2 / n)
    bf = np.real(scipy.fft.ifft2(scipy.fft.fft2(padded) * gf))
    return np.ascontiguousarray(bf[r0:r0 + h, c0:c0 + w])


def attention_map(fix: pd.DataFrame, height: int, width: int, fc: float = 6.0, weight: str = "count",
                  wrap: bool = True) -> np.ndarray:
    """A scene's attention map: its fixation map blurred by ``antonio_gaussian`` (float64 H x W).

    ``fix``: the tidy fixation table (``fixations.load_fixations``) of one scene, all subjects
    pooled, already checked against the image size (``fixations.check_fixations``).
    ``weight="count"`` counts fixations (Henderson & Hayes 2017); ``"duration"`` sums their
    durations in ms instead, and needs every duration. ``wrap=False`` uses
    :func:`antonio_gaussian_nowrap`. A scene without fixations gives an all-zero map.
    """
    height, width = _size(height, width)
    if weight not in WEIGHTS:
        raise ValueError(f"weight must be one of {WEIGHTS}, got {weight!r}")
    if "scene" in fix.columns and fix["scene"].nunique() > 1:
        raise ValueError(f"attention_map takes one scene's fixations, got scenes "
                         f"{sorted(fix['scene'].unique())[:5]}")
    weights = fixation_weights(fix) if weight == "duration" else None
    fmap = fixation_map(fix["row"].to_numpy(dtype=np.float64), fix["col"].to_numpy(dtype=np.float64),
                        height, width, weights=weights)
    return blur_fixation_map(fmap, fc=fc, wrap=wrap)


def blur_fixation_map(fmap, fc: float = 6.0, wrap: bool = True) -> np.ndarray:
    """A fixation map (counts or summed durations per pixel) blurred into an attention map:
    :func:`antonio_gaussian`, or :func:`antonio_gaussian_nowrap` for ``wrap=False``."""
    return antonio_gaussian(fmap, fc) if wrap else antonio_gaussian_nowrap(fmap, fc)


def fixation_weights(fix: pd.DataFrame) -> np.ndarray:
    """The durations (ms, float64) that weight a duration-weighted map; every fixation needs one, >= 0."""
    source = fix.attrs.get("source")
    if "duration" not in fix.columns:
        raise InputError(source, "duration weighting needs fixation durations; the table has none.",
                         "use attention weight: count, or give a duration column (ms).")
    weights = fix["duration"].to_numpy(dtype=np.float64)
    missing = ~np.isfinite(weights)
    if missing.any():
        scene = fix["scene"].iloc[0] if "scene" in fix.columns and len(fix) else "?"
        raise InputError(source, f"scene {scene!r}: {int(missing.sum())} of {len(fix)} fixation(s) have "
                         "no duration, so a duration-weighted attention map is undefined.",
                         "use attention weight: count, or give every fixation a duration (ms).")
    if (weights < 0).any():
        raise InputError(source, "negative fixation durations.", "durations are in ms, >= 0.")
    return weights
