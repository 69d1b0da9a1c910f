"""The image the model sees: patch views padded to square as LLaVA-1.5 (expand2square) or left as they are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from meaningmaps.data.demo import demo_scale_specs, make_demo_study
from meaningmaps.data.images import load_rgb
from meaningmaps.errors import InputError
from meaningmaps.maps.patch_files import write_scene_patches
from meaningmaps.model.qa_jsonl import (
    check_view_settings,
    composite,
    crop_cut_fraction,
    expand_to_square,
    make_view,
    processor_fill,
    resolve_pad_fill,
    write_scene_views,
)

CLIP_FILL = (122, 116, 104)  # tuple(int(x * 255) for x in CLIP's image_mean), as LLaVA-1.5


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """One demo scene (512 x 384), its patches cut by the toolkit grid, and its index with box sizes."""
    root = tmp_path_factory.mktemp("views")
    info = make_demo_study(root / "data", n_scenes=1)
    image = root / "data" / info["images"]["scene_01"]
    index = write_scene_patches(image, root / "patches" / "scene_01", demo_scale_specs())
    index["w"] = index["col_max"] - index["col_min"] + 1
    index["h"] = index["row_max"] - index["row_min"] + 1
    return dict(root=root, image=load_rgb(image), patches=root / "patches" / "scene_01", index=index)


@pytest.fixture(scope="module")
def padded(scene):
    """The scene's views under pad with the CLIP fill (as the workflow writes them by default)."""
    out = scene["root"] / "views_pad" / "scene_01"
    frame = write_scene_views(scene["patches"], out, "black", aspect="pad", fill=CLIP_FILL)
    return out, frame


