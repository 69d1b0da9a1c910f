"""Snakemake's checks that no group job depends on itself, made to cost what lies near each group.

Snakemake refuses a group that a path of jobs leaves and then enters again (the group would wait on
itself), twice: ``DAG.validate_group`` for each group as the rules' groups make it, and
``DAG._check_groups`` once ``group-components`` has joined groups into group jobs (snakemake
PR #3563). Both walk everything upstream of the group's jobs: the first once per job that leaves
the group, the second once per job of the group and again for every other job of that group (it
loops over its job-to-group table). In a model study every per-scene job after the training has
all the training scenes above it, so under ``profiles/slurm`` these checks grew as N^2, the second
times the group size (about 250): 300 scenes planned in 105 s instead of 14 s, 1,000 scenes in
1,054 s (now 17 s and 48 s; ``BENCHMARKS.md``, "Planning at scale").

Here each group is walked up once, from all its jobs together, each job at most twice (before and
after the path left the group), and never into a job that comes before every job of the group in a
topological order of the whole graph (such a job cannot lie below any job of the group, so no path
back into the group passes through it). The order is made once per ``DAG.update_groups``. The walk
answers "the group re-enters itself" exactly when Snakemake's checks would refuse the group (each
refuses a path that leaves the group and comes back, and this walk looks for that path); where it
finds one, Snakemake's own check runs, so that the error and its message are Snakemake's.

The three methods are replaced only for the Snakemake they were read against, while each method's
source is the one read (``CHECKED_SOURCES``); any other Snakemake keeps its own checks (correct,
only slower on large grouped studies).
"""

from __future__ import annotations

import hashlib
import inspect

import snakemake.api  # noqa: F401  (before snakemake.dag: imported first, that is a circular import)
from snakemake.dag import DAG

# sha256 of inspect.getsource(snakemake.dag.DAG.<method>) in Snakemake 9.27.1 (envs/constraints.txt;
# 9.25.2 has the same three methods, character for character)
CHECKED_SOURCES = {
    "update_groups": "d49fd0a42f84413438a892cba1abc8604aed2d7369009ccae230488dd0822622",
    "validate_group": "e404f19f3d8f9fdf60c73145e7adbe5d1587cc6f8549138a75eb761e0e529fd8",
    "_check_groups": "487372ec8572076877476fdb865eea1499bfcb2c0d102930299afa2c7f5fca22",
}

_SNAKEMAKE: dict = {}  # Snakemake's own methods, once replaced
_ORDER: tuple | None = None  # (dag, its topological order) during DAG.update_groups


def topological_order(dependencies) -> dict:
    """A position for every job such that each job comes after every job it depends on
    (depth-first postorder; ``dependencies[job]``: the jobs ``job`` depends on)."""
    order: dict = {}
    entered: set = set()
    for root in list(dependencies):
        if root in order:
            continue
        entered.add(root)
        stack = [(root, iter(tuple(dependencies.get(root, ()))))]
        while stack:
            job, deps = stack[-1]
            for dep in deps:
                if dep not in entered:
                    entered.add(dep)
                    stack.append((dep, iter(tuple(dependencies.get(dep, ())))))
                    break
            else:
                stack.pop()
                order[job] = len(order)
    return order


def group_reenters_itself(group, dependencies, order: dict | None = None) -> bool:
    """Whether a path of dependencies starts in ``group``, leaves it and enters it again.

    Walks up from every job of the group at once; a state is (job, left the group yet). With
    ``order`` (``topological_order``), jobs before every job of the group are not entered.
    """
    if order is not None and not all(job in order for job in group):
        order = None  # a job the order missed (not expected): walk without it
    floor = min(order[job] for job in group) if order is not None else None
    seen = set()
    stack = [(job, False) for job in group]
    while stack:
        job, left = stack.pop()
        for dep in dependencies[job]:
            if dep in group:
                if left:
                    return True
                state = (dep, False)
            elif floor is not None and order.get(dep, floor) < floor:
                continue  # it depends on no job of the group: no way back into it
            else:
                state = (dep, True)
            if state not in seen:
                seen.add(state)
                stack.append(state)
    return False


def _order_of(dag) -> dict:
    if _ORDER is not None and _ORDER[0] is dag:
        return _ORDER[1]
    return topological_order(dag._dependencies)


def _update_groups(self) -> None:
    """``DAG.update_groups`` (Snakemake's), with one topological order made for its checks."""
    global _ORDER
    _ORDER = (self, topological_order(self._dependencies))
    try:
        _SNAKEMAKE["update_groups"](self)
    finally:
        _ORDER = None


def _validate_group(self, group) -> None:
    """``DAG.validate_group``: one walk; Snakemake's own check where the group re-enters itself."""
    if group_reenters_itself(group, self._dependencies, _order_of(self)):
        _SNAKEMAKE["validate_group"](self, group)


def _check_groups(self) -> None:
    """``DAG._check_groups``: one walk per group job; Snakemake's own check where one re-enters itself."""
    order = _order_of(self)
    groups = {id(group): group for group in self._group.values()}
    if any(group_reenters_itself(group, self._dependencies, order) for group in groups.values()):
        _SNAKEMAKE["_check_groups"](self)


OURS = {"update_groups": _update_groups, "validate_group": _validate_group, "_check_groups": _check_groups}


def source_digest(function) -> str | None:
    """sha256 of a function's source; None for a method this Snakemake lacks."""
    return None if function is None else hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def use_linear_group_check() -> bool:
    """Put these checks in place of Snakemake's; return whether they are in place.

    Does nothing (returns False) unless every method replaced is the one this module was checked
    against (a Snakemake that lacks one of them keeps its own); idempotent.
    """
    if all(getattr(DAG, name, None) is ours for name, ours in OURS.items()):
        return True
    if any(source_digest(getattr(DAG, name, None)) != digest for name, digest in CHECKED_SOURCES.items()):
        return False
    for name, ours in OURS.items():
        _SNAKEMAKE[name] = getattr(DAG, name)
        setattr(DAG, name, ours)
    return True
