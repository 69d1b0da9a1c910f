"""The other scenes' fixations: the empirical centre bias and the shuffled AUC's negatives.

What: for one scene, the fixations of every OTHER scene of the study pooled in this scene's pixel
frame (:func:`pool_other_scenes`); their attention map, made exactly as a scene's attention map
(:func:`empirical_center_map`: the ``center_empirical`` map source, leave one scene out); and the
binary map of the pixels they fixate (:func:`fixated_pixels`, the other map of the shuffled AUC).

Why: Hayes & Henderson (2019, "Center bias outperforms image salience but not semantics in
accounting for attention during scene viewing") compare meaning with the centre bias measured
from fixations on other scenes rather than an assumed Gaussian. Leaving the scene out keeps its own
fixations from predicting themselves. Scenes of another size are rescaled onto this scene's frame
(image edges onto image edges), never refused silently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .attention import attention_map, fixation_map


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
