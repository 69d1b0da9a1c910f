"""Snakemake's checks that no group job depends on itself, as src/meaningmaps/workflow/group_check.py
makes them: on random job graphs they raise the same errors (messages included) exactly where
Snakemake's ``DAG.validate_group`` and ``DAG._check_groups`` do, and pass where those pass; through
``snakemake`` such a group is still refused; their cost grows as the scenes, not as their square."""

from __future__ import annotations

import functools
import random
import subprocess
from types import SimpleNamespace

import pytest
import snakemake.api  # noqa: F401  (before snakemake.dag: a circular import otherwise)
from snakemake.dag import DAG
from snakemake.exceptions import WorkflowError

from meaningmaps.workflow import group_check
from meaningmaps.workflow.group_check import source_digest

from .conftest import REPO
from .test_workflow import SNAKEMAKE

# Snakemake's own methods, whether or not this process has put ours in their place
SNAKEMAKE_METHODS = {name: group_check._SNAKEMAKE.get(name, getattr(DAG, name)) for name in group_check.OURS}
SNAKEMAKE_CHECK = SNAKEMAKE_METHODS["_check_groups"]
SNAKEMAKE_VALIDATE = SNAKEMAKE_METHODS["validate_group"]


class Group(frozenset):
    """Stands for Snakemake's GroupJob: its jobs (iteration, membership) and its group id."""

    def __new__(cls, jobs, groupid):
        self = super().__new__(cls, jobs)
        self.groupid = groupid
        return self

    __hash__ = object.__hash__  # GroupJobs are distinct objects, like Snakemake's
    __eq__ = object.__eq__

    @property
    def jobs(self):
        return self


class Job:
    """Stands for a Snakemake job: what the check's error message reads (its rule)."""

    def __init__(self, name: str, rule: str):
        self.name = name
        self.rule = SimpleNamespace(name=rule, lineno=1, snakefile="Snakefile")
        self.group = None

    def __repr__(self):
        return self.name


def random_dag(rng: random.Random) -> SimpleNamespace:
    """A random acyclic job graph (edges from later to earlier jobs), some jobs in groups."""
    n = rng.randint(2, 14)
    jobs = [Job(f"j{i}", f"rule{rng.randint(0, 4)}") for i in range(n)]
    deps = {j: {} for j in jobs}
    p = rng.uniform(0.1, 0.5)
    for i in range(n):
        for k in range(i):
            if rng.random() < p:
                deps[jobs[i]][jobs[k]] = set()
    members: dict[str, list] = {}
    for j in jobs:
        if rng.random() < 0.6:
            members.setdefault(rng.choice("ab"), []).append(j)
    return fake_dag(deps, [Group(js, gid) for gid, js in members.items()])


def fake_dag(deps: dict, groups: list) -> SimpleNamespace:
    """What the checks read of Snakemake's DAG: the dependencies, the job-to-group table, its BFS."""
    table = {}
    for group in groups:
        for j in group:
            j.group = group.groupid
            table[j] = group
    return SimpleNamespace(_group=table, _dependencies=deps,
                           bfs=lambda direction, *jobs, stop: DAG.bfs(None, direction, *jobs, stop=stop))


def outcome(check, dag) -> str | None:
    try:
        check(dag)
    except WorkflowError as e:
        return str(e)
    return None


def reenters_by_closure(group, deps) -> bool:
    """The definition: some job outside the group lies above one of its jobs and below another."""
    def above(start):
        seen, stack = set(), list(start)
        while stack:
            for d in deps[stack.pop()]:
                if d not in seen:
                    seen.add(d)
                    stack.append(d)
        return seen

    up = above(group)
    return any(x not in group and set(group) & above([x]) for x in up)


def distinct(groups):
    return list({id(g): g for g in groups}.values())


def test_topological_order_puts_every_job_after_what_it_depends_on():
    rng = random.Random(1)
    for _ in range(300):
        dag = random_dag(rng)
        order = group_check.topological_order(dag._dependencies)
        assert sorted(order.values()) == list(range(len(dag._dependencies)))
        assert all(order[d] < order[j] for j, ds in dag._dependencies.items() for d in ds)


def test_decides_as_snakemake_on_random_graphs(monkeypatch):
    """Both checks, on 3,000 random graphs: the same error (message included) or none, and the walk
    (with and without the topological order) agrees with the definition."""
    monkeypatch.setattr(group_check, "_SNAKEMAKE", dict(SNAKEMAKE_METHODS))
    rng = random.Random(0)
    raised = passed = 0
    for _ in range(3000):
        dag = random_dag(rng)
        order = group_check.topological_order(dag._dependencies)
        theirs = outcome(SNAKEMAKE_CHECK, dag)
        assert outcome(group_check._check_groups, dag) == theirs
        for group in distinct(dag._group.values()):
            ours = functools.partial(group_check._validate_group, group=group)
            assert outcome(ours, dag) == outcome(functools.partial(SNAKEMAKE_VALIDATE, group=group), dag)
            truth = reenters_by_closure(group, dag._dependencies)
            assert group_check.group_reenters_itself(group, dag._dependencies) == truth
            assert group_check.group_reenters_itself(group, dag._dependencies, order) == truth
        raised += theirs is not None
        passed += theirs is None
    assert raised > 300 and passed > 300  # both outcomes well covered
    assert "depends on itself" in outcome(SNAKEMAKE_CHECK, next(
        d for d in (random_dag(rng) for _ in range(1000)) if outcome(SNAKEMAKE_CHECK, d)))


def counted(deps: dict) -> tuple[dict, list]:
    calls = []

    class Counting(dict):
        def __getitem__(self, key):
            calls.append(key)
            return super().__getitem__(key)

    return Counting(deps), calls


