"""Scene images and external maps: every format we accept, and clear errors for what we don't."""

import numpy as np
import pytest
from PIL import Image

from meaningmaps.data.external_maps import bilinear_resize, imported_map, load_map, map_source_settings
from meaningmaps.data.images import load_rgb
from meaningmaps.errors import InputError
from meaningmaps.maps.patch_files import write_scene_patches
from meaningmaps.maps.patch_grid import ScaleSpec


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


# ------------------------------------------------------------- issue 11: transform and resize


@pytest.fixture
def log_density(tmp_path):
    """A DeepGaze-like map: the log of a density that sums to 1 over a 30 x 40 scene."""
    d = np.random.default_rng(2).random((30, 40)) + 0.1
    logd = np.log(d / d.sum())
    np.save(tmp_path / "ld.npy", logd)
    return tmp_path / "ld.npy", logd


def test_transform_exp_equals_exp_of_the_map(log_density):
    path, logd = log_density
    m = imported_map(path, (30, 40), source="deepgaze", transform="exp")
    assert np.array_equal(m, np.exp(logd))
    assert abs(m.sum() - 1) < 1e-12


def test_all_negative_map_without_transform_is_refused(log_density):
    path, logd = log_density
    with pytest.raises(InputError) as e:
        imported_map(path, (30, 40), source="deepgaze")
    msg = str(e.value)
    assert str(path) in msg and "log density" in msg
    assert "dataset.maps.deepgaze.transform: exp" in msg
    # transform: none takes it as it is, but scoring's KL divergence refuses negative maps: so does the check (issue 21)
    with pytest.raises(InputError, match=r"negative everywhere .*transform is none.*KL divergence"):
        imported_map(path, (30, 40), source="deepgaze", transform="none")
    np.save(path, logd - logd.max())  # shifted to a maximum of 0: still a log density's look
    with pytest.raises(InputError, match="dataset.maps.deepgaze.transform: exp"):
        imported_map(path, (30, 40), source="deepgaze")


def test_exp_of_a_non_log_map_overflowing_is_refused(tmp_path):
    np.save(tmp_path / "big.npy", np.linspace(0, 255, 1200).reshape(30, 40))
    with pytest.raises(InputError, match=r"dataset.maps.s.transform is exp, but .* up to 255"):
        imported_map(tmp_path / "big.npy", (30, 40), source="s", transform="exp")


def test_size_mismatch_names_both_sizes_and_resize(log_density):
    path, logd = log_density
    with pytest.raises(InputError) as e:
        imported_map(path, (60, 80), source="deepgaze", transform="exp")
    msg = str(e.value)
    assert "map is 40x30 (WxH) but the scene is 80x60" in msg and "dataset.maps.deepgaze.resize: true" in msg


def test_resize_resamples_bilinear_after_the_transform(log_density, caplog):
    path, logd = log_density
    import logging

    with caplog.at_level(logging.INFO, logger="meaningmaps.data.external_maps"):
        m = imported_map(path, (60, 80), source="deepgaze", transform="exp", resize=True)
    assert m.shape == (60, 80)
    assert np.allclose(m, bilinear_resize(np.exp(logd), (60, 80)))
    assert "resized 40x30 -> 80x60 (WxH), bilinear" in caplog.text
    small = imported_map(path, (15, 20), source="deepgaze", transform="exp", resize=True)
    assert small.shape == (15, 20)


def test_bilinear_resize_pixel_centres():
    a = np.array([[0.0, 1.0], [2.0, 3.0]])
    up = bilinear_resize(a, (4, 4))
    # output pixel i samples input position (i + 0.5) / 2 - 0.5: -0.25 (held), 0.25, 0.75, 1.25 (held)
    assert np.allclose(up[0], [0.0, 0.25, 0.75, 1.0])
    assert np.allclose(up[:, 0], [0.0, 0.5, 1.5, 2.0])
    assert np.allclose(bilinear_resize(up, (2, 2)), [[0.375, 1.125], [1.875, 2.625]])  # at 0.5 and 2.5
    ramp = np.add.outer(np.arange(6.0), np.arange(8.0))  # a plane is kept exactly away from the edges
    r = bilinear_resize(ramp, (3, 4))
    assert np.allclose(r, np.add.outer(np.arange(3) * 2 + 0.5, np.arange(4) * 2 + 0.5))
    assert bilinear_resize(ramp, (6, 8)) is not ramp and np.array_equal(bilinear_resize(ramp, (6, 8)), ramp)


def test_map_source_settings_plain_and_full():
    got = map_source_settings({"a": "fa", "b": {"folder": "fb", "transform": "exp", "resize": True}})
    assert got == {"a": {"folder": "fa", "transform": None, "resize": False, "variable": None},
                   "b": {"folder": "fb", "transform": "exp", "resize": True, "variable": None}}
    with pytest.raises(InputError, match="dataset.maps.c.transform"):
        map_source_settings({"c": {"folder": "x", "transform": "log"}})
