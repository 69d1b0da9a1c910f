"""The Hayes meaning-map toolkit's patch grid (Henderson & Hayes 2017), exact to the pixel.

For an H x W scene and N patches of diameter d at one scale:

* spacing ``px = round(sqrt(H*W) / sqrt(N))`` (MATLAB round: half away from zero);
* grid values ``px, 2px, ...`` up to H (rows) and up to W (columns);
* offsets ``y_off = px - ((H - max_row) + px) / 2`` and ``x_off`` likewise with W;
* centres ``round(grid - offset)`` in 1-based pixel coordinates;
* patches numbered row by row from the top left, 1..N;
* mask ``(row - cy)^2 + (col - cx)^2 < (d/2)^2`` with 1-based row and col.

Masks are built per patch bounding box (never per full frame): the map builder and the patch
cutter only touch the pixels a patch covers.

The paper's own grid (``patches.grid: paper``; ``extract_circular_patches`` of the paper's
``dataset.ipynb``, zhanshicu/meaning-map) is also here, for replication: radius
``int(deg / 90 * min(H, W))`` px, step ``int(radius * (1 - 0.1))`` px, 0-based centres
``range(0, H, step)`` x ``range(0, W, step)`` (rows outer), mask ``distance <= radius``, cropped to
the clipped bounding box. At 1024 x 768: radii 25 and 59 px, steps 22 and 53 px, 1,645 + 300 =
1,945 patches (the toolkit's 300 + 108 differ in number, place and size).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import InputError
from ..matlab import matlab_round

SCALES = ("fine", "coarse")


@dataclass(frozen=True)
class ScaleSpec:
    """One patch scale: its name, the toolkit's target patch count N and the diameter in pixels."""

    name: str
    n: int
    diameter: float
    grid: str = "toolkit"  # "paper": the paper's grid (n and diameter unused; degrees gives the size)
    degrees: float | None = None


@dataclass(frozen=True)
class Patch:
    """One circular patch. ``cx, cy`` are 1-based; the bounding box is 1-based and inclusive."""

    scale: str
    k: int
    cx: int
    cy: int
    diameter: float
    row_min: int
    row_max: int
    col_min: int
    col_max: int
    inclusive: bool = False  # the paper's grid: distance <= radius (the toolkit's: < radius)

    @property
    def rows(self) -> slice:
        """0-based slice of the bounding box rows, for numpy indexing."""
        return slice(self.row_min - 1, self.row_max)

    @property
    def cols(self) -> slice:
        return slice(self.col_min - 1, self.col_max)

    @cached_property
    def mask(self) -> np.ndarray:
        """Boolean mask over the bounding box: the toolkit's strict inequality (``<=`` for the paper's grid)."""
        r = np.arange(self.row_min, self.row_max + 1, dtype=np.float64)[:, None]
        c = np.arange(self.col_min, self.col_max + 1, dtype=np.float64)[None, :]
        d2 = (r - self.cy) ** 2 + (c - self.cx) ** 2
        return d2 <= (self.diameter / 2.0) ** 2 if self.inclusive else d2 < (self.diameter / 2.0) ** 2


