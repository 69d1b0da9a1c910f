"""How the HF ``Trainer`` is told to train a run: its ``TrainingArguments`` and DeepSpeed config.

DeepSpeed ZeRO-2 (ZeRO-3 as an option) with "auto" values the Trainer fills in, and no optimizer or
scheduler section: the Trainer makes torch AdamW and the HF schedule (``lr_scheduler``, with
warmup). Checkpoints every ``save_steps`` into the run's checkpoints folder; the held-out loss after
every epoch when there is a held-out set.
"""

from __future__ import annotations

import os

from transformers import TrainingArguments

from .settings import FinetuneSettings


def deepspeed_config(zero_stage: int = 2) -> dict:
    """DeepSpeed config with "auto" values filled in by the Trainer. No optimizer or scheduler section:
    the Trainer makes torch AdamW and the HF scheduler (no DeepSpeed fused optimizer op to compile)."""
    if zero_stage == 2:
        zero = {"stage": 2, "overlap_comm": False, "contiguous_gradients": True, "reduce_scatter": True,
                "reduce_bucket_size": "auto", "allgather_bucket_size": 200_000_000}
    elif zero_stage == 3:
        zero = {"stage": 3, "overlap_comm": False, "contiguous_gradients": True, "reduce_bucket_size": "auto",
                "stage3_prefetch_bucket_size": "auto", "stage3_param_persistence_threshold": "auto",
                "stage3_max_live_parameters": 1_000_000_000, "stage3_max_reuse_distance": 1_000_000_000,
                "sub_group_size": 1_000_000_000,
                # needed so that Trainer.save_model gathers the (LoRA + projector) weights onto rank 0
                "stage3_gather_16bit_weights_on_model_save": True}
    else:
        raise ValueError(f"zero_stage must be 2 or 3, not {zero_stage}")
    return {"train_micro_batch_size_per_gpu": "auto", "train_batch_size": "auto",
            "gradient_accumulation_steps": "auto", "gradient_clipping": "auto",
            "bf16": {"enabled": "auto"}, "fp16": {"enabled": "auto"},
            "zero_optimization": zero, "zero_allow_untested_optimizer": True,
            "steps_per_print": 1_000_000_000, "wall_clock_breakdown": False}


def data_workers(configured: int) -> int:
    """Data-loader processes of a rank: model.finetune.dataloader_workers, but no more than the
    rank's share of the job's threads leaves beside the rank itself (``OMP_NUM_THREADS``, set by the
    launcher from the rule's threads), so a job never runs more processes than it was given CPUs."""
    try:
        share = int(os.environ.get("OMP_NUM_THREADS", "0"))
    except ValueError:
        share = 0
    return configured if share <= 0 else min(configured, max(0, share - 1))


def training_arguments(settings: FinetuneSettings, checkpoints_dir, *, bf16: bool, use_configured_state: bool,
                       grad_accum: int, evaluate: bool) -> TrainingArguments:
    """The Trainer's arguments for a run. ``use_configured_state``: the rank's distributed state was
    made by :func:`~meaningmaps.model.finetune.distributed.setup_distributed` (on a CPU), not by the Trainer."""
    kwargs = {}
    if use_configured_state:
        kwargs["accelerator_config"] = {"use_configured_state": True}
    # transformers 5 has one warmup argument, warmup_steps, and reads a value below 1 as a fraction
    # of the run's optimizer steps; the schema keeps warmup_ratio below 1, so it is always that.
    warmup_fraction = settings.warmup_ratio
    return TrainingArguments(
        output_dir=str(checkpoints_dir),
        seed=settings.seed, data_seed=settings.seed,
        per_device_train_batch_size=settings.per_device_batch, gradient_accumulation_steps=grad_accum,
        per_device_eval_batch_size=settings.per_device_batch, eval_strategy="epoch" if evaluate else "no",
        prediction_loss_only=True,
        num_train_epochs=settings.epochs, max_steps=settings.max_steps,
        learning_rate=settings.learning_rate, weight_decay=settings.weight_decay, max_grad_norm=settings.max_grad_norm,
        optim="adamw_torch", lr_scheduler_type=settings.lr_scheduler, warmup_steps=warmup_fraction,
        bf16=bf16, fp16=False,
        activation_checkpointing=False,  # done on the language model only, see lora.enable_language_checkpointing
        deepspeed=deepspeed_config(settings.zero_stage),
        save_strategy="steps", save_steps=settings.save_steps, save_total_limit=settings.save_total_limit,
        logging_strategy="steps", logging_steps=settings.logging_steps, logging_first_step=True,
        report_to="none", disable_tqdm=True,
        dataloader_num_workers=data_workers(settings.dataloader_workers),
        dataloader_pin_memory=not use_configured_state,
        remove_unused_columns=False, label_names=["labels"],
        **kwargs,
    )
