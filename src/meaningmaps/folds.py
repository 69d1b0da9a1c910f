"""Which fold model is trained on which scenes and rates which: the names the workflow uses.

``kfold``: folds ``fold0`` .. ``fold<k-1>``; a scene's fold is fixed by a hash of its name (see
``splits.kfold_assignment``), so adding a scene changes no other scene's fold and retrains only
the folds whose training set gains it. ``paper``: one model ``paper`` trained on the paper's 70%
and rating its 30% test scenes. ``all``: one model ``all`` trained on every scene, the model to use
on scenes nobody rated. ``model.scheme`` may list several (``[kfold, all]``): the first of kfold or
paper rates the scenes, ``all`` is trained beside them.
"""

from __future__ import annotations

from .errors import InputError
from .splits import fold_scenes, kfold_assignment, paper_split


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
