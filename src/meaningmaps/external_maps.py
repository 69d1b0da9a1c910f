"""Per-scene maps made elsewhere (DeepGaze, GBVS, published meaning maps) as a map source.

Maps must be numeric: ``.npy`` (2-D float) or a greyscale PNG (8 or 16 bit). A colour-mapped PNG is
refused: its colours are not values, and correlating them was the seed code's mistake.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import InputError

MAP_SUFFIXES = (".npy", ".png")


def map_size(path) -> tuple[int, int]:
    """(height, width) of a map file without reading all of it."""
    path = Path(path)
    if path.suffix == ".npy":
        arr = np.load(path, mmap_mode="r")
        if arr.ndim != 2:
            raise InputError(path, f"is a {arr.ndim}-D array; a map must be 2-D (H x W).")
        return arr.shape
    try:
        with Image.open(path) as im:
            return im.size[1], im.size[0]
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(path, f"is not a readable PNG map ({exc}).") from exc


def load_map(path, shape=None) -> np.ndarray:
    """Read a map as float64 H x W, checked (and against ``shape`` (H, W) when given)."""
    path = Path(path)
    if path.suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except Exception as exc:
            raise InputError(path, f"cannot be read as a .npy array ({exc}).") from exc
    else:
        try:
            with Image.open(path) as im:
                im.load()
                if im.mode in ("RGB", "RGBA", "P"):
                    rgb = np.asarray(im.convert("RGB"), dtype=np.float64)
                    if not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])):
                        raise InputError(path, "is a colour image: its colours are not map values.",
                                         "export the map as a greyscale PNG or a .npy array.")
                    arr = rgb[..., 0]
                elif im.mode in ("L", "I", "I;16", "F", "LA"):
                    arr = np.asarray(im.getchannel(0) if im.mode == "LA" else im, dtype=np.float64)
                else:
                    raise InputError(path, f"has unsupported image mode {im.mode}.",
                                     "export the map as a greyscale PNG or a .npy array.")
        except (UnidentifiedImageError, OSError) as exc:
            raise InputError(path, f"cannot be decoded as a PNG map ({exc}).") from exc
    arr = np.asarray(arr, dtype=np.float64)
    check_map(arr, path, shape)
    return arr


def check_map(arr: np.ndarray, path=None, shape=None) -> None:
    """A usable map is 2-D, finite and not constant (Pearson r is undefined otherwise)."""
    if arr.ndim != 2:
        raise InputError(path, f"map has shape {arr.shape}; it must be 2-D (H x W).")
    if shape is not None and tuple(arr.shape) != tuple(shape):
        raise InputError(path, f"map is {arr.shape[1]}x{arr.shape[0]} (WxH) but the scene is {shape[1]}x{shape[0]}.",
                         "make the map at the scene's resolution.")
    if not np.isfinite(arr).all():
        raise InputError(path, f"map has {int((~np.isfinite(arr)).sum())} NaN or infinite values.")
    if arr.max() == arr.min():
        raise InputError(path, "map is constant, so its correlation with attention is undefined.")
