"""The other scenes' fixations: the empirical centre bias and the shuffled AUC's negatives.

What: for one scene, the fixations of every OTHER scene of the study pooled in this scene's pixel
frame (:func:`pool_other_scenes`); their attention map, made exactly as a scene's attention map
(:func:`empirical_center_map`: the ``center_empirical`` map source, leave one scene out); and the
binary map of the pixels they fixate (:func:`fixated_pixels`, the other map of the shuffled AUC).

At scale (thousands of scenes) no job reads every other scene's table: one job per image size
pools every scene's fixations onto that size once (:func:`pooled_fixation_maps`), and each scene's
map subtracts its own (:func:`others_from_pool`). Counts are whole numbers in float64, so the
subtraction is exact and the map equals :func:`empirical_center_map`'s bit for bit; summed
durations (``weight: duration``) are equal too while durations are whole milliseconds (every sum
below 2^53 is exact), and otherwise within float64 rounding of the sum in scene order.

Why: Hayes & Henderson (2019, "Center bias outperforms image salience but not semantics in
accounting for attention during scene viewing") compare meaning with the centre bias measured
from fixations on other scenes rather than an assumed Gaussian. Leaving the scene out keeps its own
fixations from predicting themselves. Scenes of another size are rescaled onto this scene's frame
(image edges onto image edges), never refused silently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..atomic import save_npz
from ..errors import InputError
from .attention import attention_map, blur_fixation_map, fixation_map, fixation_weights


def rescale_fixations(fix: pd.DataFrame, from_size, to_size) -> pd.DataFrame:
    """Fixations of a ``from_size`` (h, w) image moved onto a ``to_size`` image.

    1-based pixel coordinates, image edges at 0.5 and size + 0.5: ``row' = 0.5 + (row - 0.5) h /
    h0`` (columns alike), so the edges map onto the edges and every on-image fixation stays on the
    image (a value rounded onto the far edge is kept inside it). Equal sizes: returned unchanged.
    """
    (h0, w0), (h, w) = (int(v) for v in from_size), (int(v) for v in to_size)
    if (h0, w0) == (h, w):
        return fix
    out = fix.copy()
    for column, old, new in (("row", h0, h), ("col", w0, w)):
        v = 0.5 + (out[column].to_numpy(dtype=np.float64) - 0.5) * (new / old)
        out[column] = np.clip(v, 0.5, np.nextafter(new + 0.5, 0.0))
    return out


def pool_other_scenes(tables: dict[str, pd.DataFrame], sizes: dict, scene: str) -> pd.DataFrame:
    """Every other scene's fixations, in ``scene``'s pixel frame, in scene order, without the
    ``scene`` column (an attention map takes one scene's table). Logs nothing; see
    :func:`size_note` for the rescaling message."""
    others = [s for s in tables if s != scene]
    if not others:
        raise InputError(None, f"scene {scene!r}: the study has no other scene, so there are no other "
                         "scenes' fixations (empirical centre bias, shuffled AUC).",
                         "add scenes, or set evaluation.center_empirical: false.")
    target = tuple(sizes[scene])
    frames = [rescale_fixations(tables[s], sizes[s], target) for s in others]
    pooled = pd.concat(frames, ignore_index=True)
    return pooled.drop(columns=[c for c in ("scene",) if c in pooled.columns])


def size_note(sizes: dict, scene: str) -> str | None:
    """A line for the log naming the other scenes rescaled onto ``scene``'s size, or None."""
    target = tuple(sizes[scene])
    moved = sorted(s for s, size in sizes.items() if s != scene and tuple(size) != target)
    if not moved:
        return None
    return (f"{len(moved)} other scene(s) of another size rescaled onto {target[0]} x {target[1]} "
            f"(rows x cols): {', '.join(moved[:5])}{' ...' if len(moved) > 5 else ''}")


def empirical_center_map(tables: dict[str, pd.DataFrame], sizes: dict, scene: str, fc: float = 6.0,
                         weight: str = "count", wrap: bool = True) -> np.ndarray:
    """The attention map (``attention.attention_map``, same fc/weight/wrap) of the pooled fixations
    of every scene but ``scene`` (leave one scene out), float64 of ``scene``'s size."""
    pooled = pool_other_scenes(tables, sizes, scene)
    h, w = sizes[scene]
    return attention_map(pooled, int(h), int(w), fc=fc, weight=weight, wrap=wrap)


def fixated_pixels(fix: pd.DataFrame, height: int, width: int) -> np.ndarray:
    """Binary float64 map of the pixels with at least one fixation (MATLAB-rounded 1-based
    row/col, as the attention map counts them); each pixel is 1 however often it is fixated."""
    counts = fixation_map(fix["row"].to_numpy(dtype=np.float64), fix["col"].to_numpy(dtype=np.float64),
                          height, width)
    return (counts > 0).astype(np.float64)


def pooled_fixation_maps(tables: dict[str, pd.DataFrame], sizes: dict, size, weight: str = "count") -> dict:
    """Every scene's fixations pooled onto one image ``size`` (h, w), rescaled as
    :func:`pool_other_scenes` rescales them: ``counts`` (fixations per pixel, float64), ``weights``
    (summed durations per pixel; only for ``weight="duration"``), ``n_fixations`` and ``rescaled``
    (the scenes of another size). One job per distinct size makes these for a whole study; a
    scene's leave-one-out maps are then :func:`others_from_pool` of its size's pool."""
    h, w = (int(v) for v in size)
    target = (h, w)
    frames = [rescale_fixations(t, sizes[s], target) for s, t in tables.items()]
    pooled = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["row", "col"])
    rows, cols = pooled["row"].to_numpy(dtype=np.float64), pooled["col"].to_numpy(dtype=np.float64)
    out = dict(counts=fixation_map(rows, cols, h, w), n_fixations=len(pooled), n_scenes=len(tables),
               rescaled=sorted(s for s in tables if tuple(int(v) for v in sizes[s]) != target))
    if weight == "duration":
        out["weights"] = fixation_map(rows, cols, h, w, weights=fixation_weights(pooled))
    return out


