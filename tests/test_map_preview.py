"""Map previews without matplotlib (maps/preview.py) are byte for byte what matplotlib's own
colour-map lookup gives (``colormaps["inferno"](minmax(map), bytes=True)``), which the previews were
written with before: random maps, ties at both ends, a constant map, non-finite cells."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from matplotlib import colormaps
from PIL import Image

from meaningmaps.maps.preview import INFERNO_RGB, MAP_CMAP, minmax, preview_rgb, save_map_preview


def matplotlib_preview(array) -> np.ndarray:
    return np.ascontiguousarray(colormaps[MAP_CMAP](minmax(array), bytes=True)[..., :3])


def test_table_is_matplotlibs():
    assert np.array_equal(INFERNO_RGB, colormaps[MAP_CMAP](np.arange(256), bytes=True)[:, :3])


@pytest.mark.parametrize("kind", ["uniform", "gaussian", "ties", "constant", "nonfinite", "tiny_range", "negative"])
def test_preview_equals_matplotlibs_lookup(kind):
    rng = np.random.default_rng(7)
    a = rng.random((97, 131))
    if kind == "gaussian":
        a = rng.normal(size=(97, 131)).astype(np.float32)
    elif kind == "ties":
        a = np.round(a * 10) / 10  # many cells exactly at the minimum and the maximum
    elif kind == "constant":
        a = np.full((5, 7), 3.25)
    elif kind == "nonfinite":
        a[3, :] = np.nan
        a[:, 5] = np.inf
        a[0, 0] = -np.inf
    elif kind == "tiny_range":
        a = 1.0 + a * 1e-12
    elif kind == "negative":
        a = -np.exp(a * 30)
    assert np.array_equal(preview_rgb(a), matplotlib_preview(a))


def test_saved_png_holds_those_pixels(tmp_path):
    a = np.random.default_rng(1).random((40, 60))
    save_map_preview(a, tmp_path / "m.png")
    with Image.open(tmp_path / "m.png") as im:
        assert im.mode == "RGB" and im.size == (60, 40)
        assert np.array_equal(np.asarray(im), matplotlib_preview(a))


def test_map_jobs_do_not_import_matplotlib():
    """The point of the module: a map job's imports stay light."""
    code = ("import sys, meaningmaps.maps.preview, meaningmaps.maps.meaning_map, meaningmaps.maps.center_bias; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
