"""One rank of a fine-tuning run: :func:`train`, top to bottom.

Every rank of a distributed job runs::

    python -m torch.distributed.run --nproc_per_node N -m meaningmaps.model.finetune --spec spec.json

(:mod:`~meaningmaps.model.finetune.launch` builds that command, single- or multi-node). The recipe:

* **LoRA** on the language model's attention and MLP projections, the projector trained in full at
  its own learning rate, the vision tower frozen (:mod:`~meaningmaps.model.finetune.lora`).
* **Data**: a JSONL in the LLaVA conversation format, one row per patch; each row becomes
  ``prompt + answer_suffix(category) + eos`` with the loss on the answer tokens and the
  end-of-sequence token only (:mod:`~meaningmaps.model.finetune.data`). The fold's held-out rows
  give a held-out loss after every epoch.
* **Training**: the HF ``Trainer`` with DeepSpeed ZeRO-2 (ZeRO-3 as an option), torch AdamW with two
  learning rates (:mod:`~meaningmaps.model.finetune.trainer`), cosine schedule with warmup
  (:mod:`~meaningmaps.model.finetune.arguments`), activation checkpointing of the language model,
  bf16 on GPUs (fp32 on the CPU, over gloo: :mod:`~meaningmaps.model.finetune.distributed`).
* **Settings**: ``spec.settings``, the ``model.finetune`` keys; the config schema is their one source
  (:mod:`~meaningmaps.model.finetune.settings`).
* **Checkpoints** every ``save_steps``; a rerun resumes only an interrupted run with the same inputs,
  settings and base model, and discards any other (:mod:`~meaningmaps.model.finetune.checkpoints`).
* **Result**: the adapter with its card, the loss curve, ``run_info.json``; the checkpoints removed
  (:mod:`~meaningmaps.model.finetune.outputs`).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import warnings
from pathlib import Path

import torch
from transformers import AutoProcessor, LlavaForConditionalGeneration, set_seed

from ...errors import InputError
from ..loading import PROCESSOR_KWARGS, check_model_source, check_pil_backend
from ..prompting import prompt_text
from ..sentencepiece_ids import paper_processor
from .arguments import training_arguments
from .checkpoints import KEY_LENGTH, discard_other_runs, latest_checkpoint, run_digest
from .data import PadCollator, PatchRatingDataset
from .distributed import is_main_rank, setup_distributed, world_size_from_env
from .lora import add_lora, check_trainable, enable_language_checkpointing
from .outputs import RunFacts, save_run
from .settings import FinetuneSettings, grad_accum_for
from .spec import FinetuneSpec
from .trainer import LlavaLoraTrainer, ProgressLog

log = logging.getLogger(__name__)

# The variables through which tests stand in for a dying job; their code (testing_hooks.py) is
# imported only when one of them is set.
TEST_HOOK_VARIABLES = ("MEANINGMAPS_FINETUNE_ABORT_AFTER_SAVE", "MEANINGMAPS_FINETUNE_PAUSE_AFTER_SAVE")


def train(spec: FinetuneSpec, *, model=None, processor=None, callbacks=(), run_key: str | None = None) -> Path:
    """Run (or resume) the fine-tuning on this rank; every rank of the job calls it. Returns the adapter dir.

    Resumes only the checkpoints of an interrupted run with the same :func:`run_digest` (``run_key``:
    computed once by the launcher and passed on; else here); every other run's checkpoints are
    discarded first. When training ends the adapter and its model card are written and
    ``checkpoints/`` is removed. ``model``/``processor``: an already built base (the GPU benchmark
    passes a random-weight model of the real shape, which exists on no disk) instead of loading
    ``spec.base_model``. ``callbacks``: extra ``TrainerCallback``s (the benchmark's step timer).
    """
    # ---------------------------------------------------------------------- this rank
    settings = spec.settings
    use_cuda = torch.cuda.is_available()
    bf16 = settings.bf16 and use_cuda and torch.cuda.is_bf16_supported()
    world_size, is_main = world_size_from_env(), is_main_rank()
    setup_output(is_main)

    # ---------------------------------------------------------------------- processor, prompt, data
    processor, token_ids = load_processor(spec, processor)
    spec = with_prompt(spec, processor)
    train_set, heldout_set = load_datasets(spec, processor)

    # ---------------------------------------------------------------------- checkpoints: only this run's
    run_key = run_key or run_digest(spec, world_size)
    resume = checkpoint_to_resume(spec, run_key, is_main=is_main)

    # ---------------------------------------------------------------------- the Trainer's arguments
    grad_accum = grad_accum_for(settings, world_size)
    configured_state = setup_distributed(use_cuda)
    args = training_arguments(settings, spec.checkpoints_dir(run_key), bf16=bf16,
                              use_configured_state=configured_state, grad_accum=grad_accum,
                              evaluate=heldout_set is not None)
    log_plan(spec, args, train_set, heldout_set, bf16=bf16, grad_accum=grad_accum, token_ids=token_ids)

    # ---------------------------------------------------------------------- model: the base with LoRA
    # Loaded after TrainingArguments, so under ZeRO-3 the weights are partitioned as they load.
    if model is None:
        model = load_base_model(spec.base_model, bf16=bf16)
    model, trainable = add_lora_for_training(model, settings)

    # ---------------------------------------------------------------------- train
    trainer = LlavaLoraTrainer(model=model, args=args, train_dataset=train_set, eval_dataset=heldout_set,
                               data_collator=PadCollator(processor.tokenizer.pad_token_id),
                               processing_class=processor, projector_lr=settings.projector_lr,
                               callbacks=[ProgressLog(), *callbacks, *callbacks_for_tests()])
    log_start(resume, run_key)
    trainer.train(resume_from_checkpoint=str(resume) if resume is not None else None)
    if heldout_set is not None:
        evaluate_last_step(trainer)

    # ---------------------------------------------------------------------- save
    facts = RunFacts(run_key=run_key, resumed_from=resume, grad_accum=grad_accum, bf16=bf16, token_ids=token_ids,
                     trainable=trainable)
    return save_run(trainer, spec, processor, train_set, heldout_set, facts, is_main=is_main)


def setup_output(is_main: bool) -> None:
    """Rank 0 logs progress, the other ranks only warnings; DeepSpeed's deprecation warnings about
    torch.distributed are silenced (they repeat every step and say nothing about the run)."""
    warnings.filterwarnings("ignore", message=r".*torch\.distributed\.(all_gather_into_tensor|reduce_scatter_tensor)"
                                              r"` is deprecated", category=FutureWarning)
    logging.basicConfig(level=logging.INFO if is_main else logging.WARNING,
                        format="[meaningmaps.model.finetune %(asctime)s] %(message)s", force=True)


def load_processor(spec: FinetuneSpec, processor=None) -> tuple:
    """(processor, token ids): the base model's processor with the PIL image processor (or the one
    given), and in the paper's prompt mode the original LLaVA code's SentencePiece ids where the
    vocabulary allows (``token_ids`` says which: "processor" or the paper's)."""
    if processor is None:
        check_model_source(spec.base_model, "finetune spec base_model")
        processor = AutoProcessor.from_pretrained(spec.base_model, **PROCESSOR_KWARGS)
    check_pil_backend(processor, spec.base_model)
    if spec.prompt_mode == "paper":
        return paper_processor(processor)
    return processor, "processor"


def with_prompt(spec: FinetuneSpec, processor) -> FinetuneSpec:
    """The spec with its exact prompt text: the one given (the workflow's qa/prompt.txt), else the
    prompt mode's text for this processor."""
    if spec.prompt is not None:
        return spec
    return dataclasses.replace(spec, prompt=prompt_text(processor, spec.prompt_mode))


def load_datasets(spec: FinetuneSpec, processor) -> tuple[PatchRatingDataset, PatchRatingDataset | None]:
    """The training rows, and the held-out rows when there are any and ``eval_heldout`` is on (else None)."""
    train_set = PatchRatingDataset(spec.train_jsonl, spec.image_root, processor, spec.prompt)
    if not (spec.eval_jsonl and spec.settings.eval_heldout):
        return train_set, None
    return train_set, PatchRatingDataset(spec.eval_jsonl, spec.image_root, processor, spec.prompt)


def checkpoint_to_resume(spec: FinetuneSpec, run_key: str, *, is_main: bool) -> Path | None:
    """The latest complete checkpoint of this run (None: train from scratch); rank 0 first discards
    every other run's checkpoints."""
    checkpoints_dir = spec.checkpoints_dir(run_key)
    if is_main:
        discard_other_runs(spec.checkpoints_root, keep=checkpoints_dir)
    return latest_checkpoint(checkpoints_dir)


def log_plan(spec: FinetuneSpec, args, train_set, heldout_set, *, bf16: bool, grad_accum: int, token_ids: str) -> None:
    settings = spec.settings
    if settings.bf16 and not bf16:
        log.info("bf16 requested but no bf16-capable GPU: training in fp32")
    log.info("world size %d, device %s, ZeRO-%d, %s; %d training rows%s; %d x %d x %d = %d samples per step",
             args.world_size, args.device, settings.zero_stage, "bf16" if bf16 else "fp32", len(train_set),
             f", {len(heldout_set)} held-out rows" if heldout_set is not None else "", settings.per_device_batch,
             args.world_size, grad_accum, settings.per_device_batch * args.world_size * grad_accum)
    log.info("prompt (%s): %r; token ids: %s", spec.prompt_mode, spec.prompt, token_ids)


def load_base_model(base_model: str, *, bf16: bool):
    return LlavaForConditionalGeneration.from_pretrained(
        base_model, dtype=torch.bfloat16 if bf16 else torch.float32, attn_implementation="sdpa")


def add_lora_for_training(model, settings: FinetuneSettings) -> tuple:
    """(the model wrapped in LoRA, ready to train; its trainable parameter counts)."""
    model.config.use_cache = False
    model.config.text_config.use_cache = False
    set_seed(settings.seed)  # the LoRA initialisation, independent of how loading used the random generator
    model = add_lora(model, settings)
    if settings.gradient_checkpointing:
        enable_language_checkpointing(model)
    counts = check_trainable(model, settings.train_projector)
    log.info("trainable parameters: LoRA %d, projector %d (frozen %d)", counts["lora"], counts["projector"],
             counts["frozen"])
    return model, counts


def log_start(resume: Path | None, run_key: str) -> None:
    if resume is not None:
        log.info("resuming from checkpoint %s (an interrupted run with the same inputs and settings, digest %s)",
                 resume, run_key[:KEY_LENGTH])
    else:
        log.info("training from scratch (run digest %s)", run_key[:KEY_LENGTH])


def evaluate_last_step(trainer) -> None:
    """The held-out loss at the last step too, when training stopped inside an epoch."""
    if not any("eval_loss" in e and e.get("step") == trainer.state.global_step for e in trainer.state.log_history):
        trainer.evaluate()


def callbacks_for_tests() -> list:
    """The callbacks a test asks for through :data:`TEST_HOOK_VARIABLES` (none in a real run)."""
    if not any(os.environ.get(name) for name in TEST_HOOK_VARIABLES):
        return []
    from . import testing_hooks  # test code, loaded only when a test asks for it

    return testing_hooks.callbacks()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m meaningmaps.model.finetune",
                                 description="One rank of a LoRA fine-tuning run of LLaVA (run by torchrun).")
    ap.add_argument("--spec", required=True, help="FinetuneSpec JSON file")
    ap.add_argument("--run-key", default=None, help="the run digest (computed by the launcher)")
    a = ap.parse_args(argv)
    try:
        train(FinetuneSpec.from_json(a.spec), run_key=a.run_key)
    except InputError as exc:
        print(f"meaningmaps.model.finetune: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from exc
