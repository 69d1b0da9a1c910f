"""Map sources: every way a per-scene map comes to be, written as ``maps/<source>/<scene>.npy``.

* rating sources (human now; base, finetuned, probe later): per-patch ratings -> toolkit builder;
* external sources (``dataset.maps``): a folder of maps made elsewhere, checked and converted;
* ``center``: the centre-bias baseline, an isotropic Gaussian at the image centre.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InputError
from .external_maps import load_map
from .meaning_map import check_ratings_frame, meaning_map
from .patch_grid import PatchGrid, ScaleSpec


def map_from_ratings(ratings_csv, size: tuple[int, int], specs: list[ScaleSpec], sigma: float,
                     column: str = "rating") -> np.ndarray:
    """The toolkit's meaning map from a per-patch ratings CSV (column ``column`` as the rating)."""
    frame = pd.read_csv(ratings_csv)
    if column != "rating":
        if column not in frame.columns:
            raise InputError(ratings_csv, f"has no column {column!r}.")
        frame = frame.assign(rating=frame[column])
    grid = PatchGrid(size[0], size[1], specs)
    check_ratings_frame(frame, grid, ratings_csv)
    return meaning_map(frame, grid, sigma)


def imported_map(path, size: tuple[int, int]) -> np.ndarray:
    """A map made elsewhere, checked: 2-D, the scene's size, finite, not constant."""
    return load_map(path, shape=size)


def center_map(size: tuple[int, int], sigma_fraction: float) -> np.ndarray:
    from .metrics import center_bias_map

    return center_bias_map(size[0], size[1], sigma_fraction)
