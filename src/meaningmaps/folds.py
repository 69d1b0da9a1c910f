"""Which fold model is trained on which scenes and rates which: the names the workflow uses.

``kfold``: folds ``fold0`` .. ``fold<k-1>``; a scene's fold is fixed by a hash of its name (see
``splits.kfold_assignment``), so adding a scene changes no other scene's fold and retrains only
the folds whose training set gains it. ``paper``: one model ``paper`` trained on the paper's 70%
and rating its 30% test scenes.
"""

from __future__ import annotations

from .errors import InputError
from .splits import fold_scenes, kfold_assignment, paper_split


def model_folds(scenes, model_cfg: dict) -> dict[str, tuple[list[str], list[str]]]:
    """fold name -> (training scenes, held-out scenes), sorted."""
    scenes = sorted(scenes)
    if model_cfg["scheme"] == "paper":
        train, test = paper_split(scenes)
        if not test or not train:
            raise InputError("config", f"the paper's 70/30 split of {len(scenes)} scene(s) leaves an empty side.",
                             "use model.scheme: kfold, or more scenes.")
        return {"paper": (sorted(train), sorted(test))}
    k = model_cfg["folds"]["k"]
    assignment = kfold_assignment(scenes, k, model_cfg["folds"]["salt"])
    return {f"fold{f}": tuple(fold_scenes(assignment, f)) for f in range(k)}


def rating_fold(folds: dict, scene: str, scheme: str) -> str:
    """The fold whose model held ``scene`` out (and so rates it)."""
    for name, (_, test) in folds.items():
        if scene in test:
            return name
    raise InputError("config", f"scene {scene!r} is in no fold's test set (scheme {scheme}).",
                     "with model.scheme: paper only the split's test scenes are rated; ask for one of those.")
