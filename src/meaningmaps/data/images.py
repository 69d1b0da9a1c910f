"""Scene images: JPEG or PNG, read as H x W x 3 uint8 RGB; 16-bit files scaled to 8 bits as viewers do.

============================================  =================================================
file (Pillow mode)                            read as
============================================  =================================================
8-bit RGB, greyscale, 1-bit, palette (P)      RGB, exactly (greyscale replicated to 3 channels)
16-bit greyscale PNG (I;16)                   the high byte of each value (``v >> 8``), as grey
16-bit RGB / RGBA / grey+alpha PNG            Pillow decodes these to 8 bits by the high byte too
alpha (LA, PA, RGBA, P with transparency)     composited on black: opaque pixels unchanged
a transparent colour key in RGB/grey PNGs     ignored (as before): the colour is kept
CMYK (JPEG)                                   refused: its RGB depends on a colour profile
EXIF orientation other than 1 (normal)        refused: which way the subjects saw it is unknown
anything else (F, 32-bit I, LAB, ...)         refused
============================================  =================================================

16-bit: ``v >> 8`` (the high byte) is how Pillow itself reduces 16-bit RGB PNGs and how libpng's
``png_set_strip_16`` (used by web browsers) does; it differs from ``round(v / 257)`` by at most one
grey level, and both give back exactly the 8-bit image a 16-bit one was made from (``v * 257``).

EXIF orientation: the fixations and the ratings were recorded on the image as shown to the
subjects and raters. MATLAB ``imread`` (the Hayes toolkit, Psychtoolbox) and PsychoPy show the
stored pixels; browsers and photo viewers rotate by the tag. A tag other than 1 therefore makes
the coordinates ambiguous, and the image is refused with both fixes (remove the tag, or store the
rotated pixels), rather than guessed either way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import InputError
from .empty_files import not_a_data_file

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
PLAIN_MODES = ("1", "L", "P", "RGB", "RGBX", "YCbCr")
ALPHA_MODES = ("LA", "PA", "RGBA")
GREY16_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
ORIENTATION_TAG = 0x0112
_ORIENTATIONS = {2: "mirrored", 3: "rotated 180 degrees", 4: "flipped upside down",
                 5: "mirrored and rotated 90 degrees", 6: "rotated 90 degrees clockwise",
                 7: "mirrored and rotated 270 degrees", 8: "rotated 90 degrees counter-clockwise"}
_TO_RGB = "re-save it as an 8-bit RGB or greyscale JPEG or PNG, as it was shown to the subjects"


def image_size(path) -> tuple[int, int]:
    """(height, width) from the file header, without decoding the pixels. Also refuses, at once, a
    mode or an EXIF orientation :func:`load_rgb` would refuse (when the header shows it)."""
    path = Path(path)
    _refuse_no_data(path)
    try:
        with Image.open(path) as im:
            check_mode(im, path)
            if "exif" in im.info:  # JPEG: always in the header; PNG: when before the pixels
                check_orientation(im, path)
            w, h = im.size
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(path, f"is not a readable image ({exc}).",
                         "replace it with a JPEG or PNG scene image.") from exc
    return h, w


def load_rgb(path) -> np.ndarray:
    """Decode the whole image (a truncated file fails here) and return it as RGB uint8, the pixels
    a viewer shows (module docstring: 16-bit, alpha, palette; CMYK and EXIF rotation refused)."""
    path = Path(path)
    _refuse_no_data(path)
    try:
        with Image.open(path) as im:
            check_mode(im, path)
            im.load()
            check_orientation(im, path)
            return to_rgb(im, path)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InputError(path, f"cannot be decoded as an image, it may be truncated or not an image ({exc}).",
                         "re-copy or re-export the scene image.") from exc


def _refuse_no_data(path: Path) -> None:
    """A folder named like an image, or an empty file, named for what it is (not a decoder's complaint)."""
    why = not_a_data_file(path)
    if why:
        raise InputError(path, f"{why}, so it holds no scene image.",
                         "replace it with the scene's JPEG or PNG image as shown to the subjects (re-copy it if the "
                         "copy was cut short), or remove it and its scene from the study.")


def check_mode(im: Image.Image, path) -> None:
    """Refuse a mode whose RGB would be a guess (CMYK) or that is not an image's pixels (F, LAB)."""
    if im.mode == "CMYK":
        raise InputError(path, "is a CMYK image: its RGB colours depend on a colour profile, so the pixels "
                         "the subjects saw cannot be known from the file.",
                         "convert it to 8-bit RGB (sRGB) with the software the stimuli were prepared with, "
                         "e.g. `magick scene.jpg -colorspace sRGB scene.jpg`.")
    if im.mode not in PLAIN_MODES + ALPHA_MODES + GREY16_MODES:
        raise InputError(path, f"has image mode {im.mode}, which is not an 8- or 16-bit RGB or greyscale image.",
                         f"{_TO_RGB}.")


def check_orientation(im: Image.Image, path) -> None:
    """Refuse an EXIF orientation other than 1 (see the module docstring: the convention is unknown)."""
    orientation = im.getexif().get(ORIENTATION_TAG)
    if orientation in (None, 0, 1):
        return
    shown = _ORIENTATIONS.get(orientation, f"orientation {orientation}")
    raise InputError(path, f"has an EXIF orientation tag ({orientation}: viewers show it {shown}); MATLAB imread, "
                     "Psychtoolbox and PsychoPy show the stored pixels, so which image the fixations and ratings "
                     "were recorded on is ambiguous.",
                     "if the subjects saw the stored pixels, set the tag to 1 (`exiftool -n -Orientation=1 "
                     "scene.jpg`); if they saw it rotated, store the rotated pixels (`magick scene.jpg -auto-orient "
                     "scene.jpg`) and check that the fixations and ratings are on that rotated image.")


def to_rgb(im: Image.Image, path=None) -> np.ndarray:
    """An opened (loaded) image of an accepted mode as H x W x 3 uint8."""
    if im.mode in GREY16_MODES:
        grey = grey16_to_8(np.asarray(im), path)
        return np.repeat(grey[..., None], 3, axis=2)
    if im.mode in ALPHA_MODES or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return np.asarray(Image.alpha_composite(black, rgba).convert("RGB"), dtype=np.uint8).copy()
    return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def grey16_to_8(values: np.ndarray, path=None) -> np.ndarray:
    """16-bit grey values 0..65535 to 8 bits by the high byte (``v >> 8``; see the module docstring).
    A 32-bit image (mode I) outside 0..65535 is refused: it is not a 16-bit image."""
    values = np.asarray(values)
    if values.dtype.itemsize > 2 and values.size and (values.min() < 0 or values.max() > 65535):
        raise InputError(path, f"holds values {int(values.min())}..{int(values.max())}, outside the 16-bit range "
                         "0..65535.", f"{_TO_RGB}.")
    return (values.astype(np.uint16) >> 8).astype(np.uint8)
