"""Per-scene maps made elsewhere (DeepGaze, GBVS, published meaning maps) as a map source.

Maps must be numeric: ``.npy`` (2-D float) or a greyscale PNG (8 or 16 bit). A colour-mapped PNG is
refused: its colours are not values, and correlating them was the seed code's mistake.

Each source of ``dataset.maps`` is a folder, or ``{folder, transform, resize}``
(:func:`map_source_settings`): ``transform: exp`` exponentiates log-density maps (DeepGaze writes
log densities; correlating the logs understates a model badly), ``resize: true`` resamples a map of
another size to the scene (:func:`bilinear_resize`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import InputError

MAP_SUFFIXES = (".npy", ".png")
TRANSFORMS = ("none", "exp")


def map_source_settings(maps: dict | None) -> dict[str, dict]:
    """``dataset.maps`` as {name: {folder, transform, resize}}: a plain string is the folder;
    ``transform`` stays None when unset (then an all-negative map is refused, not taken as is)."""
    out = {}
    for name, spec in (maps or {}).items():
        spec = {"folder": spec} if isinstance(spec, str) else dict(spec)
        transform = spec.get("transform")
        if transform not in (None, *TRANSFORMS):
            raise InputError(f"dataset.maps.{name}.transform", f"must be one of {', '.join(TRANSFORMS)}, "
                             f"got {transform!r}.", "use exp for log densities, none to take the values as they are.")
        out[name] = {"folder": str(spec["folder"]), "transform": transform, "resize": bool(spec.get("resize", False))}
    return out


def bilinear_resize(arr: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``arr`` resampled to ``shape`` (H, W) by bilinear interpolation with pixel centres aligned
    (output pixel i samples input position (i + 0.5) * n_in / n_out - 0.5, edges held: OpenCV's
    INTER_LINEAR, MATLAB imresize bilinear without antialiasing). One axis at a time, float64."""
    out = np.array(arr, dtype=np.float64)  # a copy, even when no axis changes
    for axis, n in enumerate(shape):
        m = out.shape[axis]
        if m == n:
            continue
        pos = np.clip((np.arange(n) + 0.5) * (m / n) - 0.5, 0, m - 1)
        i0 = np.floor(pos).astype(np.int64)
        i1 = np.minimum(i0 + 1, m - 1)
        t = (pos - i0).reshape((n, 1) if axis == 0 else (1, n))
        out = np.take(out, i0, axis=axis) * (1 - t) + np.take(out, i1, axis=axis) * t
    return out


def map_size(path) -> tuple[int, int]:
    """(height, width) of a map file without reading all of it."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        arr = _load_npy(path, mmap_mode="r")
        if arr.ndim != 2:
            raise InputError(path, f"is a {arr.ndim}-D array; a map must be 2-D (H x W).", _NPY_FIX)
        return tuple(int(v) for v in arr.shape)
    try:
        with Image.open(path) as im:
            return im.size[1], im.size[0]
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(path, f"is not a readable PNG map ({exc}).", _PNG_FIX) from exc


_NPY_FIX = "save the map as a 2-D numeric array: np.save(path, np.asarray(the_map, dtype=np.float32))."
_PNG_FIX = "export the map as a greyscale PNG (8 or 16 bit) or a .npy array."


def _load_npy(path: Path, mmap_mode=None) -> np.ndarray:
    """A .npy file's numeric array; pickled objects (a dict, a list of arrays) are refused unread."""
    try:
        arr = np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc) or "object" in str(exc).lower():
            raise InputError(path, "holds pickled Python objects (e.g. a dict or a list), not a numeric array; it is "
                             "not read, as unpickling can run code.", _NPY_FIX) from exc
        raise InputError(path, f"cannot be read as a .npy array ({exc}).", _NPY_FIX) from exc
    except Exception as exc:  # a truncated or foreign file: numpy raises several types
        raise InputError(path, f"cannot be read as a .npy array ({exc}).", _NPY_FIX) from exc
    if not isinstance(arr, np.ndarray) or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        kind = type(arr).__name__ if not isinstance(arr, np.ndarray) else f"a {arr.dtype} array"
        raise InputError(path, f"holds {kind}, not a numeric array.", _NPY_FIX)
    return arr


def load_map(path, shape=None, check: bool = True) -> np.ndarray:
    """Read a map as float64 H x W, checked (and against ``shape`` (H, W) when given);
    ``check=False``: only read (2-D, numeric), for a caller that transforms it first."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        arr = _load_npy(path)
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
                    raise InputError(path, f"has unsupported image mode {im.mode}.", _PNG_FIX)
        except (UnidentifiedImageError, OSError) as exc:
            raise InputError(path, f"cannot be decoded as a PNG map ({exc}).", _PNG_FIX) from exc
    arr = np.asarray(arr, dtype=np.float64)
    if check:
        check_map(arr, path, shape)
    elif arr.ndim != 2:
        raise InputError(path, f"map has shape {_shape(arr)}; it must be 2-D (H x W).", _NPY_FIX)
    return arr


def check_map(arr: np.ndarray, path=None, shape=None) -> None:
    """A usable map is 2-D, finite and not constant (Pearson r is undefined otherwise)."""
    if arr.ndim != 2:
        raise InputError(path, f"map has shape {_shape(arr)}; it must be 2-D (H x W).", _NPY_FIX)
    if shape is not None and tuple(arr.shape) != tuple(shape):
        raise InputError(path, f"map is {arr.shape[1]}x{arr.shape[0]} (WxH) but the scene is {shape[1]}x{shape[0]}.",
                         "make the map at the scene's resolution.")
    if not np.isfinite(arr).all():
        raise InputError(path, f"map has {int((~np.isfinite(arr)).sum())} NaN or infinite values of {arr.size}.",
                         "re-export the map with a finite value at every pixel (NaN often marks pixels the model "
                         "skipped: give them the map's minimum), or leave the scene out with dataset.scenes.")
    if arr.max() == arr.min():
        raise InputError(path, f"map is constant (every pixel {float(arr.flat[0]):g}), so its correlation with "
                         "attention is undefined.",
                         "re-export the map (a constant map is usually a failed export or a blank image), or "
                         "leave the scene out with dataset.scenes.")


def _shape(arr: np.ndarray) -> str:
    return " x ".join(str(int(v)) for v in arr.shape) or "() (a single number)"
