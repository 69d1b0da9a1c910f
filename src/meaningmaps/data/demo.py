"""A deterministic synthetic meaning-map study, so the workflow runs on a fresh machine offline.

What and why
------------
The real study (scenes, Hayes-toolkit rating matrices, eye-movement data) is not redistributable
and needs a download. ``make_demo_study`` instead draws a small study of the same *shape* from a
seed: procedural scenes, toolkit rating matrices, a fixation table and an external "image
salience" map per scene. Every input loader and every rule of the workflow can then be run and
tested end to end, and because the generating truth is known, the analysis must recover a real
effect (meaning predicts attention better than low-level salience).

How the hidden meaning drives everything
----------------------------------------
Each scene is a textured background (a wall and a floor split at a random horizon, smooth noise,
shading) with several objects painted in random order. Every object has a hidden *meaning*:

=========  =======  ==============================================================
kind       meaning  look
=========  =======  ==============================================================
face       1.00     ellipse with two eyes, a nose and a mouth
text       0.85     light sign with lines of dark word-like bars
stripes    0.60     rectangle of differently coloured stripes (books on a shelf)
window     0.50     framed rectangle split into panes by a cross
blob       0.10     plain ellipse close to the background colour (low contrast)
noise      0.05     black/white random-noise patch: high contrast, meaningless
=========  =======  ==============================================================

Every scene has at least one face, text, stripes, blob and noise object, so low-level salience
(the noise patch is by far the strongest edge/contrast signal) and meaning disagree.
The *hidden meaning map* is each pixel's topmost object's meaning (0 on the background).

* Ratings: every patch of the fine and coarse toolkit grids gets ``raters`` integer ratings.
  The patch's true score is ``1 + 5 * min(1, 2 * m)``, where ``m`` is the mean hidden meaning over
  the patch mask (i.e. the meaning-weighted fraction of the patch covered by objects; a patch half
  covered by a face already scores 6). Each rater adds independent N(0, 0.75) noise; the result
  is MATLAB-rounded and clipped to 1..6. The lists are turned into toolkit rating matrices with
  :func:`meaningmaps.data.rating_matrix.build_rating_matrix`.
* Fixations: for each subject and scene, ``fixations_per_subject`` pixels are drawn from a density
  proportional to ``(imgaussfilt(hidden meaning, 1 deg) + 0.03) x centre bias``, the centre bias
  being a Gaussian at the image centre with sigma W/4 and H/4. Positions get a sub-pixel jitter
  (|jitter| < 0.5 px, so they round back into the drawn pixel; clipped to [1, W] x [1, H]).
  Durations are ``150 + Gamma(2, 40 + 60 m)`` ms (m: meaning at the fixation), capped at 600.
* Salience: ``maps/salience/scene_XX.png`` is Sobel gradient energy of the saved image's
  luminance, blurred (sigma 0.5 deg) and scaled to 0..255: a low-level competitor map.

Patch grid
----------
The demo scenes are half the real resolution (512 x 384 instead of 1024 x 768), i.e. 14.5 px per
degree, so the 3 and 7 degree patches are 44 and 102 px (MATLAB-rounded). At this size the
toolkit's N = 300 and N = 108 leave the image borders uncovered (the spacing round(sqrt(HW/N))
comes out 26 and 43 px, not 25.5 and 42.5), so the map would be undefined there. The diameters are
kept and N is raised to the smallest value >= 300 (>= 108) whose grid covers every pixel:
N = 328 (336 fine patches, 24 px spacing) and N = 109 (108 coarse patches, 12 x 9, like the real
grid). :func:`demo_scale_specs` computes this for any size; the returned dict reports it.

Files (under ``out_dir``)
-------------------------
``images/scene_XX.{jpg,png}``   RGB JPEG; scene_02 is a greyscale PNG (mode L), scene_03 an RGBA
                                PNG (alpha 255), to exercise the loaders.
``ratings/scene_XX.mat``        toolkit rating matrices (variable ``rating_matrix``, H x W x 2 cells)
``fixations.csv``               scene, x, y, duration, subject (x = column, y = row, 1-based)
``maps/salience/scene_XX.png``  8-bit greyscale salience map
``truth/meaning/scene_XX.npy``  the hidden meaning map (float32, H x W), for checks only
``truth/objects.csv``           every object: scene, id, kind, meaning, bounding box

Determinism: scene i is drawn from ``numpy.random.default_rng([seed, i])`` alone, so the same seed
gives byte-identical files (the .mat header carries no timestamp), and a study with fewer scenes is
a prefix of a larger one.

Speed: ``scipy.io.savemat`` spends ~10 s per scene walking the 393,216 cells in Python.
:func:`meaningmaps.data.mat_writer.save_cell_matrix` (used by ``save_rating_matrix``) writes the same
bytes with numpy in well under a second.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from PIL import Image
from scipy import ndimage

from ..atomic import atomic_path, save_csv, save_npy
from ..errors import InputError
from ..folders import check_output_folder
from ..maps.patch_grid import PatchGrid, ScaleSpec, grid_centres
from ..maps.smoothing import imgaussfilt
from ..matlab import matlab_round
from .rating_matrix import build_rating_matrix, save_rating_matrix

#: Pixels per degree of the 512-px-wide demo scenes (the real 1024-px scenes have 29).
PIXELS_PER_DEGREE_AT_512 = 14.5
#: Patch diameters in degrees and the toolkit's patch counts.
PATCH_DEGREES = {"fine": 3.0, "coarse": 7.0}
TOOLKIT_N = {"fine": 300, "coarse": 108}

MEANING = {"face": 1.0, "text": 0.85, "stripes": 0.6, "window": 0.5, "blob": 0.1, "noise": 0.05}
REQUIRED_KINDS = ("face", "text", "stripes", "blob", "noise")
EXTRA_KINDS = ("face", "text", "stripes", "window", "window", "blob", "noise")

GREY_SCENE = 2   # 1-based index of the greyscale PNG scene
RGBA_SCENE = 3   # 1-based index of the RGBA PNG scene

RATING_NOISE_SD = 0.75
FIXATION_FLOOR = 0.03


# ----------------------------------------------------------------------------- patch grid

def covering_n(height: int, width: int, n: int, diameter: float, max_n: int | None = None) -> int:
    """Smallest N >= n whose toolkit grid with this diameter covers every pixel."""
    last_px = None
    for m in range(n, (max_n or 4 * n) + 1):
        px = grid_centres(height, width, m)[2]
        if px == last_px:  # same spacing, same grid: already known to leave holes
            continue
        last_px = px
        grid = PatchGrid(height, width, [ScaleSpec("s", m, diameter)])
        if grid.coverage("s").min() > 0:
            return m
    raise ValueError(f"no N in {n}..{max_n or 4 * n} lets {diameter}-px patches cover {width}x{height}")


def demo_scale_specs(height: int = 384, width: int = 512) -> list[ScaleSpec]:
    """Fine and coarse specs: 3 and 7 degree diameters at 14.5 px/deg per 512 px of width
    (MATLAB-rounded), with the smallest N >= the toolkit's that covers every pixel."""
    ppd = PIXELS_PER_DEGREE_AT_512 * width / 512.0
    specs = []
    for name in ("fine", "coarse"):
        d = float(matlab_round(PATCH_DEGREES[name] * ppd))
        specs.append(ScaleSpec(name, covering_n(height, width, TOOLKIT_N[name], d), d))
    return specs


