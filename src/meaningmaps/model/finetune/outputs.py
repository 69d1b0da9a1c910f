"""What a finished run leaves in ``output_dir``: ``adapter/`` (peft ``save_pretrained``, gathered
across ranks under ZeRO-3) with its model card (:mod:`meaningmaps.model.card`), ``loss.csv`` and
``loss.png`` (training and held-out loss, and the label-frequency reference), ``run_info.json``;
and ``checkpoints/`` removed, so nothing is left that a later run could resume.

The adapter is first saved under a temporary name of this job's own (the same on every rank:
torchrun's rendezvous address), so two runs on one results folder never write into each other's
folder, and renamed onto ``adapter/`` when its card is written.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ...atomic import replace_dir, save_text
from ..card import write_card
from ..loading import image_processor_name
from ..trained_models import base_fingerprint
from .checkpoints import KEY_LENGTH
from .loss_curve import reference_losses, write_loss_curve
from .spec import FinetuneSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunFacts:
    """What a run found out on its way, for its card and ``run_info.json``."""

    run_key: str  # the run digest (checkpoints.run_digest)
    resumed_from: Path | None  # the checkpoint it resumed from
    grad_accum: int
    bf16: bool
    token_ids: str  # "processor", or the paper's SentencePiece ids (sentencepiece_ids)
    trainable: dict  # parameter counts: lora, projector, frozen

    @property
    def precision(self) -> str:
        return "bf16" if self.bf16 else "fp32"


def save_run(trainer, spec: FinetuneSpec, processor, train_set, heldout_set, facts: RunFacts, *,
             is_main: bool) -> Path:
    """Write the run's outputs (module doc); every rank calls it. Returns ``output_dir/adapter``."""
    optimizer_groups = [{"name": g.get("name"), "initial_lr": g.get("initial_lr", g.get("lr")),
                         "weight_decay": g.get("weight_decay")} for g in trainer.optimizer.param_groups]
    tmp = save_adapter(trainer, Path(spec.output_dir), facts.run_key, is_main=is_main)
    if is_main:
        out = Path(spec.output_dir)
        references = reference_losses(processor, spec.prompt, [r.answer for r in train_set.rows],
                                      [r.answer for r in heldout_set.rows] if heldout_set is not None else ())
        write_card(tmp, model_card(trainer, spec, processor, train_set, facts))
        replace_dir(tmp, spec.adapter_dir)
        write_loss_curve(trainer.state.log_history, out / "loss.csv", out / "loss.png", references=references)
        info = run_info(trainer, spec, facts, optimizer_groups, references)
        save_text(out / "run_info.json", json.dumps(info, indent=1) + "\n")
        shutil.rmtree(spec.checkpoints_root, ignore_errors=True)  # a finished run leaves nothing to resume
        log.info("adapter written to %s; checkpoints removed", spec.adapter_dir)
    trainer.accelerator.wait_for_everyone()
    return spec.adapter_dir


def save_adapter(trainer, output_dir: Path, run_key: str, *, is_main: bool) -> Path:
    """The trained adapter saved into a temporary folder of this job's own (every rank joins: ZeRO-3
    gathers the partitioned weights onto rank 0). Returns that folder."""
    tmp = output_dir / (f".adapter.{run_key[:KEY_LENGTH]}-{os.environ.get('MASTER_ADDR', 'local')}-"
                        f"{os.environ.get('MASTER_PORT', os.getpid())}.tmp")
    if is_main and tmp.exists():
        shutil.rmtree(tmp)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(tmp))
    trainer.accelerator.wait_for_everyone()
    return tmp


def model_card(trainer, spec: FinetuneSpec, processor, train_set, facts: RunFacts) -> dict:
    """The card the adapter carries: how it was trained, so that it is only used the same way."""
    return {
        "base_model": spec.base_model, "base_digest": base_fingerprint(spec.base_model),
        "prompt_mode": spec.prompt_mode, "prompt": spec.prompt, "token_ids": facts.token_ids,
        "image_processor": image_processor_name(processor),
        **spec.record,
        "trained_scenes": sorted({r.id.split("/")[0] for r in train_set.rows}), "train_rows": len(train_set),
        "settings": spec.settings.to_dict(), "run_digest": facts.run_key, "global_step": trainer.state.global_step,
        "world_size": trainer.args.world_size, "precision": facts.precision,
        "cross_validation": None}  # known only after the evaluation: rule release_model adds it


def run_info(trainer, spec: FinetuneSpec, facts: RunFacts, optimizer_groups: list[dict], references: dict) -> dict:
    """``run_info.json``: how the run went (resumed or not, steps, batch, precision, parameter counts,
    the optimizer's groups, the reference losses)."""
    world_size = trainer.args.world_size
    return {"resumed_from": str(facts.resumed_from) if facts.resumed_from is not None else None,
            "run_digest": facts.run_key, "global_step": trainer.state.global_step, "world_size": world_size,
            "grad_accum": facts.grad_accum,
            "samples_per_step": spec.settings.per_device_batch * world_size * facts.grad_accum,
            "precision": facts.precision, "zero_stage": spec.settings.zero_stage,
            "trainable": facts.trainable, "optimizer_groups": optimizer_groups, "reference_loss": references}
