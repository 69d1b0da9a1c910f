"""Train/test splits by SCENE, never by patch, so no patch of a test scene is ever trained on.

* :func:`kfold_assignment`: a scene's fold is a hash of its name alone, so adding or removing a
  scene never moves any other scene to another fold (only the folds whose training set gains or
  loses it have to be retrained);
* :func:`paper_split`: the paper's 70/30 split, reproduced exactly (legacy ``np.random`` seeded
  with 42 on the sorted scene names).
"""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np

from .errors import InputError


def _check_unique(scenes) -> list[str]:
    scenes = [str(s) for s in scenes]
    dup = sorted(s for s, n in Counter(scenes).items() if n > 1)
    if dup:
        raise InputError("config", f"scene name(s) listed twice: {dup[:5]}.", "list every scene once.")
    return scenes


def scene_fold(scene: str, k: int, salt: int = 0) -> int:
    """``int(sha256(f"{salt}:{scene}").hexdigest()[:12], 16) % k`` (0-based)."""
    return int(hashlib.sha256(f"{salt}:{scene}".encode()).hexdigest()[:12], 16) % k


def kfold_assignment(scenes, k: int = 5, salt: int = 0) -> dict[str, int]:
    """scene -> fold (0..k-1); every scene is the test scene of exactly one fold.

    Fails when k < 2, k exceeds the number of scenes, or a fold gets no test scene (then a
    different ``model.folds.salt`` gives another assignment).
    """
    scenes = _check_unique(scenes)
    if k < 2 or k > len(scenes):
        raise InputError("config", f"model.folds.k = {k} does not fit {len(scenes)} scene(s) (need 2 <= k <= "
                         "number of scenes).", "change model.folds.k (or use model.scheme: paper).")
    assignment = {s: scene_fold(s, k, salt) for s in scenes}
    empty = sorted(set(range(k)) - set(assignment.values()))
    if empty:
        raise InputError("config", f"with model.folds.k = {k} and model.folds.salt = {salt}, fold(s) {empty} get no "
                         f"test scene among the {len(scenes)} scenes.",
                         "change model.folds.salt (any other integer) or lower model.folds.k.")
    return assignment


def fold_scenes(assignment: dict[str, int], fold: int) -> tuple[list[str], list[str]]:
    """(training scenes, test scenes) of one fold, each sorted."""
    if fold not in set(assignment.values()):
        raise InputError("config", f"fold {fold} has no test scene (folds present: "
                         f"{sorted(set(assignment.values()))}).", "ask for a fold 0..k-1 of this assignment.")
    train = sorted(s for s, f in assignment.items() if f != fold)
    test = sorted(s for s, f in assignment.items() if f == fold)
    return train, test


def paper_split(scenes) -> tuple[list[str], list[str]]:
    """The paper's split: (training scenes, test scenes), both returned sorted.

    Exactly: ``scenes = sorted(scenes); np.random.seed(42); test = np.random.choice(scenes,
    int(0.3 * len(scenes)), replace=False)``; training = the rest. The global legacy random
    state is saved before and restored after, so callers' random streams are unaffected.
    """
    scenes = sorted(_check_unique(scenes))
    state = np.random.get_state()
    try:
        np.random.seed(42)
        chosen = np.random.choice(scenes, int(0.3 * len(scenes)), replace=False)
    finally:
        np.random.set_state(state)
    test = sorted(str(s) for s in chosen)
    held = set(test)
    return [s for s in scenes if s not in held], test
