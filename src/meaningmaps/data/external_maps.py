"""Per-scene maps made elsewhere (DeepGaze, GBVS, published meaning maps) as a map source.

Maps must be numeric: ``.npy``, ``.npz`` (one array, or the one ``variable`` names), a MATLAB
``.mat`` (v5, or v7.3/HDF5 read with h5py: :mod:`meaningmaps.data.mat_files`; one 2-D numeric
variable, or the one ``variable`` names), or a greyscale image: ``.png``, ``.jpg``/``.jpeg``, ``.tif``/``.tiff`` (8 or
16 bit, or 32-bit float TIFF). A colour image is refused: its colours are not values (correlating
a colour-mapped map was the seed code's mistake). An RGB file is taken only when its three channels
are exactly equal: a greyscale map saved as a colour JPEG differs between channels by a few codes
of chroma noise, and which channel (or mix) holds the map is not guessed.

Each source of ``dataset.maps`` is a folder, or ``{folder, transform, resize, variable}``
(:func:`map_source_settings`): ``transform: exp`` exponentiates log-density maps (DeepGaze writes
log densities; correlating the logs understates a model badly), ``resize: true`` resamples a map of
another size but the scene's aspect ratio to the scene (:func:`bilinear_resize`; a map of another
aspect, e.g. one stored transposed, is refused, :func:`same_aspect`), ``resize: stretch`` resamples
any size, ``variable`` names the array of a ``.npz`` or ``.mat`` that holds the map (ignored for
single-array formats).

Scoring needs non-negative maps (the KL divergence compares maps as distributions), so a map with
negative values after its transform (a z-scored map has both signs) is refused here, in the input
check, by the very test the KL divergence makes (``saliency_metrics.has_negative_values``), not in
the scoring job after every map was made.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import InputError
from ..evaluation.saliency_metrics import has_negative_values
from .empty_files import not_a_data_file
from .mat_files import loadmat, whosmat

log = logging.getLogger(__name__)

IMAGE_MAP_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
MAP_SUFFIXES = (".npy", ".npz", ".mat", *IMAGE_MAP_SUFFIXES)
TRANSFORMS = ("none", "exp")
RESIZES = (False, True, "stretch")
#: Pillow modes read as one grey value per pixel (LA: its grey channel; alpha ignored).
GREY_MODES = ("L", "LA", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")
#: Pillow modes taken only when their red, green and blue are equal at every pixel.
RGB_MODES = ("RGB", "RGBA", "P", "PA")
#: whosmat classes of numeric MATLAB matrices.
MAT_NUMERIC = ("double", "single", "logical", "int8", "uint8", "int16", "uint16", "int32", "uint32",
               "int64", "uint64")


def map_source_settings(maps: dict | None) -> dict[str, dict]:
    """``dataset.maps`` as {name: {folder, transform, resize, variable}}: a plain string is the folder;
    ``transform`` stays None when unset (then an all-negative map is refused, not taken as is);
    ``resize`` is False (unset), True (the scene's aspect ratio only) or "stretch" (any size);
    ``variable`` (the array of a .npz/.mat) is None when unset."""
    out = {}
    for name, spec in (maps or {}).items():
        spec = {"folder": spec} if isinstance(spec, str) else dict(spec)
        transform = spec.get("transform")
        if transform not in (None, *TRANSFORMS):
            raise InputError(f"dataset.maps.{name}.transform", f"must be one of {', '.join(TRANSFORMS)}, "
                             f"got {transform!r}.", "use exp for log densities, none to take the values as they are.")
        variable = spec.get("variable")
        if variable is not None and (not isinstance(variable, str) or not variable):
            raise InputError(f"dataset.maps.{name}.variable", f"must be a variable name, got {variable!r}.",
                             "name the array of the .npz or .mat files that holds the map, or remove the key.")
        resize = spec.get("resize", False)
        if not (isinstance(resize, bool) or resize == "stretch"):
            raise InputError(f"dataset.maps.{name}.resize", f"must be false, true or stretch, got {resize!r}.",
                             "true: resample a map of the scene's aspect ratio to its size; stretch: any size.")
        out[name] = {"folder": str(spec["folder"]), "transform": transform, "resize": resize, "variable": variable}
    return out


def same_aspect(shape, size) -> bool:
    """Whether a map of ``shape`` (h, w) is the scene's ``size`` (H, W) scaled by one factor, to within
    rounding of a pixel: some factor f has ``|f H - h| <= 1`` and ``|f W - w| <= 1`` (a map made at
    1/n of the scene's size rounds, floors or ceils each side)."""
    (h, w), (big_h, big_w) = (int(v) for v in shape), (int(v) for v in size)
    return max((h - 1) / big_h, (w - 1) / big_w) <= min((h + 1) / big_h, (w + 1) / big_w)


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


def map_size(path, variable: str | None = None, source: str = "<name>") -> tuple[int, int]:
    """(height, width) of a map file from its header (.npy, .npz and .mat headers, image headers),
    without reading the values; ``variable``/``source`` as for :func:`load_map`."""
    path = Path(path)
    _refuse_no_data(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        shape = _load_npy(path, mmap_mode="r").shape
    elif suffix in (".npz", ".mat"):
        npz = suffix == ".npz"
        found = npz_arrays(path) if npz else _mat_variables(path)
        shape = found[_choose(path, found, variable, source, npz=npz)][0]
    else:
        try:
            with Image.open(path) as im:
                return im.size[1], im.size[0]
        except (UnidentifiedImageError, OSError) as exc:
            raise InputError(path, f"is not a readable image map ({exc}).", _IMAGE_FIX) from exc
    if len(shape) != 2:
        raise InputError(path, f"map has shape {_dims(shape)}; it must be 2-D (H x W).", _NPY_FIX)
    _refuse_no_pixels(shape, path)
    return int(shape[0]), int(shape[1])


def _refuse_no_data(path: Path) -> None:
    """A folder named like a map, or an empty file, named for what it is."""
    why = not_a_data_file(path)
    if why:
        raise InputError(path, f"{why}, so it holds no map.", "replace it with the scene's map (re-copy it if the copy "
                         "was cut short), or remove it and leave its scene out with dataset.scenes.")


def _refuse_no_pixels(shape, path) -> None:
    """A 2-D map with no pixels (0 x W, H x 0): nothing to correlate, and no size to take."""
    if 0 in tuple(shape):
        raise InputError(path, f"map has shape {_dims(shape)}: it has no pixels.", _NPY_FIX)


_NPY_FIX = "save the map as a 2-D numeric array: np.save(path, np.asarray(the_map, dtype=np.float32))."
_IMAGE_FIX = ("export the map as greyscale: an 8- or 16-bit greyscale PNG or TIFF, a 32-bit float TIFF, or a "
              ".npy array.")
_MAT_FIX = "in MATLAB: save(path, 'map', '-v7') with map an H x W numeric matrix; or export a .npy array."


def _variable_fix(source: str, kind: str) -> str:
    return (f"set dataset.maps.{source}.variable to the {kind} that holds the map (write the source as "
            f"{{folder: ..., variable: <name>}}).")


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


def npz_arrays(path: Path) -> dict[str, tuple[tuple, str]]:
    """{name: (shape, dtype)} of a .npz file's arrays, from their headers only."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    found = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    if version in readers:
                        shape, _, dtype = readers[version](fh)
                    else:  # a rare header version: read this one array
                        with np.load(path, allow_pickle=False) as npz:
                            arr = npz[name]
                        shape, dtype = arr.shape, arr.dtype
                found[name] = (tuple(int(v) for v in shape), str(np.dtype(dtype)))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise InputError(path, f"cannot be read as a .npz archive of arrays ({exc}).",
                         "save the map with np.savez(path, map=the_map) or as a .npy array.") from exc
    return found


def _mat_variables(path: Path) -> dict[str, tuple[tuple, str]]:
    """{name: (shape, MATLAB class)} of a .mat file's variables (whosmat: headers only; v5 or v7.3)."""
    try:
        return {name: (tuple(int(v) for v in shape), cls) for name, shape, cls in whosmat(path)}
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 -- any parse failure is a bad input file
        raise InputError(path, f"cannot be read as a MATLAB .mat file ({type(exc).__name__}: {exc}).",
                         _MAT_FIX) from exc


def _listing(found: dict[str, tuple[tuple, str]]) -> str:
    return ", ".join(f"{name} {_dims(shape)} {kind}" for name, (shape, kind) in found.items()) or "nothing"


def _choose(path: Path, found: dict[str, tuple[tuple, str]], variable, source: str, npz: bool) -> str:
    """The name of the array that is the map: ``variable`` when set, else the only array of a .npz or
    the only 2-D numeric variable (both sides > 1) of a .mat. Several are never guessed between."""
    kind = "array" if npz else "variable"
    if variable is not None:
        if variable not in found:
            raise InputError(path, f"has no {kind} {variable!r} (dataset.maps.{source}.variable); it holds "
                             f"{_listing(found)}.", f"set dataset.maps.{source}.variable to one of: "
                             f"{', '.join(found) or '(none)'}.")
        if not npz and found[variable][1] not in MAT_NUMERIC:
            raise InputError(path, f"variable {variable!r} is a MATLAB {found[variable][1]}, not a numeric matrix.",
                             _MAT_FIX)
        return variable
    if npz:
        candidates = list(found)
        what = "arrays"
    else:
        candidates = [n for n, (shape, cls) in found.items()
                      if cls in MAT_NUMERIC and len(shape) == 2 and min(shape) > 1]
        what = "2-D numeric variables"
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise InputError(path, f"holds no {what[:-1]} (it holds {_listing(found)}).",
                         "save the map as an H x W array: np.savez(path, map=the_map)." if npz else _MAT_FIX)
    listed = {n: found[n] for n in candidates}
    raise InputError(path, f"holds {len(candidates)} {what} ({_listing(listed)}); which one is the map is not "
                     "guessed.", _variable_fix(source, kind))


def _load_npz(path: Path, variable, source: str) -> np.ndarray:
    """The map array of a .npz file (pickled object arrays refused unread)."""
    name = _choose(path, npz_arrays(path), variable, source, npz=True)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arr = npz[name]
    except ValueError as exc:
        raise InputError(path, f"array {name!r} holds pickled Python objects, not numbers; it is not read, as "
                         "unpickling can run code.", _NPY_FIX) from exc
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InputError(path, f"array {name!r} is a {arr.dtype} array, not a numeric one.", _NPY_FIX)
    return arr


def _load_mat(path: Path, variable, source: str) -> np.ndarray:
    """The map variable of a MATLAB .mat file, v5 or v7.3 (only that variable is read)."""
    name = _choose(path, _mat_variables(path), variable, source, npz=False)
    try:
        arr = loadmat(path, variable_names=[name])[name]
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 -- any parse failure is a bad input file
        raise InputError(path, f"variable {name!r} cannot be read ({type(exc).__name__}: {exc}).", _MAT_FIX) from exc
    if not isinstance(arr, np.ndarray) or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InputError(path, f"variable {name!r} is not a numeric matrix.", _MAT_FIX)
    return arr


def _load_image(path: Path) -> np.ndarray:
    """A greyscale image's values (8/16-bit integers, or float TIFF values) as they are stored."""
    try:
        with Image.open(path) as im:
            im.load()
            if getattr(im, "n_frames", 1) > 1:
                raise InputError(path, f"has {im.n_frames} pages (frames); a map is one greyscale image.",
                                 "save each map as a single-page image.")
            if im.mode in RGB_MODES:
                rgb = np.asarray(im.convert("RGB"), dtype=np.int16)
                spread = int(max(np.abs(rgb[..., 0] - rgb[..., 1]).max(), np.abs(rgb[..., 0] - rgb[..., 2]).max()))
                if spread:
                    raise InputError(path, "is a colour image: its colours are not map values"
                                     + (f" (its red, green and blue differ by at most {spread} codes, as in a "
                                        "greyscale map saved as a colour JPEG, whose colour compression adds such "
                                        "differences; which channel or mix holds the values is not guessed)."
                                        if spread <= NEAR_GREY_CODES else "."),
                                     _IMAGE_FIX + " A colour-mapped image (e.g. jet) cannot be read back as values.")
                return rgb[..., 0]
            if im.mode in GREY_MODES:
                return np.asarray(im.getchannel(0) if im.mode == "LA" else im)
            raise InputError(path, f"has unsupported image mode {im.mode}.", _IMAGE_FIX)
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(path, f"cannot be decoded as an image map ({exc}).", _IMAGE_FIX) from exc


#: An RGB map whose channels differ by at most this many codes is named as a greyscale map saved as
#: colour (in the message only: it is refused either way).
NEAR_GREY_CODES = 8


def load_map(path, shape=None, check: bool = True, variable: str | None = None,
             source: str = "<name>") -> np.ndarray:
    """Read a map as float64 H x W, checked (and against ``shape`` (H, W) when given);
    ``check=False``: only read (2-D, numeric), for a caller that transforms it first.
    ``variable``: the array of a .npz/.mat that is the map (``dataset.maps.<source>.variable``);
    ``source``: the dataset.maps name, for the config key in messages."""
    path = Path(path)
    _refuse_no_data(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        arr = _load_npy(path)
    elif suffix == ".npz":
        arr = _load_npz(path, variable, source)
    elif suffix == ".mat":
        arr = _load_mat(path, variable, source)
    else:
        arr = _load_image(path)
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 2:
        _refuse_no_pixels(arr.shape, path)
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
    return _dims(arr.shape)


def _dims(shape) -> str:
    return " x ".join(str(int(v)) for v in shape) or "() (a single number)"


#: exp() of a value above this overflows the float32 maps are stored as.
FLOAT32_EXP_MAX = float(np.log(np.finfo(np.float32).max))


def imported_map(path, size: tuple[int, int], *, source: str = "<name>", transform: str | None = None,
                 resize: bool | str = False, variable: str | None = None) -> np.ndarray:
    """A map made elsewhere as the scene's map: read (``variable``: the array's name in a .mat/.npz),
    checked (2-D, finite, not constant), transformed (``transform: exp`` for log densities), checked
    for negative values, resampled to ``size`` (H, W) if ``resize`` (True: only a map of the scene's
    aspect ratio, :func:`same_aspect`; ``"stretch"``: any), then checked again (the scene's size).
    ``source``: its ``dataset.maps`` name, for the config keys in messages.

    With ``transform`` unset a map whose values are all negative (max <= 0: a log density shifted
    to a maximum of 0 too) is refused: that is how a log density looks, and taken as is it
    correlates far worse than its density (issue 11: r 0.68-0.70 instead of 0.90-0.94). After the
    transform, a map with negative values (a z-scored map has both signs; ``transform: none`` of a
    log density) is refused, as the scoring job's KL divergence would refuse it.
    """
    arr = load_map(path, check=False, variable=variable, source=source)
    key = f"dataset.maps.{source}"
    check_map(arr, path)  # 2-D, NaN/inf, constant: "constant" before "negative" (an all-zero map)
    if transform is None and arr.max() <= 0:  # a log density shifted to max 0 looks the same
        raise InputError(path, f"every value of this map is negative (max {arr.max():.4g}): it looks like a log "
                         f"density (DeepGaze writes log densities), which as it is correlates far worse than the "
                         "density.", f"set `{key}.transform: exp` (write the source as "
                         f"{{folder: ..., transform: exp}}) if it is a log density, or `{key}.transform: none` to "
                         "take the values as they are.")
    if transform == "exp":
        arr = _exp(arr, path, key)
    check_signs(arr, path, key, transform)
    if tuple(arr.shape) != tuple(size):
        _check_resize(arr.shape, size, resize, path, key)
        log.info("%s: resized %dx%d -> %dx%d (WxH), bilinear with pixel centres aligned (%s.resize: %s)",
                 path, arr.shape[1], arr.shape[0], size[1], size[0], key, "stretch" if resize == "stretch" else "true")
        arr = bilinear_resize(arr, size)
    check_map(arr, path, size)
    return arr


def check_signs(arr: np.ndarray, path, key: str, transform: str | None) -> None:
    """Refuse a map with negative values as scoring reads it (stored as float32): the test of the
    scoring job's KL divergence (``saliency_metrics.has_negative_values``), so the two cannot disagree."""
    if not has_negative_values(np.asarray(arr, dtype=np.float32)):
        return
    lo, hi = float(arr.min()), float(arr.max())
    if hi > 0:
        held = (f"has both signs (values {lo:.4g} to {hi:.4g}): a z-scored or mean-centred map, whose negative "
                "values")
    else:
        held = f"is negative everywhere (values {lo:.4g} to {hi:.4g}; {key}.transform is {transform}), whose values"
    raise InputError(path, f"this map {held} the scoring cannot take: the KL divergence (scores.csv kl_divergence) "
                     "compares maps as distributions, which needs non-negative values, so the run would stop in "
                     "scoring after every map was made.",
                     f"export the map's non-negative values (a density or saliency before any z-scoring); if it is a "
                     f"log density, set `{key}.transform: exp`.")


def _check_resize(shape, size, resize, path, key: str) -> None:
    """Refuse resampling a map of ``shape`` to the scene's ``size`` unless ``resize`` allows it."""
    got = f"map is {shape[1]}x{shape[0]} (WxH) but the scene is {size[1]}x{size[0]}"
    if not resize:
        raise InputError(path, f"{got}.", f"set `{key}.resize: true` to resample it to the scene (bilinear), or make "
                         "the map at the scene's resolution.")
    if resize == "stretch" or same_aspect(shape, size):
        return
    transposed = " (its width and height swapped: a map stored transposed?)" if same_aspect(shape[::-1], size) else ""
    raise InputError(path, f"{got}: their aspect ratios differ (width / height {shape[1] / shape[0]:.4g} against "
                     f"{size[1] / size[0]:.4g}){transposed}, so `{key}.resize: true` would stretch it.",
                     f"store the map at the scene's aspect ratio (a transposed array: save its transpose, m.T), or "
                     f"set `{key}.resize: stretch` if the map really covers the scene at another aspect ratio.")


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
