"""The ``center`` map source: the centre-bias baseline, an isotropic Gaussian at the image centre.

The other centre bias, ``center_empirical`` (the other scenes' fixations), is
:mod:`meaningmaps.maps.empirical_center`.
"""

from __future__ import annotations

import numpy as np


def center_bias_map(height: int, width: int, sigma_fraction: float) -> np.ndarray:
    """Isotropic Gaussian centre-bias map of shape (height, width), float64, maximum exactly 1.

    Centre: ((H-1)/2, (W-1)/2) in 0-based pixel coordinates (= ((H+1)/2, (W+1)/2) 1-based).
    Width: ``sigma = sigma_fraction * max(height, width)`` pixels, in both directions.
    The map is divided by its sampled maximum (a no-op for odd sizes, where a pixel sits on the
    centre), which does not affect any correlation.
    """
    for name, v in (("height", height), ("width", width)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if not (np.isfinite(sigma_fraction) and sigma_fraction > 0):
        raise ValueError(f"sigma_fraction must be a positive finite number, got {sigma_fraction!r}")
    height, width = int(height), int(width)
    sigma = float(sigma_fraction) * max(height, width)
    dy = np.arange(height, dtype=np.float64) - (height - 1) / 2.0
    dx = np.arange(width, dtype=np.float64) - (width - 1) / 2.0
    g = np.exp(-(dy[:, None] ** 2 + dx[None, :] ** 2) / (2.0 * sigma**2))
    return g / g.max()