# ----------------------------------------------------------------------------- scene rendering

def _smooth_noise(rng, h: int, w: int, cell: int) -> np.ndarray:
    """Zero-mean, unit-sd smooth noise: a coarse random grid upsampled with cubic splines."""
    small = rng.standard_normal((h // cell + 3, w // cell + 3))
    big = ndimage.zoom(small, cell, order=3)[:h, :w]
    return (big - big.mean()) / (big.std() + 1e-12)


def _background(rng, h: int, w: int) -> np.ndarray:
    horizon = int(h * rng.uniform(0.45, 0.65))
    wall = rng.uniform(0.45, 0.85, 3)
    floor = rng.uniform(0.2, 0.6, 3)
    img = np.empty((h, w, 3))
    rows = np.arange(h)[:, None, None] / h
    img[:horizon] = wall * (1.05 - 0.15 * rows[:horizon])
    img[horizon:] = floor * (0.8 + 0.3 * (rows[horizon:] - horizon / h))
    img *= 1 + 0.06 * _smooth_noise(rng, h, w, 48)[:, :, None]
    img += 0.02 * _smooth_noise(rng, h, w, 6)[:, :, None]
    img[max(horizon - 2, 0):horizon + 2] *= 0.75   # skirting board line
    return img


def _ellipse(yy, xx):
    return yy ** 2 + xx ** 2 <= 1.0


def _disk(yy, xx, cy, cx, r):
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r ** 2


def _word_bars(rng, yy, xx, n_lines: int) -> np.ndarray:
    """Lines of word-like bars inside [-0.8, 0.8]^2 of the local coordinates."""
    ink = np.zeros(yy.shape, dtype=bool)
    centres = np.linspace(-0.65, 0.65, n_lines)
    half = 0.45 / n_lines
    for cy in centres:
        x = -0.8 + rng.uniform(0, 0.15)
        end = 0.8 - rng.uniform(0, 0.5)
        while x < end:
            length = rng.uniform(0.08, 0.35)
            ink |= (np.abs(yy - cy) < half) & (xx >= x) & (xx < min(x + length, end))
            x += length + rng.uniform(0.05, 0.1)
    return ink


def _render_object(rng, kind: str, bh: int, bw: int, bg_colour: np.ndarray):
    """(mask, rgb) of one object in its bh x bw bounding box."""
    yy = (np.arange(bh)[:, None] + 0.5) / bh * 2 - 1
    xx = (np.arange(bw)[None, :] + 0.5) / bw * 2 - 1
    yy, xx = np.broadcast_arrays(yy, xx)
    rgb = np.empty((bh, bw, 3))
    shade = (1.0 - 0.15 * (yy + xx) / 2)[:, :, None]
    if kind == "face":
        mask = _ellipse(yy, xx)
        rgb[:] = rng.uniform([0.55, 0.35, 0.25], [0.95, 0.8, 0.65]) * shade
        dark = rng.uniform(0.0, 0.15, 3)
        feat = (_disk(yy, xx, -0.25, -0.35, 0.13) | _disk(yy, xx, -0.25, 0.35, 0.13)
                | _disk(yy, xx, 0.12, 0.0, 0.07)
                | ((np.abs(yy - 0.45) < 0.07) & (np.abs(xx) < 0.38)))
        rgb[feat] = dark
    elif kind == "text":
        mask = np.ones((bh, bw), dtype=bool)
        rgb[:] = rng.uniform(0.82, 0.97, 3)
        rgb[_word_bars(rng, yy, xx, int(rng.integers(4, 8)))] = rng.uniform(0.0, 0.2, 3)
        border = (np.abs(yy) > 0.94) | (np.abs(xx) > 0.96)
        rgb[border] = rng.uniform(0.2, 0.5, 3)
    elif kind == "stripes":
        mask = np.ones((bh, bw), dtype=bool)
        k = int(rng.integers(5, 10))
        colours = rng.uniform(0.1, 0.9, (k, 3))
        along = xx if rng.random() < 0.7 else yy
        band = np.minimum(((along + 1) / 2 * k).astype(int), k - 1)
        rgb[:] = colours[band] * shade
        gap = np.abs(((along + 1) / 2 * k) - np.rint((along + 1) / 2 * k)) < 0.06
        rgb[gap] *= 0.4
    elif kind == "window":
        mask = np.ones((bh, bw), dtype=bool)
        sky = rng.uniform([0.5, 0.65, 0.8], [0.7, 0.85, 1.0])
        rgb[:] = sky * (1.0 - 0.25 * (yy + 1) / 2)[:, :, None]
        frame = (np.abs(yy) > 0.88) | (np.abs(xx) > 0.9) | (np.abs(yy) < 0.05) | (np.abs(xx) < 0.05)
        rgb[frame] = rng.uniform(0.25, 0.95, 3)
    elif kind == "blob":
        mask = _ellipse(yy, xx)
        rgb[:] = np.clip(bg_colour + rng.uniform(-0.08, 0.08, 3), 0, 1) * (1.0 - 0.1 * (yy + xx) / 2)[:, :, None]
    elif kind == "noise":
        mask = _ellipse(yy, xx) if rng.random() < 0.5 else np.ones((bh, bw), dtype=bool)
        grain = int(rng.integers(2, 5))
        bits = rng.random(((bh + grain - 1) // grain, (bw + grain - 1) // grain)) < 0.5
        bits = np.repeat(np.repeat(bits, grain, 0), grain, 1)[:bh, :bw]
        lo, hi = rng.uniform(0.0, 0.08, 3), rng.uniform(0.92, 1.0, 3)
        rgb[:] = np.where(bits[:, :, None], hi, lo)
    else:  # pragma: no cover - kinds are fixed above
        raise ValueError(kind)
    if kind != "noise":
        rgb *= 1 + 0.04 * rng.standard_normal((bh, bw, 1))
    return mask, rgb


# Per kind: (width as a fraction of the scene width, height/width aspect ratio), uniform ranges.
OBJECT_SIZES = {
    "face": ((0.09, 0.16), (1.15, 1.35)),
    "text": ((0.16, 0.28), (0.45, 0.75)),
    "stripes": ((0.12, 0.24), (0.6, 1.1)),
    "window": ((0.12, 0.2), (0.9, 1.3)),
}
OTHER_SIZE = ((0.1, 0.22), (0.6, 1.2))


def _object_size(rng, kind: str, h: int, w: int) -> tuple[int, int]:
    (w_lo, w_hi), (a_lo, a_hi) = OBJECT_SIZES.get(kind, OTHER_SIZE)
    bw = rng.uniform(w_lo, w_hi) * w
    bh = bw * rng.uniform(a_lo, a_hi)
    return int(min(bh, 0.45 * h)), int(bw)


def _place(rng, bh: int, bw: int, h: int, w: int, boxes: list) -> tuple[int, int]:
    """Top-left corner; tries to keep bounding-box overlap with earlier objects under 10%."""
    best = None
    for _ in range(60):
        r0 = int(rng.integers(4, h - bh - 4))
        c0 = int(rng.integers(4, w - bw - 4))
        overlap = 0
        for (a0, b0, ah, aw) in boxes:
            dy = min(r0 + bh, a0 + ah) - max(r0, a0)
            dx = min(c0 + bw, b0 + aw) - max(c0, b0)
            overlap = max(overlap, max(dy, 0) * max(dx, 0))
        if best is None or overlap < best[0]:
            best = (overlap, r0, c0)
        if overlap <= 0.1 * bh * bw:
            break
    return best[1], best[2]


def render_scene(rng, height: int, width: int):
    """(rgb uint8 H x W x 3, hidden meaning float32 H x W, list of object dicts)."""
    img = _background(rng, height, width)
    meaning = np.zeros((height, width), dtype=np.float32)
    kinds = list(REQUIRED_KINDS) + list(rng.choice(EXTRA_KINDS, size=int(rng.integers(1, 4))))
    kinds = [str(k) for k in rng.permutation(kinds)]   # painter's order
    boxes, objects = [], []
    for i, kind in enumerate(kinds, start=1):
        bh, bw = _object_size(rng, kind, height, width)
        r0, c0 = _place(rng, bh, bw, height, width, boxes)
        boxes.append((r0, c0, bh, bw))
        region = img[r0:r0 + bh, c0:c0 + bw]
        mask, rgb = _render_object(rng, kind, bh, bw, region.mean(axis=(0, 1)))
        region[mask] = rgb[mask]
        meaning[r0:r0 + bh, c0:c0 + bw][mask] = MEANING[kind]
        objects.append(dict(id=i, kind=kind, meaning=MEANING[kind], row_min=r0 + 1, row_max=r0 + bh,
                            col_min=c0 + 1, col_max=c0 + bw))
    rgb8 = matlab_round(np.clip(img, 0.0, 1.0) * 255.0).astype(np.uint8)
    return rgb8, meaning, objects


# ----------------------------------------------------------------------------- ratings, fixations, salience

def patch_ratings(rng, meaning: np.ndarray, grid: PatchGrid, raters: int) -> dict[str, list[np.ndarray]]:
    """``raters`` ratings 1..6 per patch: 1 + 5 min(1, 2 m) plus rater noise, rounded, clipped."""
    out = {}
    m64 = meaning.astype(np.float64)
    for scale, patches in grid.patches.items():
        lists = []
        for p in patches:
            m = m64[p.rows, p.cols][p.mask].mean()
            base = 1.0 + 5.0 * min(1.0, 2.0 * m)
            noisy = matlab_round(base + rng.normal(0.0, RATING_NOISE_SD, raters))
            lists.append(np.clip(noisy, 1, 6).astype(np.int64))
        out[scale] = lists
    return out


def fixation_density(meaning: np.ndarray, ppd: float) -> np.ndarray:
    """Normalised fixation density: (smoothed meaning + floor) x centre-bias Gaussian."""
    h, w = meaning.shape
    dens = imgaussfilt(meaning.astype(np.float64), ppd) + FIXATION_FLOOR
    yy = (np.arange(h)[:, None] - (h - 1) / 2) / (h / 4)
    xx = (np.arange(w)[None, :] - (w - 1) / 2) / (w / 4)
    dens = dens * np.exp(-0.5 * (yy ** 2 + xx ** 2))
    return dens / dens.sum()


def draw_fixations(rng, scene: str, meaning: np.ndarray, ppd: float, n_subjects: int,
                   per_subject: int) -> pd.DataFrame:
    h, w = meaning.shape
    cdf = np.cumsum(fixation_density(meaning, ppd).ravel())
    n = n_subjects * per_subject
    idx = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), cdf.size - 1)
    row, col = np.divmod(idx, w)
    x = np.clip(np.round(col + 1 + rng.uniform(-0.49, 0.49, n), 2), 1, w)
    y = np.clip(np.round(row + 1 + rng.uniform(-0.49, 0.49, n), 2), 1, h)
    m = meaning.ravel()[idx].astype(np.float64)
    duration = np.minimum(np.rint(150 + rng.gamma(2.0, 40.0 + 60.0 * m)), 600).astype(np.int64)
    subjects = np.repeat([f"s{s:02d}" for s in range(1, n_subjects + 1)], per_subject)
    return pd.DataFrame({"scene": scene, "x": x, "y": y, "duration": duration, "subject": subjects})


def salience_map(image_path, ppd: float) -> np.ndarray:
    """8-bit low-level salience: blurred Sobel gradient energy of the image's luminance."""
    with Image.open(image_path) as im:
        grey = np.asarray(im.convert("L"), dtype=np.float64) / 255.0
    energy = np.hypot(ndimage.sobel(grey, axis=0), ndimage.sobel(grey, axis=1))
    sal = imgaussfilt(energy, 0.5 * ppd)
    sal -= sal.min()
    sal /= max(sal.max(), 1e-12)
    return matlab_round(sal * 255.0).astype(np.uint8)


def _save_image(path: Path, image: Image.Image, fmt: str, **kw) -> None:
    with atomic_path(path) as tmp:
        image.save(tmp, format=fmt, **kw)


# ----------------------------------------------------------------------------- the study

def make_demo_study(out_dir, n_scenes: int = 8, width: int = 512, height: int = 384,
                    n_subjects: int = 12, fixations_per_subject: int = 12, raters: int = 3,
                    seed: int = 2017) -> dict:
    """Write a synthetic study under ``out_dir`` (see the module docstring); return its summary."""
    if n_scenes < 1 or n_subjects < 1 or fixations_per_subject < 1 or raters < 1:
        raise ValueError("n_scenes, n_subjects, fixations_per_subject and raters must be >= 1")
    if n_scenes > 99:
        raise ValueError("at most 99 scenes (names are scene_01..scene_99)")
    if width < 64 or height < 64:
        raise ValueError(f"scenes must be at least 64 x 64 px, got {width} x {height}")
    out = Path(out_dir)
    ppd = PIXELS_PER_DEGREE_AT_512 * width / 512.0
    specs = demo_scale_specs(height, width)
    grid = PatchGrid(height, width, specs)
    scenes, images, fixations, objects = [], {}, [], []
    for i in range(1, n_scenes + 1):
        rng = np.random.default_rng([seed, i])
        scene = f"scene_{i:02d}"
        rgb, meaning, objs = render_scene(rng, height, width)
        if i == GREY_SCENE:
            path = out / "images" / f"{scene}.png"
            _save_image(path, Image.fromarray(rgb, "RGB").convert("L"), "PNG")
        elif i == RGBA_SCENE:
            path = out / "images" / f"{scene}.png"
            rgba = np.dstack([rgb, np.full((height, width), 255, dtype=np.uint8)])
            _save_image(path, Image.fromarray(rgba, "RGBA"), "PNG")
        else:
            path = out / "images" / f"{scene}.jpg"
            _save_image(path, Image.fromarray(rgb, "RGB"), "JPEG", quality=92)
        ratings = patch_ratings(rng, meaning, grid, raters)
        save_rating_matrix(out / "ratings" / f"{scene}.mat", build_rating_matrix(grid, ratings))
        fixations.append(draw_fixations(rng, scene, meaning, ppd, n_subjects, fixations_per_subject))
        sal = salience_map(path, ppd)
        _save_image(out / "maps" / "salience" / f"{scene}.png", Image.fromarray(sal, "L"), "PNG")
        save_npy(out / "truth" / "meaning" / f"{scene}.npy", meaning)
        objects.extend(dict(scene=scene, **o) for o in objs)
        scenes.append(scene)
        images[scene] = str(path.relative_to(out))
    save_csv(out / "fixations.csv", pd.concat(fixations, ignore_index=True))
    save_csv(out / "truth" / "objects.csv", pd.DataFrame(objects))
    return dict(
        out_dir=str(out),
        seed=seed,
        scenes=scenes,
        images=images,
        width=width,
        height=height,
        sizes={s: (width, height) for s in scenes},
        pixels_per_degree=ppd,
        patches={s.name: dict(n=s.n, diameter_px=s.diameter, n_patches=len(grid.patches[s.name]))
                 for s in specs},
        raters=raters,
        subjects=[f"s{s:02d}" for s in range(1, n_subjects + 1)],
        n_fixations=n_scenes * n_subjects * fixations_per_subject,
        files=dict(images="images", ratings="ratings", fixations="fixations.csv",
                   salience="maps/salience", truth="truth"),
    )


#: The demo's settings besides its paths: those of the repository's demo/config.yaml (a test keeps
#: the two equal), so that ``meaningmaps demo DIR`` writes a config that runs wherever DIR is.
DEMO_SETTINGS = {
    "download": {"enabled": False},
    "patches": {"pixels_per_degree": 14.5, "fine": {"n": 328, "diameter_deg": 3},
                "coarse": {"n": 109, "diameter_deg": 7}},
    "meaning_map": {"sigma": 5},
    "gbvs": {"enabled": True},
    "attention": {"fc": 6},
    "evaluation": {"semipartial": [["human", "center"], ["human", "center_empirical"], ["human", "salience"],
                                   ["salience", "human"], ["human", "gbvs"], ["gbvs", "human"]], "bootstrap": 2000},
    "figures": {"gallery_scenes": 4},
    "model": {"enabled": True, "sources": ["base", "finetuned", "probe"],
              "build_tiny": {"seed": 0, "image_size": 112, "text_hidden": 64, "text_layers": 2, "vision_hidden": 128},
              "labels": {"from": "human", "rule": "nearest"}, "background": "black", "scheme": "kfold",
              "folds": {"k": 2, "salt": 0},
              "finetune": {"lora_r": 16, "lora_alpha": 32, "learning_rate": 2.0e-3, "projector_lr": 2.0e-3,
                           "epochs": 3, "per_device_batch": 16, "gradient_checkpointing": False, "bf16": False,
                           "save_steps": 50, "logging_steps": 5},
              "inference": {"batch_size": 64}, "probe": {"pooling": "cls"}},
}


def demo_config(data_dir, results_dir) -> dict:
    """The demo's workflow config for a study written by :func:`make_demo_study` into ``data_dir``,
    results in ``results_dir`` (paths as given: absolute paths make a config that runs from anywhere)."""
    data, results = Path(data_dir), Path(results_dir)
    cfg = {"results": str(results), **copy.deepcopy(DEMO_SETTINGS)}
    cfg["dataset"] = {"images": str(data / "images"), "ratings": str(data / "ratings"),
                      "fixations": str(data / "fixations.csv"), "fixation_csv": {"origin": 1},
                      "maps": {"salience": str(data / "maps" / "salience")}, "fixations_outside": "error"}
    cfg["model"]["base"] = str(results / "models" / "tiny-llava")
    order = ["results", "download", "dataset", "patches", "meaning_map", "gbvs", "attention", "evaluation", "figures",
             "model"]
    return {k: cfg[k] for k in order}


def write_demo_config(out_dir) -> Path:
    """``out_dir/config.yaml``: the demo config for the study in ``out_dir``, results in
    ``out_dir/results`` (absolute paths), to run as ``snakemake --configfile out_dir/config.yaml``."""
    out = Path(out_dir).resolve()
    text = ("# The demo study in this folder (meaningmaps demo). Run from the meaningmaps checkout:\n"
            f"#   snakemake --cores 2 --configfile {out / 'config.yaml'}\n"
            + yaml.safe_dump(demo_config(out, out / "results"), sort_keys=False, default_flow_style=None))
    path = out / "config.yaml"
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


#: what marks a folder as a demo study (written last but one, after every scene's files)
DEMO_MARK = Path("truth") / "objects.csv"


def check_demo_arguments(out_dir, n_scenes: int, seed: int) -> None:
    """The command's arguments, before anything is written: the scene count and seed in range, the
    folder writable and either new, empty, or a demo study of no more scenes (rewritten in place:
    a larger one would keep scenes the new fixations lack); never a folder of other files, which
    the demo's images, ratings, fixations.csv and config.yaml could replace."""
    if not 1 <= n_scenes <= 99:
        raise InputError("--scenes", f"is {n_scenes}; the demo makes 1 to 99 scenes (scene_01..scene_99).",
                         "give --scenes between 1 and 99.")
    if seed < 0:
        raise InputError("--seed", f"is {seed}; the random seed is a whole number of 0 or more.", "give --seed 0 or more.")
    out = check_output_folder(out_dir, "OUT_DIR")
    held = sorted(q.name for q in out.iterdir() if not q.name.startswith(".")) if out.is_dir() else []
    if not held:
        return
    if not (out / DEMO_MARK).is_file():
        raise InputError(f"{out_dir} (OUT_DIR)", f"holds {', '.join(held[:4])}{', ...' if len(held) > 4 else ''} "
                         f"and is no demo study (no {DEMO_MARK}): the demo's images/, ratings/, maps/, "
                         "fixations.csv and config.yaml could replace its files.", "give a new or empty folder.")
    scenes = sorted(q.stem for q in (out / "images").glob("scene_*") if q.suffix in (".jpg", ".png"))
    if len(scenes) > n_scenes:
        raise InputError(f"{out_dir} (OUT_DIR)", f"holds a demo study of {len(scenes)} scenes; writing {n_scenes} "
                         f"would leave {', '.join(scenes[n_scenes:n_scenes + 3])}{' ...' if len(scenes) > n_scenes + 3 else ''}"
                         " without fixations.", f"give a new folder, or --scenes {len(scenes)} to rewrite it.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m meaningmaps.data.demo",
                                     description="Write a deterministic synthetic meaning-map study, and "
                                     "OUT_DIR/config.yaml, the workflow config that runs it (snakemake --configfile "
                                     "OUT_DIR/config.yaml; results in OUT_DIR/results). OUT_DIR is new, empty or "
                                     "an earlier demo study (rewritten).")
    parser.add_argument("out_dir", help="folder to write the study into")
    parser.add_argument("--scenes", type=int, default=8, help="number of scenes, 1 to 99 (default 8)")
    parser.add_argument("--seed", type=int, default=2017, help="random seed, 0 or more (default 2017)")
    args = parser.parse_args(argv)
    check_demo_arguments(args.out_dir, args.scenes, args.seed)
    info = make_demo_study(args.out_dir, n_scenes=args.scenes, seed=args.seed)
    info["config"] = str(write_demo_config(args.out_dir))
    json.dump(info, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":  # as `meaningmaps demo`: bad input ends with one line, exit 2
    from ..cli import main as cli_main

    raise SystemExit(cli_main(["demo", *sys.argv[1:]]))
