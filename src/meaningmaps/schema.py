"""The config schema (``config.schema.yaml``) and the fine-tuning recipes it holds.

The schema is the one source of every config key's default, bounds and description. Its
``model.finetune`` block also holds the recipes: the defaults are the LLaVA-1.5 LoRA recipe (LLaVA's
``scripts/v1_5/finetune_lora.sh``); ``recipe: paper`` takes, for every key the config does not set,
the key's ``x-paper`` value (the paper's fine-tuning notebook: lr 2e-5, 2 epochs, per-device batch
4 on 6 GPUs = effective batch 24, ZeRO-3). Keys set in the config win over either recipe.

Why a module of its own: :mod:`meaningmaps.config` (which validates a config) and
:mod:`meaningmaps.model.finetune.settings` (which completes one run's settings) both read the schema,
and the top level never imports ``model/``.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import yaml

from .errors import InputError

SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")
RECIPES = ("llava15_lora", "paper")


def load_schema() -> dict:
    """The whole schema, parsed afresh (callers may change their copy)."""
    return yaml.safe_load(SCHEMA_PATH.read_text())


@functools.lru_cache(maxsize=1)
def finetune_schema() -> dict:
    """The ``model.finetune`` block of the schema (parsed once; not to be changed)."""
    return load_schema()["properties"]["model"]["properties"]["finetune"]


def recipe_values(recipe: str) -> dict:
    """The values a recipe sets over the defaults (none for llava15_lora)."""
    if recipe not in RECIPES:
        raise InputError("config", f"model.finetune.recipe: unknown recipe {recipe!r}.", f"use one of {RECIPES}.")
    if recipe == "llava15_lora":
        return {}
    return {k: copy.deepcopy(p["x-paper"]) for k, p in finetune_schema()["properties"].items() if "x-paper" in p}


def apply_recipe(given: dict | None) -> dict:
    """``given`` (the ``model.finetune`` keys) with the chosen recipe's values added for the keys it
    does not set (the schema's defaults are not filled in)."""
    out = dict(given or {})
    for key, value in recipe_values(out.get("recipe", finetune_schema()["properties"]["recipe"]["default"])).items():
        out.setdefault(key, value)
    return out
