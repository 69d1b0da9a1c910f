"""MATLAB numeric conventions the reference procedures depend on."""

from __future__ import annotations

import numpy as np


def matlab_round(x):
    """Round half away from zero, as MATLAB's ``round`` (Python and numpy round half to even)."""
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)
