"""Fine-tuning settings, read from the config schema: the one source of every default, bound and
description (``model.finetune`` in ``config.schema.yaml``).

Two recipes share the schema: the defaults are the LLaVA-1.5 LoRA recipe (LLaVA's
``scripts/v1_5/finetune_lora.sh``); ``recipe: paper`` takes, for every key the config does not set,
the schema's ``x-paper`` value (the paper's fine-tuning notebook: lr 2e-5, 2 epochs, per-device batch
4 on 6 GPUs = effective batch 24, ZeRO-3). Keys set in the config win over either recipe.
"""

from __future__ import annotations

import copy

from ...errors import InputError
from ...schema import apply_recipe
from ...schema import finetune_schema as _schema

# Settings that do not change the trained weights: a run may be resumed across a change of these.
# (gpus: the ranks that actually run enter the run's digest as its world size.)
RESULT_NEUTRAL = frozenset({"save_steps", "save_total_limit", "logging_steps", "dataloader_workers", "cpu_ranks",
                            "eval_heldout", "gpus"})


def defaults() -> dict:
    """Every setting's default (the LLaVA-1.5 LoRA recipe)."""
    return {k: copy.deepcopy(p["default"]) for k, p in _schema()["properties"].items() if "default" in p}


def finetune_settings(given: dict | None, source="config") -> dict:
    """The complete, checked settings of one run: recipe, then defaults, then the schema's bounds.

    An unknown key or a value out of bounds raises :class:`InputError` naming ``model.finetune.<key>``.
    """
    import jsonschema

    settings = {**defaults(), **apply_recipe(given)}
    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(settings),
                    key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = ".".join(["model.finetune", *map(str, e.absolute_path)])
        raise InputError(source, f"{where}: {e.message}",
                         "see the model.finetune keys in src/meaningmaps/config.schema.yaml (README 'Model steps').")
    return settings


def grad_accum_for(settings: dict, world_size: int) -> int:
    """Gradient accumulation steps: ``grad_accum``, or ``effective_batch / (per_device_batch x ranks)``
    when ``effective_batch`` is set (which must then divide exactly: the batch is the recipe's)."""
    target = settings.get("effective_batch")
    if target is None:
        return int(settings["grad_accum"])
    per_step = int(settings["per_device_batch"]) * int(world_size)
    if target % per_step:
        fits = sorted({b for b in range(1, target + 1) if target % (b * world_size) == 0})
        raise InputError("config", f"model.finetune.effective_batch {target} is not a multiple of per_device_batch "
                         f"{settings['per_device_batch']} x {world_size} rank(s).",
                         f"set model.finetune.per_device_batch to one of {fits} for {world_size} rank(s), or "
                         "run on a number of GPUs that divides it (the paper: 4 x 6 GPUs = 24).")
    return target // per_step