def others_from_pool(pool: dict, own: pd.DataFrame, scene: str, weight: str = "count") -> np.ndarray:
    """The per-pixel map of every OTHER scene's fixations: the pool of ``scene``'s size minus the
    scene's own fixations (``own``, its fixation table): counts, or summed durations for
    ``weight="duration"``. Raises when the pool holds no other scene."""
    if pool["n_scenes"] < 2:
        raise InputError(None, f"scene {scene!r}: the study has no other scene, so there are no other "
                         "scenes' fixations (empirical centre bias, shuffled AUC).",
                         "add scenes, or set evaluation.center_empirical: false.")
    total = pool["weights"] if weight == "duration" else pool["counts"]
    h, w = total.shape
    rows, cols = own["row"].to_numpy(dtype=np.float64), own["col"].to_numpy(dtype=np.float64)
    mine = fixation_map(rows, cols, h, w, weights=fixation_weights(own) if weight == "duration" else None)
    return total - mine


def empirical_center_from_pool(pool: dict, own: pd.DataFrame, scene: str, fc: float = 6.0,
                               weight: str = "count", wrap: bool = True) -> np.ndarray:
    """:func:`empirical_center_map` from the pool of the scene's size and its own fixations."""
    return blur_fixation_map(others_from_pool(pool, own, scene, weight), fc=fc, wrap=wrap)


def save_pool(path, pool: dict) -> None:
    """Write a pool (:func:`pooled_fixation_maps`) as a compressed .npz, atomically."""
    arrays = {k: np.asarray(v) for k, v in pool.items()}
    save_npz(path, **arrays)


def load_pool(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        pool = {k: z[k] for k in z.files}
    pool["n_scenes"] = int(pool["n_scenes"])
    pool["n_fixations"] = int(pool["n_fixations"])
    pool["rescaled"] = [str(s) for s in pool["rescaled"]]
    return pool


def pool_note(pool: dict, size) -> str | None:
    """A line for the log naming the scenes rescaled onto ``size``, or None (cf. :func:`size_note`)."""
    moved = pool["rescaled"]
    if not moved:
        return None
    return (f"{len(moved)} other scene(s) of another size rescaled onto {int(size[0])} x {int(size[1])} "
            f"(rows x cols): {', '.join(moved[:5])}{' ...' if len(moved) > 5 else ''}")