def model_study_dag(n_scenes: int, per_group: int) -> SimpleNamespace:
    """A model study's shape: per scene a prep job, all of them above one training job; per shard
    of 10 scenes a rating job below the training job; per scene a map job and a score job below its
    shard's rating job. Map and score jobs in groups of ``per_group`` scenes."""
    train = Job("train", "finetune")
    deps = {train: {}}
    groups = []
    for start in range(0, n_scenes, per_group):
        members = []
        for s in range(start, min(start + per_group, n_scenes)):
            if s % 10 == 0:
                shard = Job(f"shard{s}", "ratings")
                deps[shard] = {train: set()}
            prep, rate, score = Job(f"p{s}", "prep"), Job(f"m{s}", "map"), Job(f"s{s}", "score")
            deps[prep] = {}
            deps[train][prep] = set()
            deps[rate] = {shard: set()}
            deps[score] = {rate: set()}
            members += [rate, score]
        groups.append(Group(members, "post"))
    return fake_dag(deps, groups)


def lookups(check, n: int, per_group: int) -> int:
    dag = model_study_dag(n, per_group)
    deps, calls = counted(dag._dependencies)
    dag._dependencies = deps
    check(dag)
    return len(calls)


def test_cost_grows_as_the_scenes_not_their_square():
    """Snakemake's checks walk the graph above each group (the training and every scene above it),
    ``_check_groups`` once per job of the group; these do not enter what comes before the group:
    their dependency lookups grow in proportion to the scenes."""
    def validate_all(check):
        return lambda dag: [check(dag, g) for g in distinct(dag._group.values())]

    for ours, theirs in [(group_check._check_groups, SNAKEMAKE_CHECK),
                         (validate_all(group_check._validate_group), validate_all(SNAKEMAKE_VALIDATE))]:
        small, large = lookups(ours, 100, 20), lookups(ours, 300, 20)
        assert large <= 3.1 * small  # 3x the scenes
        assert lookups(theirs, 300, 20) > 50 * large
        assert lookups(theirs, 300, 20) > 8 * lookups(theirs, 100, 20)  # theirs: about N^2


def test_in_place_only_for_the_snakemake_it_was_read_against(monkeypatch):
    checked = dict(group_check.CHECKED_SOURCES)
    for name, method in SNAKEMAKE_METHODS.items():
        monkeypatch.setattr(DAG, name, method)
    monkeypatch.setattr(group_check, "_SNAKEMAKE", {})
    monkeypatch.setattr(group_check, "CHECKED_SOURCES", {**checked, "validate_group": "0" * 64})
    assert group_check.use_linear_group_check() is False  # one method is not the one read
    assert all(getattr(DAG, name) is method for name, method in SNAKEMAKE_METHODS.items())
    monkeypatch.delattr(DAG, "_check_groups")  # a Snakemake without one of the methods
    assert group_check.use_linear_group_check() is False
    assert not hasattr(DAG, "_check_groups")
    monkeypatch.setattr(DAG, "_check_groups", SNAKEMAKE_CHECK, raising=False)
    monkeypatch.setattr(group_check, "CHECKED_SOURCES", checked)
    assert {name: source_digest(method) for name, method in SNAKEMAKE_METHODS.items()} == checked
    assert group_check.use_linear_group_check() is True  # the pinned Snakemake (envs/constraints.txt)
    assert all(getattr(DAG, name) is ours for name, ours in group_check.OURS.items())
    assert group_check._SNAKEMAKE == SNAKEMAKE_METHODS
    assert group_check.use_linear_group_check() is True  # idempotent
    assert group_check._SNAKEMAKE == SNAKEMAKE_METHODS


SNAKEFILE = f"""
import sys
sys.path.insert(0, {str(REPO / "src")!r})
from meaningmaps.workflow.group_check import use_linear_group_check
print("linear group check in place:", use_linear_group_check(), file=sys.stderr)

rule all:
    input: "x2.txt"

rule x:
    input: lambda wc: ["y1.txt", *(["x1.txt"] if config.get("direct") else [])] if wc.i == "2" else []
    output: "x{{i}}.txt"
    group: "g"
    shell: "touch {{output}}"

rule y:
    input: "x{{i}}.txt"
    output: "y{{i}}.txt"
    shell: "touch {{output}}"
"""


@pytest.mark.parametrize("case", ["two group jobs", "joined by group-components", "joined by the rules"])
def test_snakemake_still_refuses_a_group_that_depends_on_itself(tmp_path, case):
    """x1 -> y1 -> x2, x in group g, y outside: x1 and x2 are two group jobs and the plan stands,
    unless ``--group-components g=2`` joins them into one group job, which would wait on itself
    (refused by Snakemake's check of group jobs), or x2 also takes x1's file, which makes them one
    group (refused by Snakemake's check of each group)."""
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    args = [SNAKEMAKE, "-n", "--executor", "slurm", "--jobs", "1"]
    args += {"two group jobs": [], "joined by group-components": ["--group-components", "g=2"],
             "joined by the rules": ["--config", "direct=1"]}[case]
    r = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    assert "linear group check in place: True" in r.stderr
    if case == "two group jobs":
        assert r.returncode == 0, out
        assert out.count("Group job g (jobs") == 2
    elif case == "joined by group-components":
        assert r.returncode != 0
        assert "Group g depends on itself" in out
        assert "Remove x from the group or add y to the group." in out
    else:
        assert r.returncode != 0
        assert ("Error in group g. Job of rule x depends on rule(s) y from outside the group, but they in turn "
                "depend on rule(s) x from inside the group again.") in out
