"""Benchmark: the up-front input check (rules/checks.smk) on N synthetic 1024 x 768 scenes (default 40).

    .venv/bin/python bench/input_checks.py [--scenes 40] [--distinct 4] [--cores 2] [--json out.json]

The study: images (JPEG), toolkit rating matrices (.mat, 300 fine + 108 coarse patches, 3 raters),
one salience map per scene (PNG) and a fixation CSV, as meaningmaps.data.demo makes them at 1024 x 768.
``--distinct`` scenes are drawn and copied under the other names (a check costs the same on a copy;
drawing 40 scenes takes ~7 min). Not timed: making the study.

Timed:
* per scene, in one process: each kind of check (image, ratings, map, fixations);
* the check through Snakemake (``snakemake --cores C <results>/checks/inputs.json``): the N
  check_scene jobs and the check_inputs checkpoint, wall time, and the jobs' own seconds;
* the rerun after one scene's rating matrix changed: its check_scene job and check_inputs;
* one job for all scenes instead (what every rerun would cost then): the sum of the per-scene checks.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from meaningmaps.data import input_checks  # noqa: E402
from meaningmaps.data.demo import make_demo_study  # noqa: E402
from meaningmaps.data.fixations import fixation_settings  # noqa: E402

H, W = 768, 1024


def make_study(root: Path, n_scenes: int, distinct: int) -> dict:
    """N scenes: ``distinct`` drawn ones, copied round-robin under the names scene_01..scene_N."""
    drawn = root / "drawn"
    info = make_demo_study(drawn, n_scenes=distinct, width=W, height=H, seed=2017)
    data = root / "data"
    fix = pd.read_csv(drawn / "fixations.csv")
    rows = []
    for i in range(1, n_scenes + 1):
        src, dst = info["scenes"][(i - 1) % distinct], f"scene_{i:02d}"
        image = drawn / info["images"][src]
        for sub, path in (("images", image), ("ratings", drawn / "ratings" / f"{src}.mat"),
                          ("maps/salience", drawn / "maps" / "salience" / f"{src}.png")):
            (data / sub).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, data / sub / f"{dst}{path.suffix}")
        rows.append(fix[fix["scene"] == src].assign(scene=dst))
    pd.concat(rows).to_csv(data / "fixations.csv", index=False)
    return info


def config(root: Path, info: dict) -> dict:
    return {"results": str(root / "results"),
            "dataset": {"images": str(root / "data" / "images"), "ratings": str(root / "data" / "ratings"),
                        "fixations": str(root / "data" / "fixations.csv"), "fixation_csv": {"origin": 1},
                        "maps": {"salience": str(root / "data" / "maps" / "salience")}},
            "patches": {s: {"n": p["n"], "diameter_px": p["diameter_px"]} for s, p in info["patches"].items()},
            "model": {"enabled": False}}


def time_one_scene(root: Path, cfg: dict) -> dict:
    """Seconds of each kind of check on scene_01, in this process."""
    specs = [dict(name=s, n=p["n"], diameter=float(p["diameter_px"])) for s, p in cfg["patches"].items()]
    data = root / "data"
    report = input_checks.check_scene_files(
        "scene_01", (H, W), specs, image=next((data / "images").glob("scene_01.*")),
        ratings=data / "ratings" / "scene_01.mat",
        maps={"salience": (data / "maps" / "salience" / "scene_01.png", None, False)})
    fix = input_checks.check_fixation_file(data / "fixations.csv", {"scene_01": (H, W)}, "error",
                                           dict(fixation_settings(cfg), origin=1))
    checked = report["checked"] + fix["checked"]
    assert not any(c["problem"] for c in checked), checked
    return {c["label"]: c["seconds"] for c in checked}


def snakemake(root: Path, configfile: Path, cores: int) -> float:
    cmd = [str(Path(sys.executable).with_name("snakemake")), "-s", str(REPO / "Snakefile"), "--configfile",
           str(configfile), "--cores", str(cores), str(root / "results" / "checks" / "inputs.json")]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return wall


def job_seconds(root: Path) -> dict:
    """The check jobs' own seconds (Snakemake's benchmark files)."""
    bench = root / "results" / "benchmarks" / "checks"
    scenes = [pd.read_csv(p, sep="\t")["s"].iloc[0] for p in sorted((bench / "scenes").glob("*.tsv"))]
    gather = pd.read_csv(bench / "inputs.tsv", sep="\t")["s"].iloc[0]
    return {"check_scene_jobs": len(scenes), "check_scene_sum_s": round(sum(scenes), 2),
            "check_scene_mean_s": round(sum(scenes) / len(scenes), 2), "check_inputs_s": round(gather, 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, default=40)
    parser.add_argument("--distinct", type=int, default=4, help="scenes drawn (the rest are copies)")
    parser.add_argument("--cores", type=int, default=2, help="snakemake --cores")
    parser.add_argument("--json", help="write the result here too")
    parser.add_argument("--keep", action="store_true", help="keep the study folder")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="mm-input-checks-"))
    try:
        start = time.perf_counter()
        info = make_study(root, args.scenes, min(args.distinct, args.scenes))
        made = time.perf_counter() - start
        cfg = config(root, info)
        configfile = root / "config.yaml"
        configfile.write_text(yaml.safe_dump(cfg))
        per_scene = time_one_scene(root, cfg)
        full = snakemake(root, configfile, args.cores)
        jobs = job_seconds(root)
        shutil.copy(root / "data" / "ratings" / "scene_02.mat", root / "data" / "ratings" / "scene_01.mat")
        rerun = snakemake(root, configfile, args.cores)
        result = {
            "command": "python bench/input_checks.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "platform": platform.platform(), "cpu_count": os.cpu_count(), "load_average": os.getloadavg(),
            "scenes": args.scenes, "distinct": args.distinct, "size": f"{W}x{H}", "made_in_s": round(made, 1),
            "patches": info["patches"], "one_scene_in_process_s": per_scene,
            "check_all_scenes_wall_s": round(full, 1), **jobs,
            "rerun_after_one_file_changed_wall_s": round(rerun, 1),
            "one_job_for_all_scenes_s (estimate: every rerun)": jobs["check_scene_sum_s"],
        }
        print(json.dumps(result, indent=1))
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
