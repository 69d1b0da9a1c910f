"""Benchmark: the no-model steps on N synthetic 1024 x 768 scenes (default 40), on all cores given.

    .venv/bin/python bench/no_model_steps.py [--scenes 40] [--workers 2]

Times, per step and in all: patches (cut + write 408 RGBA PNGs per scene), maps (the toolkit
builder on per-patch ratings + imgaussfilt), attention (fixation map + antonioGaussian), and
evaluation (per-scene scores + summary with bootstrap). Inputs are generated first (not timed).
The steps run in a process pool over scenes, as Snakemake would run the jobs, without Snakemake's
per-job start-up (about 2 s of imports per job; see BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from meaningmaps.evaluation.scores import score_scene, summarize
from meaningmaps.maps.attention import attention_map
from meaningmaps.maps.center_bias import center_bias_map
from meaningmaps.maps.meaning_map import meaning_map
from meaningmaps.maps.patch_files import write_scene_patches
from meaningmaps.maps.patch_grid import PatchGrid, ScaleSpec

SPECS = [ScaleSpec("fine", 300, 87), ScaleSpec("coarse", 108, 205)]
H, W = 768, 1024


def make_inputs(root: Path, i: int) -> str:
    """One synthetic scene: image, per-patch ratings (3 raters), 65 x 14 fixations."""
    from meaningmaps.data.demo import render_scene

    rng = np.random.default_rng([7, i])
    scene = f"scene_{i:02d}"
    rgb, meaning, _ = render_scene(rng, H, W)
    Image.fromarray(rgb).save(root / f"{scene}.jpg", quality=92)
    grid = PatchGrid(H, W, SPECS)
    rows = []
    for s, patches in grid.patches.items():
        for p in patches:
            m = float(meaning[p.rows, p.cols][p.mask].mean())
            for r in np.clip(np.rint(1 + 5 * min(1, 2 * m) + rng.normal(0, 0.75, 3)), 1, 6):
                rows.append((s, p.k, r))
    pd.DataFrame(rows, columns=["scale", "k", "rating"]).to_csv(root / f"{scene}.ratings.csv", index=False)
    dens = (meaning + 0.03).ravel() / (meaning + 0.03).sum()
    idx = rng.choice(H * W, size=65 * 14, p=dens)
    pd.DataFrame({"scene": scene, "row": idx // W + 1.0, "col": idx % W + 1.0, "duration": 250.0,
                  "subject": "s"}).to_csv(root / f"{scene}.fix.csv", index=False)
    return scene


def patches_step(args):
    root, scene = args
    write_scene_patches(root / f"{scene}.jpg", root / "patches" / scene, SPECS)


def maps_step(args):
    root, scene = args
    frame = pd.read_csv(root / f"{scene}.ratings.csv")
    np.save(root / f"{scene}.human.npy", meaning_map(frame, PatchGrid(H, W, SPECS), 10).astype(np.float32))
    np.save(root / f"{scene}.center.npy", center_bias_map(H, W, 0.25).astype(np.float32))


def attention_step(args):
    root, scene = args
    fix = pd.read_csv(root / f"{scene}.fix.csv")
    np.save(root / f"{scene}.att.npy", attention_map(fix, H, W, fc=6).astype(np.float32))


def score_step(args):
    root, scene = args
    att = np.load(root / f"{scene}.att.npy").astype(float)
    maps = {s: np.load(root / f"{scene}.{s}.npy").astype(float) for s in ("human", "center")}
    return score_scene(scene, att, maps, [("human", "center")])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenes", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", help="write the timings here")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="mm-bench-"))
    try:
        with ProcessPoolExecutor(args.workers) as pool:
            scenes = list(pool.map(make_inputs, [root] * args.scenes, range(1, args.scenes + 1)))
            jobs = [(root, s) for s in scenes]
            timings = {}
            for name, step in (("patches", patches_step), ("maps", maps_step), ("attention", attention_step)):
                t = time.perf_counter()
                list(pool.map(step, jobs))
                timings[name] = time.perf_counter() - t
            t = time.perf_counter()
            scores = pd.concat(pool.map(score_step, jobs), ignore_index=True)
            summarize(scores, n_boot=10000, seed=0)
            timings["evaluation"] = time.perf_counter() - t
        timings["total"] = sum(timings.values())
        n_png = len(list((root / "patches").rglob("*.png")))
        result = dict(scenes=args.scenes, workers=args.workers, cpus=os.cpu_count(), patch_pngs=n_png,
                      seconds={k: round(v, 2) for k, v in timings.items()})
        print(json.dumps(result, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
