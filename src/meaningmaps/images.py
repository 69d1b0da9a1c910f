"""Scene images: any of JPEG/PNG in RGB, greyscale or RGBA, read as H x W x 3 uint8 RGB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def image_size(path) -> tuple[int, int]:
    """(height, width) from the file header, without decoding the pixels."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            w, h = im.size
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(path, f"is not a readable image ({exc}).",
                         "replace it with a JPEG or PNG scene image.") from exc
    return h, w


def load_rgb(path) -> np.ndarray:
    """Decode the whole image (a truncated file fails here) and return RGB uint8.

    Greyscale is replicated to three channels; RGBA is composited on black, which leaves
    opaque pixels unchanged (scene images carry no meaningful transparency).
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
                rgb = Image.alpha_composite(black, rgba).convert("RGB")
            else:
                rgb = im.convert("RGB")
            return np.asarray(rgb, dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InputError(path, f"cannot be decoded as an image, it may be truncated or not an image ({exc}).",
                         "re-copy or re-export the scene image.") from exc
