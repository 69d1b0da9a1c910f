"""Whether a scene's fixations are pixels of its image: their units, a screen offset, and the
checks that refuse coordinates that cannot be right (issue 21).

Why: coordinates in another frame than the image's pixels can pass the off-image test and give
wrong numbers with exit 0. Fractions of the image (0..1, as Tobii and Pupil export them) read as
pixels put every fixation in the top-left pixel (the human map's r with attention fell from 0.76
to -0.04); screen coordinates (the image shown at an offset on a larger screen) with
``dataset.fixations_outside: drop`` silently lost 76-85% of the fixations. So the frame is said,
or checked, for every scene (:func:`meaningmaps.data.fixations.scene_fixations` calls these):

``dataset.fixation_csv.units: pixels | fraction`` (a CSV only; unset: pixels, checked by the span test)
    ``fraction``: x is the fraction of the image's width from its left edge, y the fraction of its
    height from its top edge (y grows downwards, as rows do; Pupil's surface coordinates count y
    from the bottom: give 1 - y). Converted exactly to 1-based pixels (pixel c covers
    [c - 0.5, c + 0.5)): ``col = 0.5 + x * W``, ``row = 0.5 + y * H``; so x = 0 is the image's left
    edge, the centre of column c is x = (c - 0.5) / W, and x in [0, 1) is on the image (1 is the
    right edge, off it as the pixel W + 1). No origin applies (``origin`` must stay unset), nor an
    offset. ``pixels``: the positions are pixels of the image, as the origin says, and the span test
    is not made (the key says so; for the rare study whose fixations really are that tight).

``dataset.fixation_csv.offset: [x, y]`` (a CSV only, in pixels)
    For screen coordinates: the number of screen pixels left of and above the image (448, 156 for a
    1024 x 768 image centred on a 1920 x 1080 screen), subtracted from every x and y before the
    origin is decided and applied; the origin is then that of the screen coordinates.

The span test (units unset; always for a ``.mat`` file, whose layout is pixels)
    A scene with at least :data:`SPAN_MIN_FIXATIONS` fixations (all its fixations in the file,
    before the selection by number) whose positions all lie in a box narrower than
    :data:`SPAN_MIN_FRACTION` of the image's width AND shorter than that fraction of its height is
    refused: those are not the pixels of viewers looking at a scene. 0..1 values make a box of at
    most 1 x 1 px; degrees or centimetres a few tens of px. Measured on real data: in the Henderson
    & Hayes (2017) file every scene's fixations span at least 79.6% of the width and 70.6% of the
    height (2,153 or more fixations a scene), and even one participant's trial of 10 or more
    fixations spans at least 19.6% of the width or the height; the demo's scenes at least 74%.

The dropped share (``dataset.fixations_outside_max``, default 0.05)
    With ``fixations_outside: drop`` a scene whose off-image fixations are more than this fraction of
    its fixations (those selected by number) is refused with the counts: a few fixations beyond an
    edge are expected, most of them mean another frame (screen coordinates: set ``offset``).

A scene without fixations (none in the file, or none left after dropping) is refused: its
attention map would be empty, and scoring would stop only after every map had been made.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError

UNITS_KEY = "dataset.fixation_csv.units"
OFFSET_KEY = "dataset.fixation_csv.offset"
OUTSIDE_MAX_KEY = "dataset.fixations_outside_max"
_ORIGIN_KEY = "dataset.fixation_csv.origin"
_OUTSIDE_KEY = "dataset.fixations_outside"
UNITS = ("pixels", "fraction")
#: The schema's default of ``dataset.fixations_outside_max``.
OUTSIDE_MAX_DEFAULT = 0.05
#: The span test needs this many fixations of a scene to mean something.
SPAN_MIN_FIXATIONS = 10
#: ... and refuses them when they lie within this fraction of the image's width and of its height.
SPAN_MIN_FRACTION = 0.05


def check_frame_keys(units, offset, origin, path=None, csv: bool = True) -> None:
    """Refuse keys that cannot go together: units or offset for a .mat file (its layout is 1-based
    pixels), an unknown unit, fraction with an origin or an offset, an offset that is not [x, y]."""
    if not csv:
        for key, value in ((UNITS_KEY, units), (OFFSET_KEY, offset)):
            if value is not None:
                raise InputError(path, f"{key} is set, but this is a .mat file ([row, col] in 1-based pixels by its "
                                 "layout).", f"remove {key}; it applies to a fixation CSV.")
        return
    if units is not None and units not in UNITS:
        raise InputError(UNITS_KEY, f"must be pixels or fraction, got {units!r}.",
                         f"set {UNITS_KEY}: pixels or fraction (of the image, 0..1), or remove it.")
    if offset is not None and not _pair(offset):
        raise InputError(OFFSET_KEY, f"must be [x, y] (two numbers), got {offset!r}.",
                         f"set {OFFSET_KEY}: [x, y], the screen pixels left of and above the image.")
    if units == "fraction" and origin is not None:
        raise InputError(UNITS_KEY, f"is fraction and {_ORIGIN_KEY} is {origin}: fractions of the image "
                         "(0 its left or top edge, 1 its right or bottom edge) have no origin.",
                         f"remove {_ORIGIN_KEY} (or, for pixel positions, set {UNITS_KEY}: pixels).")
    if units == "fraction" and offset is not None:
        raise InputError(UNITS_KEY, f"is fraction and {OFFSET_KEY} is set: the offset is in pixels, and "
                         "fractions are of the image itself.", f"remove {OFFSET_KEY}; for fractions of a larger "
                         f"screen, convert them to screen pixels (x * screen width, y * screen height) and set "
                         f"{UNITS_KEY}: pixels with the {OFFSET_KEY} of the image on that screen.")


def _pair(value) -> bool:
    try:
        return len(value) == 2 and all(np.isfinite(float(v)) for v in value)
    except (TypeError, ValueError):
        return False


def apply_offset(fix: pd.DataFrame, offset) -> pd.DataFrame:
    """``fix`` with ``offset`` [x, y] subtracted from its columns and rows (None: unchanged)."""
    if offset is None:
        return fix
    dx, dy = (float(v) for v in offset)
    return fix.assign(col=fix["col"] - dx, row=fix["row"] - dy)


def fraction_to_pixels(fix: pd.DataFrame, height: int, width: int) -> pd.DataFrame:
    """Fractions of the image (x from the left edge, y from the top) as 1-based pixel positions:
    ``col = 0.5 + x * width``, ``row = 0.5 + y * height`` (the module docstring)."""
    return fix.assign(col=0.5 + fix["col"] * float(width), row=0.5 + fix["row"] * float(height))


def check_has_fixations(fix: pd.DataFrame, scene: str, path=None) -> None:
    """Refuse a scene with no fixations in the file."""
    if not len(fix):
        raise InputError(path, f"scene {scene!r} has no fixations in this file, so it has no attention map to "
                         "score any map against.", "add the scene's fixations to the file, or leave the scene out "
                         "with dataset.scenes.")


def check_kept(kept: int, dropped: int, scene: str, height: int, width: int, path=None) -> None:
    """Refuse a scene whose fixations were all dropped as off its image."""
    if not kept:
        raise InputError(path, f"scene {scene!r}: all {dropped} of its fixations fall outside its {width} x "
                         f"{height} (W x H) image and were dropped ({_OUTSIDE_KEY}: drop), so it has no "
                         "fixations left.", _frame_fix())


def check_span(fix: pd.DataFrame, scene: str, height: int, width: int, path=None, csv: bool = True) -> None:
    """The span test (module docstring) on the positions as the file has them (``col`` = x,
    ``row`` = y): refuse at least :data:`SPAN_MIN_FIXATIONS` fixations within a box under
    :data:`SPAN_MIN_FRACTION` of the image's width and of its height."""
    n = len(fix)
    if n < SPAN_MIN_FIXATIONS:
        return
    x, y = fix["col"].to_numpy(np.float64), fix["row"].to_numpy(np.float64)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return  # refused by check_fixations, naming them
    span_x, span_y = float(x.max() - x.min()), float(y.max() - y.min())
    if span_x >= SPAN_MIN_FRACTION * width or span_y >= SPAN_MIN_FRACTION * height:
        return
    held = (f"x {_num(x.min())} to {_num(x.max())} and y {_num(y.min())} to {_num(y.max())}" if csv else
            f"col {_num(x.min())} to {_num(x.max())} and row {_num(y.min())} to {_num(y.max())}")
    problem = (f"scene {scene!r}: its {n} fixations lie within {held}, a box of {_num(span_x)} x {_num(span_y)} px, "
               f"under {SPAN_MIN_FRACTION:.0%} of the width and of the height of its {width} x {height} (W x H) "
               "image: these are not pixel positions on this image (values within 0..1 are fractions of the image, "
               "as Tobii and Pupil export them; other small ranges may be degrees or centimetres).")
    if csv:
        fix_text = (f"if x and y are fractions of the image (0 its left or top edge, 1 its right or bottom edge), set "
                    f"{UNITS_KEY}: fraction; if they are in other units, convert them to the image's pixels; if "
                    f"they really are pixels of this image, set {UNITS_KEY}: pixels (then this test is not made).")
    else:
        fix_text = ("the Henderson & Hayes .mat layout holds [row, col] in 1-based pixels of the image: convert the "
                    "positions to pixels.")
    raise InputError(path, problem, fix_text)


