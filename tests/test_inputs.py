"""Scene images and external maps: every format we accept, and clear errors for what we don't."""

import numpy as np
import pytest
from PIL import Image

from meaningmaps.errors import InputError
from meaningmaps.external_maps import load_map
from meaningmaps.images import load_rgb
from meaningmaps.map_sources import imported_map
from meaningmaps.patch_files import write_scene_patches
from meaningmaps.patch_grid import ScaleSpec


@pytest.fixture
def rgb():
    return np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)


def test_rgb_grey_rgba(tmp_path, rgb):
    Image.fromarray(rgb).save(tmp_path / "a.png")
    assert np.array_equal(load_rgb(tmp_path / "a.png"), rgb)
    grey = rgb[..., 0]
    Image.fromarray(grey, mode="L").save(tmp_path / "g.png")
    g = load_rgb(tmp_path / "g.png")
    assert g.shape == (40, 50, 3) and np.array_equal(g[..., 2], grey)
    rgba = np.dstack([rgb, np.full((40, 50), 255, np.uint8)])
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "r.png")
    assert np.array_equal(load_rgb(tmp_path / "r.png"), rgb)


def test_truncated_jpeg_named(tmp_path, rgb):
    Image.fromarray(rgb).save(tmp_path / "t.jpg", quality=95)
    data = (tmp_path / "t.jpg").read_bytes()
    (tmp_path / "t.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"t.jpg: cannot be decoded.*truncated"):
        load_rgb(tmp_path / "t.jpg")


def test_patch_folder_written_whole(tmp_path, rgb):
    Image.fromarray(rgb).save(tmp_path / "s.png")
    specs = [ScaleSpec("fine", 6, 40), ScaleSpec("coarse", 2, 70)]
    index = write_scene_patches(tmp_path / "s.png", tmp_path / "out" / "s", specs)
    files = sorted(p.name for p in (tmp_path / "out" / "s").iterdir())
    assert "index.csv" in files and len(files) == len(index) + 1
    assert not (tmp_path / "out" / "s.tmp").exists()
    with Image.open(tmp_path / "out" / "s" / "fine_1.png") as im:
        assert im.mode == "RGBA"
        assert im.size == (index.iloc[0].col_max - index.iloc[0].col_min + 1,
                           index.iloc[0].row_max - index.iloc[0].row_min + 1)


def test_uncovering_grid_refused_before_writing(tmp_path, rgb):
    Image.fromarray(rgb).save(tmp_path / "s.png")
    with pytest.raises(InputError, match="uncovered"):
        write_scene_patches(tmp_path / "s.png", tmp_path / "out" / "s", [ScaleSpec("fine", 6, 5)])
    assert not (tmp_path / "out" / "s").exists()


def test_external_maps(tmp_path):
    m = np.random.default_rng(1).random((30, 40))
    np.save(tmp_path / "a.npy", m)
    assert np.array_equal(imported_map(tmp_path / "a.npy", (30, 40)), m)
    with pytest.raises(InputError, match=r"a.npy: map is 40x30.*scene is 41x30"):
        imported_map(tmp_path / "a.npy", (30, 41))
    Image.fromarray((m * 255).astype(np.uint8), mode="L").save(tmp_path / "g.png")
    assert load_map(tmp_path / "g.png").max() <= 255
    colour = np.dstack([m, m ** 2, 1 - m]) * 255
    Image.fromarray(colour.astype(np.uint8)).save(tmp_path / "c.png")
    with pytest.raises(InputError, match=r"c.png: is a colour image"):
        load_map(tmp_path / "c.png")
    np.save(tmp_path / "n.npy", np.where(m > 0.5, np.nan, m))
    with pytest.raises(InputError, match=r"n.npy: map has \d+ NaN"):
        load_map(tmp_path / "n.npy")
    np.save(tmp_path / "k.npy", np.ones((30, 40)))
    with pytest.raises(InputError, match=r"k.npy: map is constant"):
        load_map(tmp_path / "k.npy")
