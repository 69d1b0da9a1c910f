"""Graph-Based Visual Saliency (Harel, Koch & Perona 2006), step for step as Harel's MATLAB toolbox.

Why: Henderson & Hayes (2017) compare meaning maps with GBVS salience (``gbvs.m`` with
``makeGBVSParams`` defaults, ``out.master_map_resized``). This module is that computation in
numpy/scipy, in the toolbox's order and arithmetic (checked against the toolbox run under GNU
Octave: ``tests/data/gbvs_octave/``):

1. ``initGBVS``: ``salmapsize = round([h w] * salmapmaxsize / max(h, w))``; the graph's squared
   distances between map locations (``graphsalinit``, single lattice: ``multilevels`` []); Gabor
   filters.
2. ``getFeatureMaps``: image pyramids of intensity ``max(r, g, b)`` and of R, G, B by
   ``mySubsample`` (levels 1 .. max level, stopping below 3 px); per channel (files in
   alphabetical order: C, D, I, O, R) and type, a map at each level 2 .. max, resized to
   ``salmapsize`` (``imresize`` bicubic).
3. Activation (``graphsalapply``, algtype 2): a fully connected Markov chain over the map's
   locations, weight ``exp(-d^2 / (2 sigma^2)) * |a_i - a_j|`` (sigma = ``sigma_frac_act`` x the
   mean map side, the map first ``mat2gray``-ed), columns normalised, equilibrium by power
   iteration from the uniform vector until ``||v_k - v_{k-1}|| <= tol``.
4. Normalisation: ``normalizationType`` 1 raises to the power 1.5 (default), 2 is the graph
   scheme (algtype 1, ``sigma_frac_norm``, ``num_norm_iters``), 3 Itti's local-maxima scheme.
5. Sum within each channel, weighted sum over channels, ``attenuateBordersGBVS(.., 4)``,
   ``mat2gray``; blur with a Gaussian of sd ``blurfrac`` x the larger map side (``mygausskernel``,
   2 sds, edge-replicating ``myconv2``), ``mat2gray``; ``master_map_resized =
   mat2gray(imresize(master_map, [h w]))``.

``useIttiKochInsteadOfGBVS`` gives the toolbox's Itti-Koch-Niebur variant (centre-surround
activation, normalisation 3, top-level normalisation, ``ittiblurfrac``). The video channels
(F, M) and ``unCenterBias`` (it needs the toolbox's ``invCenterBias.mat``) are not offered.
The one setting beyond the toolbox, ``imresize``: ``matlab`` (default) normalises the resampling
weights as MATLAB does; ``octave`` does not, as GNU Octave's image package (see ``imresize.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..errors import InputError
from ..matlab import matlab_round
from .gbvs_dkl import rgb_to_dkl
from .gbvs_features import (
    attenuate_borders,
    gabor_filter,
    gauss_kernel,
    local_contrast,
    mat2gray,
    max_normalize_std,
    my_conv2,
    my_subsample,
)
from .imresize import imresize, scaled_size

CHANNEL_ORDER = "CDIOR"  # the toolbox's util/featureChannels/*.m in dir() order (F, M: video)
CHANNEL_NAMES = {"C": "color", "D": "dklcolor", "I": "intensity", "O": "orientation", "R": "contrast"}


@dataclass
class GBVSParams:
    """``makeGBVSParams`` defaults (names as in the toolbox, snake_case), plus ``imresize``."""

    salmapmaxsize: int = 32
    blurfrac: float = 0.02
    channels: str = "DIO"
    color_weight: float = 1.0
    intensity_weight: float = 1.0
    orientation_weight: float = 1.0
    contrast_weight: float = 1.0
    dklcolor_weight: float = 1.0
    gaborangles: tuple = (0, 45, 90, 135)
    contrastwidth: float = 0.1
    levels: tuple = (2, 3, 4)
    multilevels: tuple = ()
    sigma_frac_act: float = 0.15
    sigma_frac_norm: float = 0.06
    num_norm_iters: int = 1
    tol: float = 0.0001
    cyclic_type: int = 2
    use_itti_koch_instead_of_gbvs: bool = False
    activation_type: int = 1
    normalization_type: int = 1
    normalize_top_channel_maps: bool = False
    itti_center_levels: tuple = (2, 3)
    itti_delta_levels: tuple = (2,)
    ittiblurfrac: float = 0.03
    imresize: str = "matlab"

    @classmethod
    def from_config(cls, cfg: dict | None) -> GBVSParams:
        """The settings of config key ``gbvs`` (unset keys: the toolbox's defaults)."""
        names = {f.name for f in fields(cls)}
        cfg = dict(cfg or {})
        unknown = set(cfg) - names
        if unknown:
            raise ValueError(f"unknown GBVS settings: {sorted(unknown)}")
        for key in ("gaborangles", "levels", "multilevels", "itti_center_levels", "itti_delta_levels"):
            if key in cfg:
                cfg[key] = tuple(cfg[key])
        return cls(**cfg)

    def check(self) -> None:
        """Refuse settings the port does not reproduce, before any work."""
        bad = set(self.channels) - set(CHANNEL_ORDER)
        if bad:
            raise ValueError(f"gbvs.channels: {''.join(sorted(bad))} not available (use letters of "
                             f"{CHANNEL_ORDER}; F and M are video channels)")
        if self.multilevels:
            raise ValueError("gbvs.multilevels: only [] (the default, a single lattice) is implemented")
        if self.imresize not in ("matlab", "octave"):
            raise ValueError("gbvs.imresize: matlab or octave")
        if self.cyclic_type not in (1, 2):
            raise ValueError("gbvs.cyclic_type: 1 or 2")
        if self.activation_type not in (1, 2) or self.normalization_type not in (1, 2, 3):
            raise ValueError("gbvs.activation_type: 1 or 2; gbvs.normalization_type: 1, 2 or 3")
        if max(self.levels) > 9 or (self.use_itti_koch_instead_of_gbvs or self.activation_type == 2) \
                and max(self.itti_center_levels) + max(self.itti_delta_levels) > 9:
            raise ValueError("gbvs: pyramid levels above 9 are not allowed (makeGBVSParams)")


def distance_matrix(shape, cyclic_type: int = 2) -> np.ndarray:
    """``graphsalinit`` for one lattice: squared distances between locations, column-major order."""
    h, w = shape
    r, c = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    r, c = r.ravel(order="F").astype(np.float64), c.ravel(order="F").astype(np.float64)
    dr, dc = np.abs(r[:, None] - r[None, :]), np.abs(c[:, None] - c[None, :])
    if cyclic_type == 1:
        dr, dc = np.minimum(dr, np.abs(dr - h)), np.minimum(dc, np.abs(dc - w))
    return dr ** 2 + dc ** 2


MAX_ITERATIONS = 10_000  # the toolbox's own counts are ~10-50; it has no limit


class NoEquilibrium(ValueError):
    """The power iteration does not converge (the toolbox would loop for ever)."""


def principal_eigenvector(mm: np.ndarray, tol: float) -> tuple[np.ndarray, int]:
    """``principalEigenvectorRaw``: power iteration from the uniform vector, sum-normalised.

    Raises :class:`NoEquilibrium` after ``MAX_ITERATIONS``: a map with only two values (a nearly
    flat image, whose feature maps are rounding noise scaled to 0..1 by ``mat2gray``) makes a
    periodic chain whose iteration never settles."""
    n = mm.shape[0]
    v = np.full(n, 1.0 / n)
    df, it = 1.0, 0
    while df > tol:
        if it == MAX_ITERATIONS:
            raise NoEquilibrium(f"the Markov chain's power iteration did not converge in {it} steps")
        oldv = v
        v = mm @ v
        df = float(np.linalg.norm(oldv - v))
        it += 1
        s = v.sum()
        if not (s >= 0 and s < np.inf):
            v = oldv
            break
    return v / v.sum(), it


def graph_activation(a: np.ndarray, dist: np.ndarray, sigma_frac: float, num_iters: int,
                     algtype: int, tol: float, weights: dict | None = None) -> tuple[np.ndarray, int]:
    """``graphsalapply`` on a single lattice; returns the map and the power iterations used.

    ``weights``: a cache of ``exp(-dist / (2 sigma^2))`` by sigma, shared between calls.
    """
    if algtype == 4:
        return a ** 1.5, 1
    m = mat2gray(a)
    if m.max() == 0:
        m = m + 1e-12
    al = m.ravel(order="F")
    sig = sigma_frac * np.mean(a.shape)
    cache = {} if weights is None else weights
    if sig not in cache:
        cache[sig] = np.exp(-1 * dist / (2 * sig ** 2))
    dw = cache[sig]
    iters = 0
    for _ in range(num_iters):
        if algtype == 1:
            mm = dw * al[:, None]
        elif algtype == 2:
            mm = np.abs(al[:, None] - al[None, :])
            mm *= dw
        elif algtype == 3:
            mm = dw * np.abs(np.log(al[:, None] / al[None, :]))
        else:
            raise ValueError(f"graph_activation: algtype {algtype}")
        with np.errstate(invalid="ignore", divide="ignore"):  # a flat map: 0/0, as in the mex file;
            mm /= mm.sum(axis=0, keepdims=True)                # the iteration then keeps the uniform vector
            al, it = principal_eigenvector(mm, tol)
        iters += it
    return al.reshape(a.shape, order="F"), iters


def _safe_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    zero = b == 0
    out = a / np.where(zero, 1.0, b)
    out[zero] = 0.0
    return out


def _channel_weight(p: GBVSParams, letter: str) -> float:
    return getattr(p, f"{CHANNEL_NAMES[letter]}_weight")


def _channel_maps(p: GBVSParams, letter: str, lev: int, pyr: dict, gabors) -> list[np.ndarray]:
    """The toolbox's featureChannels/<letter>_*.m at one pyramid level: one map per type."""
    img = pyr["L"][lev]
    if letter == "I":
        return [img]
    if letter == "C":
        r, g, b = pyr["R"][lev], pyr["G"][lev], pyr["B"][lev]
        return [_safe_divide(np.abs(b - np.minimum(r, g)), img), _safe_divide(np.abs(r - g), img)]
    if letter == "D":
        return list(rgb_to_dkl(pyr["R"][lev], pyr["G"][lev], pyr["B"][lev]))
    if letter == "O":
        out = []
        for g0, g90 in gabors:
            m = np.abs(my_conv2(img, g0)) + np.abs(my_conv2(img, g90))
            out.append(attenuate_borders(m, 13))
        return out
    if letter == "R":
        return [local_contrast(img, int(matlab_round(img.shape[0] * p.contrastwidth)))]
    raise ValueError(letter)


def gbvs(image: np.ndarray, params: GBVSParams | None = None, keep: bool = False, where="image") -> dict:
    """``gbvs(img, params)``: ``master_map`` (salmapsize) and ``master_map_resized`` (H x W).

    ``image``: H x W x 3 or H x W, uint8 (divided by 255) or float in 0..1. ``keep``: also return
    the intermediate maps (``raw``, ``val``, ``act``, ``iters``, ``feat``, ``pyramid``). ``where``:
    the image's name in error messages.
    """
    p = params or GBVSParams()
    p.check()
    img = np.asarray(image)
    img = img.astype(np.float64) / 255.0 if img.dtype == np.uint8 else img.astype(np.float64)
    if img.shape[0] < 128 or img.shape[1] < 128:
        raise InputError(where, f"is {img.shape[1]} x {img.shape[0]} px; GBVS needs at least 128 x 128.",
                         "use a larger image.")
    is_color = img.ndim == 3 and img.shape[2] == 3
    itti = p.use_itti_koch_instead_of_gbvs
    act_type = 2 if itti else p.activation_type
    norm_type = 3 if itti else p.normalization_type
    norm_top = True if itti else p.normalize_top_channel_maps
    levels_used = tuple(lv for lv in p.levels if lv > 1)
    maxlevel = max(levels_used)
    if act_type == 2:
        maxlevel = max(maxlevel, max(p.itti_center_levels) + max(p.itti_delta_levels))
    salmapsize = scaled_size(img.shape, p.salmapmaxsize)
    normalize = p.imresize == "matlab"
    resize = lambda a, shape: imresize(a, shape, normalize=normalize)  # noqa: E731
    dist = distance_matrix(salmapsize, p.cyclic_type) if not itti else None
    gabors = [(gabor_filter(t, 0), gabor_filter(t, 90)) for t in p.gaborangles]

    # getFeatureMaps: pyramids
    if is_color:
        r, g, b = img[:, :, 0], img[:, :, 1], img[:, :, 2]
        bases = {"L": np.maximum(np.maximum(r, g), b), "R": r, "G": g, "B": b}
    else:
        bases = {"L": img if img.ndim == 2 else img[:, :, 0]}
    pyr = {k: {1: my_subsample(v)} for k, v in bases.items()}
    levels = list(range(2, maxlevel + 1))
    for i in range(2, maxlevel + 1):
        for k in pyr:
            pyr[k][i] = my_subsample(pyr[k][i - 1])
        if min(pyr["L"][i].shape) < 3:
            levels = list(range(2, i + 1))
            break

    letters = [c for c in CHANNEL_ORDER if c in p.channels and (is_color or c not in "CD")]
    raw, val = {}, {}
    for c in letters:
        for lev in levels:
            for t, m in enumerate(_channel_maps(p, c, lev, pyr, gabors), start=1):
                raw[c, t, lev] = m
                val[c, t, lev] = resize(m, salmapsize)
    ntypes = {c: max(t for (cc, t, _) in raw if cc == c) for c in letters}

    # activation
    act, iters, order, weights = {}, {}, [], {}
    for c in letters:
        for t in range(1, ntypes[c] + 1):
            if act_type == 1:
                for lev in p.levels:
                    try:
                        act[c, t, lev], iters[c, t, lev] = graph_activation(
                            val[c, t, lev], dist, p.sigma_frac_act, 1, 2, p.tol, weights)
                    except NoEquilibrium as exc:
                        raise InputError(where, f"GBVS: {exc} on the {CHANNEL_NAMES[c]} map (type {t}, level {lev}); "
                                         "the image is nearly flat there, so the map is rounding noise.",
                                         "leave this scene out of the gbvs source (it has no salience to "
                                         "find), or set gbvs.enabled: false.") from exc
                    order.append((c, t, lev))
            else:
                for cl in p.itti_center_levels:
                    for dl in p.itti_delta_levels:
                        center = raw[c, t, cl]
                        surround = resize(raw[c, t, cl + dl], center.shape)
                        act[c, t, (cl, dl)] = (center - surround) ** 2
                        order.append((c, t, (cl, dl)))

    # normalisation, sums
    def normalise(a):
        if norm_type == 1:
            return a ** 1.5
        if norm_type == 2:
            return graph_activation(a, dist, p.sigma_frac_norm, p.num_norm_iters, 1, p.tol, weights)[0]
        return max_normalize_std(mat2gray(resize(a, salmapsize)))

    cmaps = {c: 0 for c in letters}
    for key in order:
        cmaps[key[0]] = cmaps[key[0]] + normalise(act[key])
    if norm_top:
        for c in letters:
            cmaps[c] = normalise(cmaps[c]) if norm_type != 3 else max_normalize_std(cmaps[c])
    master = 0
    for c in letters:
        master = master + cmaps[c] * _channel_weight(p, c)
    master = mat2gray(attenuate_borders(master, 4))
    blurfrac = p.ittiblurfrac if itti else p.blurfrac
    if blurfrac > 0:
        k = gauss_kernel(max(master.shape) * blurfrac, 2)
        master = mat2gray(my_conv2(my_conv2(master, k[None, :]), k[:, None]))
    out = {"master_map": master,
           "master_map_resized": mat2gray(resize(master, img.shape[:2]))}
    if keep:
        out.update(raw=raw, val=val, act=act, iters=iters, pyramid=pyr,
                   feat={c: mat2gray(cmaps[c]) for c in letters}, salmapsize=salmapsize)
    return out
