"""GBVS on real scenes: our port (maps/gbvs.py) against Harel's toolbox under GNU Octave, and speed.

    python bench/gbvs_vs_octave.py TOOLBOX SCENE_DIR [--n 5] [--repeats 3]

Each scene is read as the workflow reads it (``load_rgb``) and written as a PNG to a temporary
folder, so Octave gets the same pixels; ``tests/data/gbvs_octave/make_reference.m`` runs
``gbvs(img)`` there (defaults) and records the ``gbvs()`` call's own time. Our port runs with both
``imresize`` settings. Printed per scene: max |ours - Octave| / max(Octave) of ``master_map`` and
``master_map_resized``, their Pearson r, Octave's wall and CPU time and ours (median of
``--repeats``; for one core run under ``taskset -c 0`` with ``OPENBLAS_NUM_THREADS=1``). ``--resize 800x600`` first resizes
the scenes to a size whose resizes are not by 1/n. Nothing is written outside the temporary folder.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.io as sio
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("toolbox")
    ap.add_argument("scenes")
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--octave-reads-file", action="store_true",
                    help="Octave's imread decodes the original file itself (its JPEG decoder) instead "
                         "of the pixels load_rgb decoded: measures the decoders' difference, not GBVS's")
    ap.add_argument("--resize", default=None, metavar="WxH",
                    help="first resize each scene (Pillow, bicubic) to W x H, e.g. 800x600: a size "
                         "whose resizes are not by 1/n, where MATLAB's and Octave's imresize differ")
    args = ap.parse_args(argv)

    from meaningmaps.data.images import load_rgb
    from meaningmaps.maps.gbvs import GBVSParams, gbvs

    files = sorted(p for p in Path(args.scenes).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[: args.n]
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pix = {}
        for f in files:
            pix[f.stem] = load_rgb(f)
            if args.resize:
                w, h = (int(v) for v in args.resize.lower().split("x"))
                pix[f.stem] = np.asarray(Image.fromarray(pix[f.stem]).resize((w, h), Image.BICUBIC))
            Image.fromarray(pix[f.stem]).save(tmp / f"{f.stem}.png")
        if args.octave_reads_file:
            for f in files:
                (tmp / f"{f.stem}.png").unlink()
                (tmp / f"{f.stem}{f.suffix}").write_bytes(f.read_bytes())
            pngs = ", ".join(f"'{tmp / f.name}'" for f in files)
        else:
            pngs = ", ".join(f"'{tmp / (s + '.png')}'" for s in pix)
        subprocess.run(["octave", "--no-gui", "-q", "--path", str(REPO / "tests" / "data" / "gbvs_octave"),
                        "--eval", f"make_reference('{args.toolbox}', '{tmp / 'out'}', 0, {pngs})"],
                       check=True, capture_output=True)
        print("scene | size | imresize | master_map max|d|/max | resized max|d|/max | resized r | "
              "Octave gbvs() wall s (CPU s) | ours wall s (CPU s), median")
        worst = {}
        for scene, rgb in pix.items():
            ref = sio.loadmat(tmp / "out" / f"{scene}.mat")
            for mode in ("matlab", "octave"):
                params = GBVSParams(imresize=mode)
                out = gbvs(rgb, params)
                times, cpus = [], []
                for _ in range(args.repeats):
                    t0, c0 = time.perf_counter(), time.process_time()
                    gbvs(rgb, params)
                    times.append(time.perf_counter() - t0)
                    cpus.append(time.process_time() - c0)
                small, big = ref["master_map"], ref["master_map_resized"]
                d_small = np.abs(out["master_map"] - small).max() / small.max()
                d_big = np.abs(out["master_map_resized"] - big).max() / big.max()
                r = np.corrcoef(out["master_map_resized"].ravel(), big.ravel())[0, 1]
                worst[mode] = max(worst.get(mode, 0.0), d_small, d_big)
                print(f"{scene} | {rgb.shape[1]}x{rgb.shape[0]} | {mode} | {d_small:.2e} | {d_big:.2e} | "
                      f"{r:.12f} | {float(ref['elapsed'].item()):.3f} ({float(ref['cpu'].item()):.3f}) | "
                      f"{np.median(times):.3f} ({np.median(cpus):.3f})")
        print("worst max|d|/max:", {k: f"{v:.2e}" for k, v in worst.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
