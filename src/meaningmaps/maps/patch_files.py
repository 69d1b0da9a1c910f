"""Cut a scene into the toolkit's patch images: ``<scene>/{fine,coarse}_<k>.png`` + ``index.csv``."""

from __future__ import annotations

import pandas as pd
from PIL import Image

from ..atomic import atomic_dir
from ..data.images import load_rgb
from ..errors import InputError
from .patch_grid import PatchGrid, ScaleSpec, cut_patch


def write_scene_patches(image_path, out_dir, specs: list[ScaleSpec], compress_level: int = 1) -> pd.DataFrame:
    """Write every patch as an RGBA PNG (outside the circle RGB 0, alpha 0) and the index.

    Writes into a temporary folder unique to this job (:func:`atomic.atomic_dir`) and moves it
    onto ``out_dir`` at the end, so an interrupted job leaves no folder that looks complete and
    two jobs never share a temporary.
    """
    image = load_rgb(image_path)
    h, w = image.shape[:2]
    grid = PatchGrid(h, w, specs)
    for spec in specs:
        if (grid.coverage(spec.name) == 0).any():
            raise InputError(image_path, f"the {spec.name} grid (N={spec.n}, d={spec.diameter:g} px) leaves pixels "
                             f"of this {w}x{h} scene uncovered.",
                             f"raise patches.{spec.name}.n or its diameter.")
    index = pd.DataFrame(grid.index_rows())
    index.insert(2, "file", [f"{s}_{k}.png" for s, k in zip(index["scale"], index["k"], strict=True)])
    with atomic_dir(out_dir) as tmp:
        for scale, patches in grid.patches.items():
            for p in patches:
                Image.fromarray(cut_patch(image, p), mode="RGBA").save(
                    tmp / f"{scale}_{p.k}.png", compress_level=compress_level)
        index.to_csv(tmp / "index.csv", index=False)
    return index
