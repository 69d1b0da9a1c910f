"""MATLAB's ``imresize(A, [M N], 'bicubic')`` on 2-D float arrays, and GNU Octave's variant.

Why: the GBVS toolbox (``maps/gbvs.py``) resizes every feature map and its final map with
``imresize``; its maps are only reproduced to rounding level with the same arithmetic.

Both implementations resample one axis after the other with the Keys cubic kernel (a = -0.5);
output pixel ``x`` (1-based) samples the input at ``u = x / s + 0.5 * (1 - 1 / s)`` (``s`` the
axis' scale). When shrinking (``s < 1``) the kernel is stretched to ``s * cubic(s * d)`` (MATLAB's
default antialiasing), so its support is ``4 / s`` pixels. Samples beyond the border are mirrored
with the edge pixel repeated (``[1:n, n:-1:1]``, the ``aux`` indices of current MATLAB's
``imresize.m``; some older MATLAB releases clamped the indices to the edge instead, which changes
the border pixels of a shrink, and is not offered here).

The one difference (``normalize``): MATLAB divides each output pixel's weights by their sum;
Octave's image package (``imresize.m`` of image 2.14, ``conv_interp_vec``) does not. The cubic
kernel's samples sum to exactly 1 when enlarging and when shrinking by ``1/n`` (n integer), so the
two agree to rounding there; for any other shrink factor the weights sum to within about 1e-2 of
1 and Octave's result differs from MATLAB's by that relative amount. Order of the axes: MATLAB
resizes the axis with the smaller scale first (rows first on ties), Octave columns first; the
results differ only by rounding (the operations are linear).
"""

from __future__ import annotations

import numpy as np

from ..matlab import matlab_round


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's and Octave's ``cubic``)."""
    ax = np.abs(x)
    ax2 = ax * ax
    ax3 = ax2 * ax
    return ((1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2)))


def _mirror(idx: np.ndarray, n: int) -> np.ndarray:
    """0-based indices mirrored into 0..n-1 with the edge repeated (MATLAB ``[1:n, n:-1:1]``)."""
    m = np.mod(idx, 2 * n)
    return np.where(m < n, m, 2 * n - 1 - m)


def resize_weights(n_in: int, n_out: int, normalize: bool = True) -> np.ndarray:
    """The (n_out x n_in) matrix that resizes one axis (bicubic, antialiased when shrinking)."""
    scale = n_out / n_in
    u = 0.5 + 1.0 / scale / 2.0 + np.arange(n_out) / scale  # Octave's idx; = MATLAB's u
    width = 4.0 / scale if scale < 1 else 4.0
    pad = int(np.ceil(width / 2.0))
    base = np.floor(u)
    frac = u - base
    w = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    shifts = list(range(1 - pad, pad + 1))
    weights = []
    for shift in shifts:
        h = shift - frac
        weights.append(scale * cubic(scale * h) if scale < 1 else cubic(h))
    weights = np.stack(weights, axis=1)
    if normalize:
        weights = weights / weights.sum(axis=1, keepdims=True)
    for j, shift in enumerate(shifts):
        idx = _mirror(base.astype(np.int64) + shift - 1, n_in)  # 1-based -> 0-based
        np.add.at(w, (rows, idx), weights[:, j])
    return w


def imresize(a: np.ndarray, out_shape, normalize: bool = True) -> np.ndarray:
    """``imresize(a, [M N], 'bicubic')``; ``normalize=False`` gives GNU Octave's result.

    ``out_shape`` is (M, N); non-integer values are rounded up as both programs do.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"imresize: a 2-D array is needed, got shape {a.shape}")
    m, n = (int(np.ceil(v)) for v in out_shape)
    h, w = a.shape
    if (m, n) == (h, w):
        return a.copy()
    row_first = normalize and (m / h) <= (n / w)
    out = a
    for axis in ((0, 1) if row_first else (1, 0)):
        n_in, n_out = out.shape[axis], (m, n)[axis]
        if n_in == n_out:
            continue
        wts = resize_weights(n_in, n_out, normalize)
        out = wts @ out if axis == 0 else out @ wts.T
    return out


def scaled_size(shape, max_side: int) -> tuple[int, int]:
    """``round([h w] * max_side / max(w, h))`` with MATLAB rounding (GBVS's ``salmapsize``)."""
    h, w = shape[:2]
    scale = max_side / max(w, h)
    return int(matlab_round(h * scale)), int(matlab_round(w * scale))
