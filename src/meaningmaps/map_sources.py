"""Map sources: every way a per-scene map comes to be, written as ``maps/<source>/<scene>.npy``.

* rating sources (human now; base, finetuned, probe later): per-patch ratings -> toolkit builder;
* external sources (``dataset.maps``): a folder of maps made elsewhere, checked and converted;
* ``center``: the centre-bias baseline, an isotropic Gaussian at the image centre.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .errors import InputError
from .external_maps import bilinear_resize, check_map, load_map
from .meaning_map import check_ratings_frame, meaning_map
from .patch_grid import PatchGrid, ScaleSpec

log = logging.getLogger(__name__)
#: exp() of a value above this overflows the float32 maps are stored as.
FLOAT32_EXP_MAX = float(np.log(np.finfo(np.float32).max))


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


def imported_map(path, size: tuple[int, int], *, source: str = "<name>", transform: str | None = None,
                 resize: bool = False, variable: str | None = None) -> np.ndarray:
    """A map made elsewhere as the scene's map: read (``variable``: the array's name in a .mat/.npz), transformed (``transform: exp`` for log
    densities), resampled to ``size`` (H, W) if ``resize``, then checked (2-D, the scene's size,
    finite, not constant). ``source``: its ``dataset.maps`` name, for the config keys in messages.

    With ``transform`` unset a map whose values are all negative (max <= 0: a log density shifted
    to a maximum of 0 too) is refused: that is how a log density looks, and taken as is it
    correlates far worse than its density (issue 11: r 0.68-0.70 instead of 0.90-0.94).
    ``transform: none`` takes such a map as it is.
    """
    arr = load_map(path, check=False, variable=variable, source=source)
    key = f"dataset.maps.{source}"
    if not np.isfinite(arr).all():
        check_map(arr, path)  # names the NaN/inf count
    if transform is None and arr.max() <= 0:  # a log density shifted to max 0 looks the same
        raise InputError(path, f"every value of this map is negative (max {arr.max():.4g}): it looks like a log "
                         f"density (DeepGaze writes log densities), which as it is correlates far worse than the "
                         "density.", f"set `{key}.transform: exp` (write the source as "
                         f"{{folder: ..., transform: exp}}) if it is a log density, or `{key}.transform: none` to "
                         "take the values as they are.")
    if transform == "exp":
        arr = _exp(arr, path, key)
    if tuple(arr.shape) != tuple(size):
        if not resize:
            raise InputError(path, f"map is {arr.shape[1]}x{arr.shape[0]} (WxH) but the scene is {size[1]}x{size[0]}.",
                             f"set `{key}.resize: true` to resample it to the scene (bilinear), or make the map at "
                             "the scene's resolution.")
        log.info("%s: resized %dx%d -> %dx%d (WxH), bilinear with pixel centres aligned (%s.resize)",
                 path, arr.shape[1], arr.shape[0], size[1], size[0], key)
        arr = bilinear_resize(arr, size)
    check_map(arr, path, size)
    return arr


def _exp(arr: np.ndarray, path, key: str) -> np.ndarray:
    """exp of a log-density map, refusing values whose exp overflows the stored float32."""
    if arr.max() > FLOAT32_EXP_MAX:
        raise InputError(path, f"{key}.transform is exp, but the map has values up to {arr.max():.4g}, whose exp "
                         "overflows: this is not a log density.", f"remove {key}.transform (or set it to none).")
    if arr.max() > 0:
        log.warning("%s: %s.transform exp: values up to %.4g > 0, so this is no normalised log density",
                    path, key, arr.max())
    log.info("%s: exponentiated (%s.transform: exp)", path, key)
    return np.exp(arr)


def center_map(size: tuple[int, int], sigma_fraction: float) -> np.ndarray:
    from .metrics import center_bias_map

    return center_bias_map(size[0], size[1], sigma_fraction)
