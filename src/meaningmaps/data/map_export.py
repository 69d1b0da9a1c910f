"""A map in the formats other tools read (config ``maps.formats``): MATLAB and log densities.

* ``mat``: a MATLAB v5 ``.mat`` file holding one variable, :data:`MAT_VARIABLE` (``map``), the H x W
  map as ``double`` (the float32 values exactly). One variable, because pysaliency's
  ``SaliencyMapModelFromDirectory`` refuses a ``.mat`` with several, and ``load(f)`` in MATLAB or
  Octave then gives ``map``; v5, because ``scipy.io.loadmat`` and every MATLAB and Octave read it.
* ``log_density``: the map as a fixation density, ``log p`` (float64 ``.npy``) with ``exp`` summing to
  1 over the image, as DeepGaze writes and pysaliency's ``ModelFromDirectory`` reads (it checks that
  ``logsumexp`` is 0 within 0.01). The density is pysaliency's own conversion of a saliency map
  (``pysaliency.metrics.convert_saliency_map_to_density``): a map with negative values is shifted to
  a minimum of 0, :data:`MINIMUM_VALUE` is added to every pixel, and the map is divided by its sum.
  Zeros: a pixel whose map value is 0 (the minimum of a shifted map, or a map that is 0 somewhere)
  gets density ``1e-20 / sum``, a finite log density (about ``-46 - log(sum)``) instead of
  ``log 0 = -inf`` (pysaliency's ``SaliencyMapNormalizingModel`` default, ``minimum_value=0``, gives
  ``-inf`` there, and then any fixation on such a pixel makes the log-likelihood ``-inf``). On
  pixels above 0 the added 1e-20 changes nothing at float64 precision unless the map's values are
  themselves below about 1e-4. This is a fixed rule, not a fitted model: it turns a map into a
  density as it is; a calibrated density of a saliency map (a fitted nonlinearity, blur and centre
  bias) is pysaliency's ``SaliencyMapConvertor``.

Each format goes to a folder of its own, one file per scene (``formats/<format>/<source>/<scene>``),
so every folder is a map folder as the tools expect it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import atomic_path, save_npy
from ..errors import InputError

#: the one variable of an exported .mat file
MAT_VARIABLE = "map"
#: added to every pixel before normalising (pysaliency's image-based KL divergence default)
MINIMUM_VALUE = 1e-20
#: format name -> file suffix
FORMATS = {"mat": ".mat", "log_density": ".npy"}


def export_paths(results, formats, sources, scenes) -> list[str]:
    """Every exported file of these sources and scenes under ``results`` (none without formats)."""
    return [f"{results}/formats/{fmt}/{source}/{scene}{FORMATS[fmt]}"
            for fmt in formats for source in sources for scene in scenes]


def log_density(array) -> np.ndarray:
    """``log p`` (float64) of the map as a fixation density (see the module docstring):
    ``m - min(m, 0)`` plus :data:`MINIMUM_VALUE`, divided by its sum; ``exp`` sums to 1."""
    m = np.asarray(array, dtype=np.float64)
    if m.ndim != 2 or not np.isfinite(m).all():
        raise InputError(None, f"a map to export must be a finite 2-D array (got shape {m.shape}, "
                         f"{int((~np.isfinite(m)).sum())} non-finite values).", "export a checked map.")
    if m.min() < 0:
        m = m - m.min()
    m = m + MINIMUM_VALUE
    with np.errstate(divide="ignore"):
        out = np.log(m) - np.log(m.sum())
    return out


def save_mat(path, array) -> None:
    """The map as a MATLAB v5 .mat file with the one variable :data:`MAT_VARIABLE` (double)."""
    import scipy.io

    with atomic_path(path, suffix=".mat") as tmp:
        scipy.io.savemat(tmp, {MAT_VARIABLE: np.asarray(array, dtype=np.float64)}, format="5",
                         do_compression=True)


def export_map(npy, fmt: str, out) -> None:
    """Write the map ``npy`` (a ``maps/<source>/<scene>.npy``) in format ``fmt`` to ``out``."""
    if fmt not in FORMATS:
        raise InputError("maps.formats", f"unknown format {fmt!r}.", f"use one of {', '.join(FORMATS)}.")
    array = np.load(npy, allow_pickle=False)
    if fmt == "mat":
        save_mat(out, array)
    else:
        save_npy(Path(out), log_density(array))
