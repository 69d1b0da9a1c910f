"""Benchmark: planning at scale. How long Snakemake takes to plan (dry run) and to find nothing to do
(no-op rerun) for studies of N scenes, with and without the SLURM profile; peak memory; jobs per
scene; SLURM submissions.

    .venv/bin/python bench/planning.py [--scenes 40 300 1000] [--images 10000] [--model-scenes 100 300]
                                       [--noop 1000 10000]
                                       [--json bench/results/planning-<machine>.json]

Studies are made from the demo (bench/planning_study.py): an *evaluation* study (images, rating
matrices, fixations, an external map folder; model.enabled false), an *images-only* study (a
model maps new photographs: model sources [base] on the workflow's tiny model), and a *model* study
(the evaluation study with the model's three sources, k = 5: ``--model-scenes``). Not timed: making
the studies. Timed, each in a fresh process (``/usr/bin/time`` gives the peak RSS):

* ``snakemake -n --quiet`` (no profile) and ``snakemake -n --quiet --profile profiles/slurm``;
* the input check's plan (``snakemake -n <results>/checks/inputs.json``: the jobs before the
  checkpoint, which a dry run of the whole workflow does not list);
* a no-op rerun: every output made by ``--touch`` and the input check's verdict written as passed,
  then ``snakemake --cores 2`` with nothing to do. The ``--touch`` run itself is timed too: every
  job through Snakemake's scheduler doing no work, i.e. what scheduling adds to a real run.

SLURM submissions are counted from the profile's dry run: group jobs plus ungrouped jobs, plus the
check jobs. The scaling exponent is the slope of log(seconds) over log(scenes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from planning_study import make_study, study_config, write_config  # noqa: E402

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def timed(args: list[str], cwd=REPO) -> dict:
    """Run a command; wall seconds, CPU seconds (user + system: planning is one thread, so on a busy
    machine this is the figure an idle one would show as wall time), peak RSS (MB) and its output."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", *args], cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    peak_kb, user, system = proc.stderr.strip().splitlines()[-1].split()
    return dict(seconds=round(seconds, 2), cpu_s=round(float(user) + float(system), 2), peak_mb=round(int(peak_kb) / 1024),
                out=proc.stdout + proc.stderr)


def job_total(out: str) -> int:
    m = re.search(r"^total\s+(\d+)", out, re.M)
    return int(m.group(1)) if m else 0


def local_rules() -> set[str]:
    """The rules marked ``localrule: True`` in rules/*.smk (they run in the main process)."""
    names = set()
    for path in (REPO / "rules").glob("*.smk"):
        for block in re.split(r"\n(?=(?:rule|checkpoint) )", path.read_text()):
            m = re.match(r"(?:rule|checkpoint) (\w+):", block)
            if m and "localrule: True" in block:
                names.add(m.group(1))
    return names | {"all"}


def slurm_submissions(out: str) -> int:
    """Group jobs and ungrouped jobs of a dry run's listing (local rules excluded)."""
    groups = len(re.findall(r"\] Group job ", out))
    blocks = re.split(r"\n\[[^\]]+\]\s*\n", out)
    local = local_rules()
    single = sum(1 for b in blocks[1:] if (m := re.match(r"rule (\w+):", b)) and m.group(1) not in local)
    return groups + single


def smk(configfile: Path, *args) -> list[str]:
    """snakemake on the repository's Snakefile, with the study's folder as its working directory
    (its own .snakemake metadata)."""
    return [SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(configfile.parent), "--configfile", str(configfile),
            *args]


def plan(configfile: Path, profile: bool, quiet: bool = True, targets=()) -> dict:
    """A dry run; ``quiet``: without the job listing (the job-count table stays)."""
    args = smk(configfile, "-n")
    args += ["--profile", str(REPO / "profiles" / "slurm")] if profile else ["--cores", "2"]
    if quiet:
        args += ["--quiet", "rules", "host", "reason"]
    return timed(args + list(targets))


def plan_row(kind: str, n: int, configfile: Path, results: str) -> dict:
    local = plan(configfile, profile=False)
    slurm = plan(configfile, profile=True)
    listing = plan(configfile, profile=True, quiet=False)  # the group jobs, to count submissions
    checks = plan(configfile, profile=True, quiet=False, targets=[f"{results}/checks/inputs.json"])
    row = dict(kind=kind, scenes=n, dry_run_s=local["seconds"], dry_run_cpu_s=local["cpu_s"],
               dry_run_peak_mb=local["peak_mb"], dry_run_slurm_s=slurm["seconds"], dry_run_slurm_cpu_s=slurm["cpu_s"],
               dry_run_slurm_peak_mb=slurm["peak_mb"],
               jobs=job_total(local["out"]) + job_total(checks["out"]),
               slurm_submissions=slurm_submissions(listing["out"]) + slurm_submissions(checks["out"]))
    row["jobs_per_scene"] = round(row["jobs"] / n, 3)
    row["dry_run_ms_per_scene"] = round(1000 * row["dry_run_s"] / n, 2)
    row["dry_run_cpu_ms_per_scene"] = round(1000 * row["dry_run_cpu_s"] / n, 2)
    return row