def check_dropped_share(n_off: int, n: int, scene: str, height: int, width: int, row: np.ndarray, col: np.ndarray,
                        outside_max: float | None, path=None) -> None:
    """Refuse dropping more than ``outside_max`` of a scene's ``n`` fixations (None: any share);
    ``row``/``col``: the scene's 1-based positions, for the message."""
    if outside_max is None or not n or n_off <= outside_max * n:
        return
    raise InputError(
        path,
        f"scene {scene!r}: {n_off} of {n} fixations ({n_off / n:.1%}) fall outside its {width} x {height} (W x H) "
        f"image and would be dropped ({_OUTSIDE_KEY}: drop), more than {OUTSIDE_MAX_KEY} ({outside_max:g}) allows; "
        f"its fixations lie at x (col) {_num(col.min())} to {_num(col.max())} and y (row) {_num(row.min())} to "
        f"{_num(row.max())}, 1-based pixels as read.",
        _frame_fix() + f" To drop that many anyway, raise {OUTSIDE_MAX_KEY} (0..1).",
    )


def _frame_fix() -> str:
    return (f"if the coordinates are the screen's (the image shown at an offset on a larger screen), set "
            f"{OFFSET_KEY}: [x, y], the screen pixels left of and above the image; check {_ORIGIN_KEY}, "
            f"{UNITS_KEY}, which columns are x and y, and the image size.")


def _num(v: float) -> str:
    """A coordinate for a message: 6 significant digits, no numpy repr."""
    return f"{float(v):.6g}"