def _read(path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.mode == "RGB"
        return np.asarray(im)


def _expected_view(image: np.ndarray, row: pd.Series, fill) -> np.ndarray:
    """Independent of the patch cutter and the compositor: the circle's scene pixels on black in the
    patch box, the box at LLaVA's offset on a square of ``fill``."""
    r0, r1, c0, c1 = int(row.row_min), int(row.row_max), int(row.col_min), int(row.col_max)
    rows = np.arange(r0, r1 + 1)[:, None]
    cols = np.arange(c0, c1 + 1)[None, :]
    inside = (rows - row.cy) ** 2 + (cols - row.cx) ** 2 < (row.diameter / 2) ** 2
    box = np.where(inside[..., None], image[r0 - 1:r1, c0 - 1:c1], 0).astype(np.uint8)
    h, w = box.shape[:2]
    side = max(h, w)
    out = np.empty((side, side, 3), np.uint8)
    out[:] = fill
    top, left = ((w - h) // 2, 0) if w > h else (0, (h - w) // 2)
    out[top:top + h, left:left + w] = box
    return out


def _border_patch(index: pd.DataFrame, orientation: str) -> pd.Series:
    """The first patch whose box is wider (top/bottom border) or taller (left/right border)."""
    pick = index[index["w"] > index["h"]] if orientation == "wider" else index[index["w"] < index["h"]]
    return pick.iloc[0]


# ---------------------------------------------------------------- the padding itself

@pytest.mark.parametrize("size", [(87, 70), (70, 87), (90, 61), (61, 90), (5, 4)])
def test_expand_to_square_is_llavas_expand2square(size):
    w, h = size
    arr = np.random.default_rng(w * h).integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    fill = (122, 116, 104)
    out = np.asarray(expand_to_square(Image.fromarray(arr), fill))
    side = max(w, h)
    assert out.shape == (side, side, 3)
    # LLaVA: paste at (0, (w - h) // 2) when wider, ((h - w) // 2, 0) when taller (PIL's (x, y))
    x, y = (0, (w - h) // 2) if w > h else ((h - w) // 2, 0)
    want = np.tile(np.array(fill, np.uint8), (side, side, 1))
    want[y:y + h, x:x + w] = arr
    assert np.array_equal(out, want)


def test_expand_to_square_leaves_a_square_image_as_it_is():
    im = Image.fromarray(np.random.default_rng(0).integers(0, 256, size=(9, 9, 3), dtype=np.uint8))
    assert expand_to_square(im, (1, 2, 3)) is im


# ---------------------------------------------------------------- the written views

@pytest.mark.parametrize("orientation", ["wider", "taller"])
def test_border_patch_view_pixel_by_pixel(scene, padded, orientation):
    row = _border_patch(scene["index"], orientation)
    view = _read(padded[0] / f"{row.scale}_{row.k}.png")
    assert view.shape[0] == view.shape[1] == max(row.w, row.h)
    assert np.array_equal(view, _expected_view(scene["image"], row, CLIP_FILL))


def test_padded_count_and_square_views_untouched(scene, padded):
    out, frame = padded
    index = scene["index"]
    non_square = index["w"] != index["h"]
    assert frame["padded"].tolist() == non_square.tolist()
    assert (frame["patch_width"] == index["w"]).all() and (frame["patch_height"] == index["h"]).all()
    for _, row in index[~non_square].head(20).iterrows():
        with Image.open(scene["patches"] / f"{row.scale}_{row.k}.png") as p:
            want = np.asarray(composite(p))
        assert np.array_equal(_read(out / f"{row.scale}_{row.k}.png"), want)
    assert not out.with_name(out.name + ".tmp").exists()


def test_crop_mode_writes_the_view_as_it_is(scene):
    for aspect in ("crop", None):  # None: the function's backward-compatible default
        out = scene["root"] / f"views_{aspect}" / "scene_01"
        kw = {} if aspect is None else dict(aspect=aspect, fill=CLIP_FILL)  # crop ignores a fill
        frame = write_scene_views(scene["patches"], out, "black", **kw)
        assert not frame["padded"].any()
        for orientation in ("wider", "taller"):
            row = _border_patch(scene["index"], orientation)
            with Image.open(scene["patches"] / f"{row.scale}_{row.k}.png") as p:
                want = np.asarray(composite(p))
            view = _read(out / f"{row.scale}_{row.k}.png")
            assert view.shape[:2] == (row.h, row.w)
            assert np.array_equal(view, want)


def test_explicit_fill(scene):
    out = scene["root"] / "views_fill" / "scene_01"
    write_scene_views(scene["patches"], out, "grey", aspect="pad", fill=[10, 200, 30])
    row = _border_patch(scene["index"], "taller")
    view = _read(out / f"{row.scale}_{row.k}.png")
    left = (row.h - row.w) // 2
    assert (view[:, :left] == (10, 200, 30)).all() and (view[:, left + row.w:] == (10, 200, 30)).all()
    box = view[:, left:left + row.w]
    with Image.open(scene["patches"] / f"{row.scale}_{row.k}.png") as p:
        alpha = np.asarray(p)[..., 3]
    assert (box[alpha == 0] == 128).all()  # the background inside the box is still model.background


# ---------------------------------------------------------------- the fill from the processor

def test_fill_from_a_clip_processor(tiny_llava_dir):
    from meaningmaps.model.loading import load_processor

    processor = load_processor(str(tiny_llava_dir))
    assert processor_fill(processor) == CLIP_FILL
    assert processor_fill(processor.image_processor) == CLIP_FILL
    assert resolve_pad_fill("pad", "processor", str(tiny_llava_dir)) == CLIP_FILL


def test_fill_needs_no_model_for_crop_or_an_explicit_colour():
    assert resolve_pad_fill("crop", "processor", "/no/such/model") is None
    assert resolve_pad_fill("pad", [1, 2, 3], "/no/such/model") == (1, 2, 3)


def test_processor_keeps_the_whole_padded_view(scene, padded, tiny_llava_dir):
    """The processor's centre crop is a no-op on a padded view, and the visible circle's mass survives;
    on the unpadded view the crop cuts what crop_cut_fraction says."""
    from meaningmaps.model.loading import load_processor

    ip = load_processor(str(tiny_llava_dir)).image_processor
    row = scene["index"].loc[scene["index"]["w"] < scene["index"]["h"]].iloc[0]
    view = Image.open(padded[0] / f"{row.scale}_{row.k}.png").convert("RGB")
    cropped = ip(images=[view], return_tensors="np")["pixel_values"][0]
    uncropped = ip(images=[view], do_center_crop=False, return_tensors="np")["pixel_values"][0]
    assert np.array_equal(cropped, uncropped)

    # The visible circle in white on black, padded with black: its mass through the processor.
    with Image.open(scene["patches"] / f"{row.scale}_{row.k}.png") as p:
        visible = np.asarray(p)[..., 3] > 0
    mask_view = np.where(visible[..., None], 255, 0).astype(np.uint8).repeat(3, axis=2)
    mean, std = np.array(ip.image_mean)[:, None, None], np.array(ip.image_std)[:, None, None]

    def kept_pixels(image: Image.Image, source_side: int) -> float:
        pv = ip(images=[image], return_tensors="np")["pixel_values"][0]
        return float((pv * std + mean).mean()) * source_side ** 2

    n = int(visible.sum())
    pad = kept_pixels(make_view(np.dstack([mask_view, visible * 255]).astype(np.uint8), "black", "pad",
                                (0, 0, 0)), max(row.w, row.h))
    crop = kept_pixels(Image.fromarray(mask_view), min(row.w, row.h))
    cut = crop_cut_fraction(visible)
    assert cut > 0.05
    assert pad == pytest.approx(n, rel=0.03)
    assert crop == pytest.approx(n * (1 - cut), rel=0.03)


def test_crop_cut_fraction():
    assert crop_cut_fraction(np.ones((7, 7), bool)) == 0.0
    tall = np.ones((10, 4), bool)  # keeps the centre 4 rows of 10
    assert crop_cut_fraction(tall) == pytest.approx(0.6)
    assert crop_cut_fraction(tall.T) == pytest.approx(0.6)


# ---------------------------------------------------------------- bad settings

@pytest.mark.parametrize("aspect", ["square", "", None])
def test_bad_image_aspect_names_the_key(aspect):
    with pytest.raises(InputError, match=r"model\.image_aspect.*Fix: set model\.image_aspect to one of"):
        check_view_settings(aspect, "processor")


@pytest.mark.parametrize("fill", ["mean", [1, 2], [0, 0, 256], [-1, 0, 0], [1.5, 2, 3], [True, 0, 0], None])
def test_bad_pad_fill_names_the_key(fill):
    with pytest.raises(InputError, match=r"model\.pad_fill.*Fix: set model\.pad_fill to processor"):
        check_view_settings("pad", fill)


def test_bad_settings_fail_before_any_view_is_written(scene, tmp_path):
    out = tmp_path / "views" / "scene_01"
    with pytest.raises(InputError, match="pad_fill"):
        write_scene_views(scene["patches"], out, "black", aspect="pad")  # pad without a fill
    with pytest.raises(InputError, match="image_aspect"):
        write_scene_views(scene["patches"], out, "black", aspect="stretch", fill=CLIP_FILL)
    with pytest.raises(InputError, match="pad_fill"):
        write_scene_views(scene["patches"], out, "black", aspect="pad", fill=(0, 0, 300))
    assert not out.exists() and not out.with_name("scene_01.tmp").exists()


def test_processor_fill_errors(tmp_path):
    with pytest.raises(InputError, match=r"image_mean.*Fix: set model\.pad_fill to \[r, g, b\]"):
        processor_fill(object())
    with pytest.raises(InputError, match="model.base"):
        resolve_pad_fill("pad", "processor", str(tmp_path / "missing-model"))
    with pytest.raises(InputError, match="no base model"):
        resolve_pad_fill("pad", "processor", None)
