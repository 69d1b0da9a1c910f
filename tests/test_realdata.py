"""Real published data (../shared/data), skipped when absent.

scene-meaning-mapping: 24 real scenes with Hayes-toolkit rating matrices: 300 + 108 patches each,
the per-patch ratings recovered from each matrix rebuild it exactly, and the human map built from
them equals the toolkit's map made straight from the matrix.
"""

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from meaningmaps.data.human_ratings import ratings_from_layers
from meaningmaps.data.images import image_size
from meaningmaps.data.rating_matrix import assign_scales, load_rating_matrix
from meaningmaps.maps.meaning_map import meaning_map
from meaningmaps.maps.patch_grid import PatchGrid, ScaleSpec
from meaningmaps.maps.smoothing import imgaussfilt

from .reference import matrix_meaning_map, patch_means, rebuilds_exactly

TOOLKIT = [ScaleSpec("fine", 300, 87), ScaleSpec("coarse", 108, 205)]


def check_scene(args):
    image, matrix = args
    h, w = image_size(image)
    grid = PatchGrid(h, w, TOOLKIT)
    layers = assign_scales(load_rating_matrix(matrix), grid, matrix)
    frame = ratings_from_layers(layers, image.stem, grid, matrix)
    per_patch = patch_means(frame)
    direct = imgaussfilt(matrix_meaning_map(layers), 10)
    ours = meaning_map(frame, grid, 10)
    return dict(scene=image.stem, size=(h, w),
                n_patches={s: len(grid.patches[s]) for s in grid.patches},
                ratings_per_patch=sorted(set(per_patch["n_ratings"])),
                rebuilds=rebuilds_exactly(frame, layers, grid),
                max_map_diff=float(np.abs(ours - direct).max()),
                map_range=(float(ours.min()), float(ours.max())))


@pytest.mark.slow
@pytest.mark.realdata
def test_all_24_scenes_recover_exactly(smm_dir):
    images = sorted((smm_dir / "scene_images").glob("*.jpg"))
    assert len(images) == 24
    jobs = [(img, smm_dir / "rating_matrices" / f"{img.stem}.mat") for img in images]
    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(check_scene, jobs))
    failures = []
    for r in results:
        ok = (r["size"] == (768, 1024) and r["n_patches"] == {"fine": 300, "coarse": 108}
              and r["ratings_per_patch"] == [3] and r["rebuilds"] and r["max_map_diff"] < 1e-12
              and 1 - 1e-9 <= r["map_range"][0] < r["map_range"][1] <= 6 + 1e-9)
        if not ok:
            failures.append(r)
    assert not failures, failures
    for r in results:
        assert r["size"] == (768, 1024), r["scene"]
        assert r["n_patches"] == {"fine": 300, "coarse": 108}, r["scene"]
        assert r["ratings_per_patch"] == [3], r["scene"]
        assert r["rebuilds"], f"{r['scene']}: recovered ratings do not rebuild the matrix"
        assert r["max_map_diff"] < 1e-12, r["scene"]
        lo, hi = r["map_range"]
        assert 1 - 1e-9 <= lo < hi <= 6 + 1e-9, r["scene"]