def grid_centres(height: int, width: int, n: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Return (row centres, column centres, spacing) of the toolkit grid, 1-based."""
    if height < 1 or width < 1 or n < 1:
        raise ValueError(f"grid needs a positive size and count, got {height}x{width}, N={n}")
    px = int(matlab_round(np.sqrt(height * width) / np.sqrt(n)))
    if px < 1:
        raise ValueError(f"N={n} patches is too many for a {width}x{height} scene (spacing < 1 px)")
    rows = np.arange(px, height + 1, px, dtype=np.float64)
    cols = np.arange(px, width + 1, px, dtype=np.float64)
    if not rows.size or not cols.size:
        side = "height" if not rows.size else "width"
        raise ValueError(f"N={n} patches are too few for a {width}x{height} scene: their spacing, {px} px, is more "
                         f"than its {side}, so no {'row' if side == 'height' else 'column'} of patches fits")
    y_off = px - ((height - rows[-1]) + px) / 2.0
    x_off = px - ((width - cols[-1]) + px) / 2.0
    return matlab_round(rows - y_off).astype(int), matlab_round(cols - x_off).astype(int), px


def _bbox_1d(centre: int, radius: float, size: int) -> tuple[int, int]:
    """Inclusive 1-based range of coordinates t with (t - centre)^2 < radius^2, clipped."""
    lo = int(np.floor(centre - radius)) + 1
    hi = int(np.ceil(centre + radius)) - 1
    return max(lo, 1), min(hi, size)


GRIDS = ("toolkit", "paper")
PAPER_DEGREES = {"fine": 3, "coarse": 7}  # dataset.ipynb: degrees=[3, 7]
PAPER_FOV = 90  # degree_to_pixel's "field of view" over min(H, W)
PAPER_OVERLAP = 0.1  # extract_circular_patches' default overlap


def paper_radius(degrees: float, height: int, width: int) -> int:
    """The paper's ``degree_to_pixel``: ``int(deg / 90 * min(H, W))`` px (25 and 59 at 1024 x 768)."""
    return int((degrees / PAPER_FOV) * min(height, width))


def paper_step(radius: int) -> int:
    """The paper's grid step ``int(radius * (1 - overlap))`` (22 and 53 px at 1024 x 768)."""
    return int(radius * (1 - PAPER_OVERLAP))


def make_paper_patches(height: int, width: int, spec: ScaleSpec) -> list[Patch]:
    """The paper's patches of one scale, rows outer, numbered 1..N; centres stored 1-based."""
    radius = paper_radius(spec.degrees, height, width)
    step = paper_step(radius)
    if step < 1:
        raise InputError("patches.grid", f"the paper's grid gives {spec.name} patches of radius {radius} px and "
                         f"step {step} px on a {width}x{height} scene.",
                         "use patches.grid: toolkit for scenes this small.")
    patches = []
    for y in range(0, height, step):
        for x in range(0, width, step):
            cy, cx = y + 1, x + 1
            patches.append(Patch(spec.name, len(patches) + 1, cx, cy, float(2 * radius),
                                 max(cy - radius, 1), min(cy + radius, height),
                                 max(cx - radius, 1), min(cx + radius, width), inclusive=True))
    return patches


def paper_specs() -> list[ScaleSpec]:
    """The paper's two scales (3 and 7 degrees) for :class:`PatchGrid`."""
    return [ScaleSpec(name, 0, 0.0, grid="paper", degrees=float(deg)) for name, deg in PAPER_DEGREES.items()]


def make_patches(height: int, width: int, spec: ScaleSpec) -> list[Patch]:
    """All patches of one scale, numbered row by row from the top left, 1..N."""
    if spec.grid == "paper":
        return make_paper_patches(height, width, spec)
    try:
        cys, cxs, _ = grid_centres(height, width, spec.n)
    except ValueError as exc:
        more = "too few" in str(exc)
        raise InputError(f"patches.{spec.name}.n", f"{exc}.",
                         f"{'raise' if more else 'lower'} patches.{spec.name}.n (the toolkit uses 300 fine and 108 "
                         "coarse patches), or check the scene's size.") from exc
    radius = spec.diameter / 2.0
    patches = []
    k = 0
    for cy in cys:
        r0, r1 = _bbox_1d(int(cy), radius, height)
        for cx in cxs:
            c0, c1 = _bbox_1d(int(cx), radius, width)
            k += 1
            patches.append(Patch(spec.name, k, int(cx), int(cy), spec.diameter, r0, r1, c0, c1))
    return patches


class PatchGrid:
    """The two scales' patches of one scene size."""

    def __init__(self, height: int, width: int, specs: list[ScaleSpec]):
        self.height = int(height)
        self.width = int(width)
        self.specs = {s.name: s for s in specs}
        self.patches = {s.name: make_patches(self.height, self.width, s) for s in specs}

    def coverage(self, scale: str) -> np.ndarray:
        """How many patches of ``scale`` cover each pixel (H x W int)."""
        count = np.zeros((self.height, self.width), dtype=np.int32)
        for p in self.patches[scale]:
            count[p.rows, p.cols] += p.mask
        return count

    def full_mask(self, scale: str, k: int) -> np.ndarray:
        """Full-frame boolean mask of patch k (1-based), for checks and tests only."""
        p = self.patches[scale][k - 1]
        full = np.zeros((self.height, self.width), dtype=bool)
        full[p.rows, p.cols] = p.mask
        return full

    def index_rows(self) -> list[dict]:
        """One row per patch for ``index.csv``."""
        return [
            dict(scale=p.scale, k=p.k, cx=p.cx, cy=p.cy, diameter=p.diameter,
                 row_min=p.row_min, row_max=p.row_max, col_min=p.col_min, col_max=p.col_max,
                 n_pixels=int(p.mask.sum()))
            for scale in self.patches for p in self.patches[scale]
        ]


def cut_patch(image_rgb: np.ndarray, patch: Patch) -> np.ndarray:
    """The patch as the toolkit saves it: bounding box, RGBA, outside the mask RGB 0 and alpha 0."""
    box = image_rgb[patch.rows, patch.cols, :3]
    rgba = np.zeros(box.shape[:2] + (4,), dtype=np.uint8)
    m = patch.mask
    rgba[m, :3] = box[m]
    rgba[m, 3] = 255
    return rgba
