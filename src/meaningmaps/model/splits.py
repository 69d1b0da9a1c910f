"""Train/test splits by SCENE, never by patch, so no patch of a test scene is ever trained on.

* :func:`kfold_assignment`: a scene's fold is a hash of its name alone, so adding or removing a
  scene never moves any other scene to another fold (only the folds whose training set gains or
  loses it have to be retrained);
* :func:`paper_split`: the paper's 70/30 split, reproduced exactly (legacy ``np.random`` seeded
  with 42 on the sorted scene names).

Which fold model is trained on which scenes and rates which (:func:`model_folds`, the names the
workflow uses): ``kfold``: folds ``fold0`` .. ``fold<k-1>`` by :func:`kfold_assignment`, so adding a
scene retrains only the folds whose training set gains it. ``paper``: one model ``paper`` trained on
the paper's 70% and rating its 30% test scenes. ``all``: one model ``all`` trained on every scene,
the model to use on scenes nobody rated. ``model.scheme`` may list several (``[kfold, all]``): the
first of kfold or paper rates the scenes, ``all`` is trained beside them.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np

from ..errors import InputError


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


# ---- the folds of model.scheme ----
ALL = "all"


def schemes(model_cfg: dict) -> list[str]:
    """``model.scheme`` as a list (a single name or a list of them)."""
    value = model_cfg["scheme"]
    return [value] if isinstance(value, str) else list(value)


def rating_scheme(model_cfg: dict) -> str:
    """The scheme whose models rate the study's scenes: kfold or paper when listed, else all."""
    listed = schemes(model_cfg)
    held_out = [s for s in listed if s != ALL]
    if len(held_out) > 1:
        raise InputError("config", f"model.scheme lists both {held_out[0]} and {held_out[1]}; only one of them can "
                         "rate the scenes.", "keep one of kfold or paper (all may join either).")
    return held_out[0] if held_out else ALL


def model_folds(scenes, model_cfg: dict) -> dict[str, tuple[list[str], list[str]]]:
    """fold name -> (training scenes, held-out scenes), sorted, for every scheme listed."""
    scenes = sorted(scenes)
    folds: dict[str, tuple[list[str], list[str]]] = {}
    listed = schemes(model_cfg)
    if "paper" in listed:
        train, test = paper_split(scenes)
        if not test or not train:
            raise InputError("config", f"the paper's 70/30 split of {len(scenes)} scene(s) leaves an empty side.",
                             "use model.scheme: kfold, or more scenes.")
        folds["paper"] = (sorted(train), sorted(test))
    if "kfold" in listed:
        k = model_cfg["folds"]["k"]
        assignment = kfold_assignment(scenes, k, model_cfg["folds"]["salt"])
        folds.update({f"fold{f}": tuple(fold_scenes(assignment, f)) for f in range(k)})
    if ALL in listed:
        folds[ALL] = (scenes, [])
    return folds


def rating_folds(folds: dict, model_cfg: dict) -> dict[str, tuple[list[str], list[str]]]:
    """The folds whose models rate scenes (those of the rating scheme)."""
    if rating_scheme(model_cfg) == ALL:
        return {ALL: folds[ALL]}
    return {name: sides for name, sides in folds.items() if name != ALL}


def rating_fold(folds: dict, scene: str, scheme: str) -> str:
    """The fold whose model held ``scene`` out (and so rates it); under ``all`` alone, ``all``."""
    if scheme == ALL:
        return ALL
    for name, (_, test) in folds.items():
        if name == ALL:
            continue
        if scene in test:
            return name
    raise InputError("config", f"scene {scene!r} is in no fold's test set (scheme {scheme}).",
                     "with model.scheme: paper only the split's test scenes are rated; ask for one of those.")
