"""The fine-tuning settings of one run (the ``model.finetune`` keys): typed, complete and checked.

The config schema (``model.finetune`` in ``config.schema.yaml``, read by :mod:`meaningmaps.schema`)
is the one source of every setting's default, bounds and description, and of the recipes (the
defaults are the LLaVA-1.5 LoRA recipe; ``recipe: paper`` the ``x-paper`` values). This module adds
no value of its own: :class:`FinetuneSettings` gives the code the names and types, and
:func:`finetune_settings` fills it from the schema. ``tests/test_finetune.py`` checks that the
class's fields are the schema's keys, in its order, of its types.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import jsonschema

from ...errors import InputError
from ...schema import apply_recipe, finetune_schema

# Settings that do not change the trained weights: a run may be resumed across a change of these.
# (gpus: the ranks that actually run enter the run's digest as its world size.)
RESULT_NEUTRAL = frozenset({"save_steps", "save_total_limit", "logging_steps", "dataloader_workers", "cpu_ranks",
                            "eval_heldout", "gpus"})


@dataclass(frozen=True)
class FinetuneSettings:
    """Every ``model.finetune`` key of one run. What each means, its default and its bounds: the
    schema's description (``meaningmaps keys``, README "Config keys"). No defaults here: build it
    with :func:`finetune_settings`. Values are kept as the config gave them (an ``epochs`` of 1 stays
    the integer 1), so the run's digest and its card are what the config says."""

    recipe: str
    lora_r: int
    lora_alpha: float
    lora_dropout: float
    learning_rate: float
    train_projector: bool
    projector_lr: float
    epochs: float
    max_steps: int
    lr_scheduler: str
    warmup_ratio: float
    weight_decay: float
    max_grad_norm: float
    bf16: bool
    gradient_checkpointing: bool
    per_device_batch: int
    grad_accum: int
    effective_batch: int | None
    zero_stage: int
    save_steps: int
    save_total_limit: int | None
    logging_steps: int
    dataloader_workers: int
    eval_heldout: bool
    seed: int
    cpu_ranks: int
    gpus: int

    def to_dict(self) -> dict:
        """The settings as the config's ``model.finetune`` mapping (the spec file and the model card hold this)."""
        return dataclasses.asdict(self)

    def result_changing(self) -> dict:
        """The settings that change the trained weights (all but :data:`RESULT_NEUTRAL`): the run digest's."""
        return {k: v for k, v in self.to_dict().items() if k not in RESULT_NEUTRAL}


def defaults() -> dict:
    """Every setting's default (the LLaVA-1.5 LoRA recipe), from the schema."""
    return {k: copy.deepcopy(p["default"]) for k, p in finetune_schema()["properties"].items() if "default" in p}


def finetune_settings(given: dict | FinetuneSettings | None, source="config") -> FinetuneSettings:
    """The complete, checked settings of one run: the keys ``given``, then the recipe's values, then
    the schema's defaults; checked against the schema's bounds.

    An unknown key or a value out of bounds raises :class:`InputError` naming ``model.finetune.<key>``.
    """
    if isinstance(given, FinetuneSettings):
        given = given.to_dict()
    settings = {**defaults(), **apply_recipe(given)}
    errors = sorted(jsonschema.Draft202012Validator(finetune_schema()).iter_errors(settings),
                    key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = ".".join(["model.finetune", *map(str, e.absolute_path)])
        raise InputError(source, f"{where}: {e.message}",
                         "see the model.finetune keys in src/meaningmaps/config.schema.yaml (README 'Model steps').")
    return FinetuneSettings(**settings)


def grad_accum_for(settings: FinetuneSettings, world_size: int) -> int:
    """Gradient accumulation steps: ``grad_accum``, or ``effective_batch / (per_device_batch x ranks)``
    when ``effective_batch`` is set (which must then divide exactly: the batch is the recipe's)."""
    target = settings.effective_batch
    if target is None:
        return int(settings.grad_accum)
    per_step = int(settings.per_device_batch) * int(world_size)
    if target % per_step:
        fits = sorted({b for b in range(1, target + 1) if target % (b * world_size) == 0})
        raise InputError("config", f"model.finetune.effective_batch {target} is not a multiple of per_device_batch "
                         f"{settings.per_device_batch} x {world_size} rank(s).",
                         f"set model.finetune.per_device_batch to one of {fits} for {world_size} rank(s), or "
                         "run on a number of GPUs that divides it (the paper: 4 x 6 GPUs = 24).")
    return target // per_step
