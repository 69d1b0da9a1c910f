"""Planning that grows linearly with the number of scenes (README "Large studies"; bench/planning.py
measures the times): every rule's job count is constant or proportional to the scenes, the job
graph has a constant number of edges per scene (no per-scene job takes every scene's file), and a
changed scene of a 200-scene study reruns that scene's jobs and nothing else."""

from __future__ import annotations

import re
import shutil
import sys

import numpy as np
import pytest

from .conftest import REPO
from .test_input_checks import rules_run
from .test_workflow import job_counts, snakemake

sys.path.insert(0, str(REPO / "bench"))
from planning_study import make_study, scene_name, study_config, write_config  # noqa: E402

pytestmark = pytest.mark.slow

SMALL, LARGE = 100, 300  # check chunks (50 scenes) and rating shards (10) divide both


def study(root, n, kind):
    make_study(root, n, kind=kind)
    model = None
    if kind == "images":  # a model maps new photographs: the base source on the workflow's tiny model
        model = dict(enabled=True, sources=["base"], scheme="kfold", base=str(root / "results" / "models" / "tiny-llava"))
    cfg = study_config(root, kind=kind, model=model)
    return write_config(root, cfg), cfg["results"]


def planned_jobs(root, configfile, results) -> dict[str, int]:
    """Every job of the plan: the workflow's dry run (planned as after a passing input check) and
    the input check's own jobs."""
    counts = job_counts(snakemake(root, configfile, "-n", "--quiet", "rules", "host", "reason").stdout)
    checks = job_counts(snakemake(root, configfile, "-n", f"{results}/checks/inputs.json",
                                  "--quiet", "rules", "host", "reason").stdout)
    for rule, n in checks.items():
        counts[rule] = n if rule != "total" else counts.get("total", 0) + n
    return by_family(counts)


def by_family(counts: dict[str, int]) -> dict[str, int]:
    """Jobs per rule, the rules made per shard (maps_<source>_shard_<shard>, rules/maps.smk) counted together."""
    families: dict[str, int] = {}
    for rule, n in counts.items():
        name = re.sub(r"^(maps_[a-z]+_shard)_\w+$", r"\1", rule)
        families[name] = families.get(name, 0) + n
    return families


@pytest.mark.parametrize("kind", ["evaluation", "images"])
def test_every_rule_is_per_scene_or_shared(kind, tmp_path):
    small = planned_jobs(tmp_path / "s", *study(tmp_path / "s", SMALL, kind))
    large = planned_jobs(tmp_path / "l", *study(tmp_path / "l", LARGE, kind))
    assert set(small) == set(large), (small, large)
    shared = {r for r in small if r != "total" and small[r] == large[r]}
    scaled = {r for r in small if r != "total" and large[r] == small[r] * LARGE // SMALL}
    assert shared | scaled == set(small) - {"total"}, {r: (small[r], large[r]) for r in small}
    assert len(shared) <= 8, shared  # the study's own jobs (check verdict, tables, pools, evaluate, figures, ...)
    per_scene = sum(small[r] for r in scaled) / SMALL
    assert per_scene == sum(large[r] for r in scaled) / LARGE
    if kind == "evaluation":
        assert {"attention", "center_empirical", "score_scene", "noise_ceiling"} <= scaled, scaled
        assert {"fixation_tables", "fixation_pool", "evaluate"} <= shared, shared
    else:  # the base model maps the images: its rating jobs cut the patches, a map job per shard, and little else
        assert not {"patches", "patch_views", "map_from_model_ratings"} & set(small), small
        assert small["maps_base_shard"] == small["base_ratings"] == SMALL // 10, small  # 10 scenes per shard
        assert per_scene <= 0.25, {r: small[r] for r in scaled}


def test_job_graph_edges_grow_linearly(tmp_path):
    """The job graph (snakemake --dag) of an evaluation study: edges per scene constant. Before, the
    empirical centre bias and the shuffled AUC took every scene's fixation table (2 N^2 edges)."""
    edges = {}
    for n in (SMALL, LARGE):
        root = tmp_path / str(n)
        configfile, _ = study(root, n, "evaluation")
        dot = snakemake(root, configfile, "--dag").stdout
        edges[n] = len(re.findall(r"^\s*\d+ -> \d+", dot, re.M))
    assert edges[SMALL] > 5 * SMALL, edges  # the graph was read
    assert edges[LARGE] <= (LARGE / SMALL) * edges[SMALL] * 1.01, edges


def test_changed_scene_of_200_reruns_only_its_jobs(tmp_path):
    """200 scenes (images, per-patch ratings CSVs; no fixations: maps and gallery), run for real; then
    one scene's ratings replaced by another scene's: the rerun runs that scene's check chunk, its
    ratings and its map (now equal, byte for byte, to the other scene's map) and nothing of any
    other scene. (CSVs rather than rating matrices: a matrix's exact recovery costs about 1.7 s of
    CPU in the check and again in the ratings job, 12 minutes of a 200-scene run on 2 cores.)"""
    root = tmp_path
    make_study(root, 200, ratings="csv")
    cfg = study_config(root)
    ds = cfg["dataset"]
    for key in ("fixations", "fixation_csv", "maps"):
        ds.pop(key, None)
    cfg["evaluation"].pop("semipartial", None)
    cfg["gbvs"] = {"enabled": False}
    configfile = write_config(root, cfg)
    snakemake(root, configfile, timeout=3600)  # 2 cores shared with a second test process
    results = root / "results"
    maps = results / "maps" / "human"
    before = {p.name: p.stat().st_mtime_ns for p in maps.glob("*.npy")}
    assert len(before) == 200
    changed, donor = scene_name(150), scene_name(1)  # drawn from different demo scenes
    assert not np.array_equal(np.load(maps / f"{changed}.npy"), np.load(maps / f"{donor}.npy"))
    shutil.copyfile(root / "data" / "ratings" / f"{donor}.csv", root / "data" / "ratings" / f"{changed}.csv")
    run = snakemake(root, configfile)
    out = run.stdout + run.stderr
    assert sorted(rules_run(out)) == sorted(["check_scenes", "check_inputs", "human_ratings", "map_from_ratings",
                                             "all"]), rules_run(out)
    assert f"scene={changed}" in out
    after = {p.name: p.stat().st_mtime_ns for p in maps.glob("*.npy")}
    assert {n for n in before if after[n] != before[n]} == {f"{changed}.npy"}
    np.testing.assert_array_equal(np.load(maps / f"{changed}.npy"), np.load(maps / f"{donor}.npy"))
    assert "Nothing to be done" in snakemake(root, configfile, "-n").stdout