def noop_rerun(configfile: Path, results: Path) -> dict:
    """Every output of the plan made (empty files, folders for the folder outputs, the input check's
    verdict passed), brought up to date with ``--touch``; then a run that should find nothing to do."""
    summary = subprocess.run(smk(configfile, "--summary", "--cores", "2"),
                             cwd=REPO, capture_output=True, text=True, check=True).stdout
    for line in summary.splitlines()[1:]:
        path = Path(line.split("\t")[0])
        if not str(path).startswith(str(results)):
            continue
        if path.suffix == "":  # the folder outputs (fixations/scenes, patches/<scene>, ...)
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    (results / "checks" / "inputs.json").write_text(json.dumps({"ok": True, "problems": [], "summary": ""}))
    # Every job of the plan through Snakemake's scheduler, each doing nothing but touch its outputs:
    # what scheduling costs a real run, beside the jobs' own work.
    touch = timed(smk(configfile, "--cores", "2", "--touch", "--quiet"))
    r = timed(smk(configfile, "--cores", "2"))
    return dict(seconds=r["seconds"], cpu_s=r["cpu_s"], peak_mb=r["peak_mb"], nothing_to_do="Nothing to be done" in r["out"],
                touch_s=touch["seconds"], touch_cpu_s=touch["cpu_s"])


def with_noop(row: dict, configfile: Path, results: Path) -> dict:
    noop = noop_rerun(configfile, results)
    row.update(noop_rerun_s=noop["seconds"], noop_rerun_cpu_s=noop["cpu_s"], noop_rerun_peak_mb=noop["peak_mb"],
               noop_nothing_to_do=noop["nothing_to_do"], touch_run_s=noop["touch_s"], touch_run_cpu_s=noop["touch_cpu_s"],
               touch_run_cpu_ms_per_job=round(1000 * noop["touch_cpu_s"] / row["jobs"], 2))
    return row


def evaluation_row(n: int, tmp: Path, noop: bool) -> dict:
    root = tmp / f"eval-{n}"
    make_study(root, n)
    cfg = study_config(root)
    configfile = write_config(root, cfg)
    row = plan_row("evaluation", n, configfile, cfg["results"])
    return with_noop(row, configfile, Path(cfg["results"])) if noop else row


def images_row(n: int, tmp: Path, noop: bool) -> dict:
    root = tmp / f"images-{n}"
    make_study(root, n, kind="images")
    cfg = study_config(root, kind="images", model=dict(enabled=True, sources=["base"], scheme="kfold",
                                                       base=str(root / "results" / "models" / "tiny-llava")))
    configfile = write_config(root, cfg)
    row = plan_row("images", n, configfile, cfg["results"])
    return with_noop(row, configfile, Path(cfg["results"])) if noop else row


def model_row(n: int, tmp: Path, noop: bool) -> dict:
    """An evaluation study whose maps include the model's: the demo's three model sources (base,
    finetuned, probe), k = 5 folds, on the workflow's tiny model."""
    root = tmp / f"model-{n}"
    make_study(root, n)
    cfg = study_config(root, model=dict(folds=dict(k=5, salt=0),
                                        base=str(root / "results" / "models" / "tiny-llava")))
    configfile = write_config(root, cfg)
    row = plan_row("model", n, configfile, cfg["results"])
    return with_noop(row, configfile, Path(cfg["results"])) if noop else row


def exponent(rows: list[dict], key: str) -> float | None:
    pts = [(math.log(r["scenes"]), math.log(r[key])) for r in rows if r.get(key)]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    return round(sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts), 2)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenes", type=int, nargs="*", default=[40, 300, 1000])
    ap.add_argument("--images", type=int, nargs="*", default=[10000])
    ap.add_argument("--model-scenes", type=int, nargs="*", default=[],
                    help="scene counts of an evaluation study with the model's three sources (k = 5)")
    ap.add_argument("--noop", type=int, nargs="*", default=[1000],
                    help="scene (or image) counts that also get a --touch run (Snakemake's scheduling) and a no-op rerun")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--tmp", type=Path, default=None, help="where the studies go (default: a temporary folder)")
    ap.add_argument("--note", default="", help="conditions of the run (e.g. what else the machine was doing)")
    args = ap.parse_args(argv)
    tmp = args.tmp or Path(tempfile.mkdtemp(prefix="mm-planning-"))
    rows = []
    for n in args.scenes:
        rows.append(evaluation_row(n, tmp, n in args.noop))
        print(json.dumps(rows[-1]), flush=True)
    for n in args.images:
        rows.append(images_row(n, tmp, n in args.noop))
        print(json.dumps(rows[-1]), flush=True)
    for n in args.model_scenes:
        rows.append(model_row(n, tmp, n in args.noop))
        print(json.dumps(rows[-1]), flush=True)
    evaluation = [r for r in rows if r["kind"] == "evaluation"]
    model = [r for r in rows if r["kind"] == "model"]
    result = dict(
        machine=dict(platform=platform.platform(), cpus=os.cpu_count(), python=platform.python_version()),
        date=time.strftime("%Y-%m-%d"), command=" ".join(["bench/planning.py", *(argv if argv is not None else sys.argv[1:])]),
        conditions=args.note, load_average_at_end=list(os.getloadavg()), rows=rows,
        exponent=dict(dry_run=exponent(evaluation, "dry_run_s"), dry_run_slurm=exponent(evaluation, "dry_run_slurm_s"),
                      dry_run_cpu=exponent(evaluation, "dry_run_cpu_s"),
                      jobs=exponent(evaluation, "jobs"),
                      model_dry_run_cpu=exponent(model, "dry_run_cpu_s"),
                      model_dry_run_slurm_cpu=exponent(model, "dry_run_slurm_cpu_s")),
    )
    print(json.dumps(result["exponent"]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
