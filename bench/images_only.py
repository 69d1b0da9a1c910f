"""Benchmark: an images-only study (a model maps new photographs) through the workflow against
`meaningmaps map` on the same images with the same model, per image, on one core.

    .venv/bin/python bench/images_only.py [--scenes 4 12] [--json bench/results/images-only-cpu.json]

The study (bench/planning_study.py): demo images copied under new names; model sources [base] on
the workflow's tiny LLaVA (model.build_tiny), gbvs off. The workflow runs with ``--cores 1`` from an
empty results folder at each size; its cost per scene is the slope between the sizes (the fixed
jobs, the tiny model's build among them, cancel). `meaningmaps map --model <the built tiny model>`
then maps the larger study's images in one process; its cost per image is the slope too
(the model load cancels). Both make the same maps (checked here to 1e-6).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from planning_study import make_study, study_config, write_config  # noqa: E402

BIN = Path(sys.executable).parent


def timed(cmd, **kw) -> dict:
    """Wall seconds and CPU seconds (user + system of the command and every process it waited for:
    Snakemake's jobs included), the figure that a busy machine does not inflate."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%U %S", *cmd], check=True, capture_output=True, text=True, **kw)
    user, system = proc.stderr.strip().splitlines()[-1].split()
    return dict(wall=round(time.perf_counter() - start, 2), cpu=round(float(user) + float(system), 2))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenes", type=int, nargs=2, default=[4, 12])
    ap.add_argument("--tmp", type=Path, default=Path("/tmp/mm-images-only"))
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    shutil.rmtree(args.tmp, ignore_errors=True)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    workflow, mapped = {}, {}
    for n in args.scenes:
        root = args.tmp / str(n)
        make_study(root, n, kind="images")
        cfg = study_config(root, kind="images", model=dict(enabled=True, sources=["base"], scheme="kfold",
                                                           base=str(root / "results" / "models" / "tiny-llava")))
        configfile = write_config(root, cfg)
        workflow[n] = timed([str(BIN / "snakemake"), "-s", str(REPO / "Snakefile"), "-d", str(root), "--cores", "1",
                             "--configfile", str(configfile)], env=env)
        images = sorted(str(p) for p in (root / "data" / "images").iterdir())
        mapped[n] = timed([str(BIN / "meaningmaps"), "map", "--model", cfg["model"]["base"], *images, "--out",
                           str(root / "cli"), "--configfile", str(configfile), "--device", "cpu"], env=env)
        for stem in (Path(p).stem for p in images[:3]):
            a, b = np.load(root / "cli" / f"{stem}.npy"), np.load(root / "results" / "maps" / "base" / f"{stem}.npy")
            assert np.abs(a - b).max() <= 1e-6, (stem, np.abs(a - b).max())
        print(n, workflow[n], mapped[n], flush=True)
    n1, n2 = args.scenes
    result = dict(machine=dict(platform=platform.platform(), cpus=os.cpu_count()), date=time.strftime("%Y-%m-%d"),
                  command=" ".join(["bench/images_only.py", *(argv if argv is not None else sys.argv[1:])]),
                  load_average_at_end=list(os.getloadavg()), scenes=args.scenes, workflow=workflow, map=mapped)
    for kind in ("wall", "cpu"):
        per_scene = (workflow[n2][kind] - workflow[n1][kind]) / (n2 - n1)
        per_image = (mapped[n2][kind] - mapped[n1][kind]) / (n2 - n1)
        result[kind] = dict(workflow_s_per_scene=round(per_scene, 2), map_s_per_image=round(per_image, 2),
                            ratio=round(per_scene / per_image, 2))
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
