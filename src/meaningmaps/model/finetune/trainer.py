"""The HF ``Trainer`` of a run: two learning rates (the LoRA factors', the projector's) and a
progress log.

The optimizer is still the Trainer's own (``args.optim``: torch AdamW); :class:`LlavaLoraTrainer`
only hands it two parameter groups (:func:`optimizer_param_groups`). :class:`ProgressLog` logs, on
rank 0, the steps done, the seconds per step, the time left and the losses.
"""

from __future__ import annotations

import logging
import time

from transformers import Trainer, TrainerCallback

from .lora import PROJECTOR_MODULE

log = logging.getLogger(__name__)


def optimizer_param_groups(model, learning_rate: float, projector_lr: float, weight_decay: float,
                           decay_names) -> list[dict]:
    """AdamW parameter groups: LoRA factors at ``learning_rate`` (first, so the logged learning rate is
    theirs), projector at ``projector_lr``; weight decay only on the names in ``decay_names``."""
    decay_names = set(decay_names)
    buckets: dict[tuple[str, bool], list] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        part = "projector" if PROJECTOR_MODULE in name else "lora"
        buckets.setdefault((part, name in decay_names), []).append(p)
    groups = []
    for part, lr in (("lora", learning_rate), ("projector", projector_lr)):
        for decay in (True, False):
            params = buckets.get((part, decay))
            if params:
                groups.append({"params": params, "lr": lr, "weight_decay": weight_decay if decay else 0.0,
                               "name": f"{part}{'' if decay else '_no_decay'}"})
    return groups


class LlavaLoraTrainer(Trainer):
    """The HF Trainer with two learning rates: LoRA factors and projector (see
    :func:`optimizer_param_groups`). The optimizer class is still the Trainer's (``args.optim``)."""

    def __init__(self, *args, projector_lr: float, **kwargs):
        self.projector_lr = projector_lr
        super().__init__(*args, **kwargs)

    def create_optimizer(self, model=None):
        if self.optimizer is None:
            opt_model = self.model if model is None else model
            groups = optimizer_param_groups(opt_model, self.args.learning_rate, self.projector_lr,
                                            self.args.weight_decay, self.get_decay_parameter_names(opt_model))
            optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
            self.optimizer = optimizer_cls(groups, **optimizer_kwargs)
        return self.optimizer


class ProgressLog(TrainerCallback):
    """Logs, on rank 0, steps done / total, seconds per step, the time left and the losses."""

    def on_train_begin(self, args, state, control, **kwargs):
        self.t0, self.step0 = time.monotonic(), state.global_step

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        if "eval_loss" in logs:
            log.info("held-out loss %.4f at step %d (epoch %.2f)", logs["eval_loss"], state.global_step,
                     state.epoch or 0)
        if "loss" not in logs:
            return
        done, total = state.global_step, state.max_steps
        per_step = (time.monotonic() - self.t0) / max(done - self.step0, 1)
        left = per_step * max(total - done, 0)
        log.info("step %d/%d (%.0f%%), %.2f s/step, %s left; loss %.4f, lr %.3g", done, total,
                 100 * done / max(total, 1), per_step, _duration(left), logs["loss"],
                 logs.get("learning_rate", float("nan")))


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, m, s = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s"
