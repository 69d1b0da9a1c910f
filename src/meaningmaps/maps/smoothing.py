"""Gaussian smoothing with MATLAB ``imgaussfilt`` semantics.

``imgaussfilt(A, sigma)``: a separable Gaussian kernel ``exp(-x^2 / (2 sigma^2))`` normalised to
sum 1, of size ``2*ceil(2*sigma) + 1``, applied with 'replicate' padding (scipy's 'nearest').
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import correlate1d


def gaussian_kernel(sigma: float) -> np.ndarray:
    """The 1-D kernel imgaussfilt builds for ``sigma`` (default FilterSize 2*ceil(2*sigma)+1)."""
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    radius = int(np.ceil(2.0 * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-(x**2) / (2.0 * sigma**2))
    return k / k.sum()


def imgaussfilt(image: np.ndarray, sigma: float = 10.0) -> np.ndarray:
    """Port of MATLAB ``imgaussfilt(image, sigma)`` for a 2-D float image (computed in float64)."""
    a = np.asarray(image, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"imgaussfilt expects a 2-D map, got shape {a.shape}")
    k = gaussian_kernel(sigma)
    a = correlate1d(a, k, axis=0, mode="nearest")
    return correlate1d(a, k, axis=1, mode="nearest")
