"""Shards of scenes for the jobs that load a model (rating, probe features): one model load per shard.

Loading LLaVA-1.5-7B takes longer than rating one scene's 408 patches on a GPU, so a job that
loads it should rate many scenes (``model.inference.scenes_per_job``). The scenes that one model
rates (all of them for the base model; a fold's held-out scenes for a fold model) are cut into
``ceil(n / scenes_per_job)`` shards, and a scene's shard is ``sha256(scene) mod`` that number: it
depends on the scene's name only, so adding or changing a scene reruns its own shard and no other,
as long as the number of shards stays (it grows by one every ``scenes_per_job`` scenes; then the
model's shards are cut anew). With ``scenes_per_job: 1`` every scene is a shard of its own. Shard
names are ``<model>--<i>`` (``<model>--<scene>`` for one scene per job); each scene keeps its own
output file inside its shard's folder, and a scene's ratings are also copied by its shard's map job
to ``ratings/<source>/<scene>.csv``, where they do not depend on the shard (rules
maps_<source>_shard_<shard>, made per shard in rules/maps.smk; map_from_model_ratings per scene).
"""

from __future__ import annotations

import hashlib
import math

SEPARATOR = "--"  # model names (base, given, fold0, paper, all) never contain it
SHARD_PATTERN = r"[A-Za-z0-9_]+--[A-Za-z0-9_.+-]+"


def shard_index(scene: str, n_shards: int) -> int:
    return int(hashlib.sha256(scene.encode()).hexdigest(), 16) % n_shards


class Shards(dict):
    """``{"<model>--<i>": scenes}``, which also knows each scene's shard (:func:`shard_of` looks it up
    in constant time: every per-scene input function asks, so a scan would make planning N^2)."""

    def __init__(self, shards: dict[str, list[str]]):
        super().__init__(shards)
        self.by_scene = {scene: name for name, scenes in shards.items() for scene in scenes}


def assign_shards(groups: dict[str, list[str]], scenes_per_job: int) -> Shards:
    """``{model: scenes}`` -> ``{"<model>--<i>": scenes}`` (sorted; empty shards left out)."""
    if scenes_per_job < 1:
        raise ValueError(f"scenes_per_job must be >= 1, not {scenes_per_job}")
    shards: dict[str, list[str]] = {}
    for name, scenes in groups.items():
        n_shards = max(1, math.ceil(len(scenes) / scenes_per_job))
        for scene in sorted(scenes):
            part = scene if scenes_per_job == 1 else shard_index(scene, n_shards)
            shards.setdefault(f"{name}{SEPARATOR}{part}", []).append(scene)
    return Shards(dict(sorted(shards.items())))


def shard_of(shards: dict[str, list[str]], scene: str) -> str:
    """The shard that holds ``scene``."""
    by_scene = shards.by_scene if isinstance(shards, Shards) else Shards(shards).by_scene
    if scene not in by_scene:
        raise KeyError(f"scene {scene!r} is in no shard")
    return by_scene[scene]


def model_of(shard: str) -> str:
    """The model group of a shard name (``fold0--1`` -> ``fold0``)."""
    return shard.split(SEPARATOR, 1)[0]
