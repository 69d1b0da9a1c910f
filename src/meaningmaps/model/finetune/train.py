"""LoRA fine-tuning of LLaVA to rate scene patches: the training worker and its spec.

One run is described by a :class:`FinetuneSpec` (a JSON file). Each rank of a distributed job runs::

    python -m torch.distributed.run --nproc_per_node N -m meaningmaps.model.finetune --spec spec.json

(:mod:`meaningmaps.model.finetune.launch` builds that command, single- or multi-node). The recipe:

* **LoRA** (peft) on the *language model's* attention and MLP projections (q, k, v, o, gate, up, down)
  only -- :data:`LORA_TARGET_REGEX` cannot match a vision-tower module. The vision tower is frozen. The
  multimodal projector is trained in full (peft ``modules_to_save``) at its own learning rate
  (``projector_lr``, the LLaVA-1.5 recipe) unless ``train_projector`` is off.
* **Data**: a JSONL in the LLaVA conversation format, one row per patch (see :func:`read_rows`). Each
  row becomes ``prompt + answer_suffix(category) + eos`` (the run's prompt text, ``qa/prompt.txt`` in
  the workflow); the loss is on the answer tokens and the end-of-sequence token only (every prompt and
  image token is labelled -100). The fold's held-out rows give a held-out loss after every epoch.
* **Training**: the HF ``Trainer`` with DeepSpeed ZeRO-2 (ZeRO-3 as an option), the optimizer made by
  the Trainer (torch AdamW, two learning rates, see :class:`LlavaLoraTrainer`), cosine schedule with
  warmup, activation checkpointing of the language model, bf16 on GPUs (fp32 on the CPU).
* **Settings**: ``spec.settings``, the ``model.finetune`` keys; the config schema is their one source
  (:mod:`meaningmaps.model.finetune.settings`).
* **Checkpoints** every ``save_steps`` into ``output_dir/checkpoints/<run digest>``; a rerun resumes
  only an interrupted run with the same inputs, settings and base model, and discards any other
  (:mod:`meaningmaps.model.finetune.checkpoints`); a finished run removes them.
* **Result**: ``output_dir/adapter`` (peft ``save_pretrained``; gathered across ranks under ZeRO-3) with
  its model card (:mod:`meaningmaps.model.card`), ``output_dir/loss.csv`` and ``output_dir/loss.png``
  (training and held-out loss, and the label-frequency reference), ``output_dir/run_info.json``.

On a CPU-only machine (tests) the ranks talk over gloo: accelerate's own set-up would leave the
DeepSpeed process-group backend unset and see a single process, so the worker creates the
distributed state itself (``PartialState(backend="gloo")`` with ``ACCELERATE_USE_DEEPSPEED=true``) and
has ``TrainingArguments`` use it (``accelerator_config={"use_configured_state": True}``).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import logging
import os
import shutil
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ...atomic import replace_dir, save_text
from ...errors import InputError
from ..prompting import PROMPT_MODES
from .checkpoints import KEY_LENGTH, discard_other_runs, latest_checkpoint, run_digest
from .data import IGNORE_INDEX, PadCollator, PatchRatingDataset, TrainRow, encode_example, read_rows  # noqa: F401 (re-exported)
from .settings import finetune_settings, grad_accum_for

log = logging.getLogger("meaningmaps.model.finetune")

# Language-model projections only. Module names in transformers 5.x:
#   model.language_model.layers.0.self_attn.q_proj   (trained)
#   model.vision_tower.encoder.layers.0.self_attn.q_proj   (never matched: no "language_model.")
# The optional groups also accept the 4.x layout (language_model.model.layers.0...). peft full-matches it.
LORA_TARGET_REGEX = (r"(?:.*\.)?language_model\.(?:.*\.)?layers\.\d+\."
                     r"(?:self_attn\.(?:q_proj|k_proj|v_proj|o_proj)|mlp\.(?:gate_proj|up_proj|down_proj))")
PROJECTOR_MODULE = "multi_modal_projector"
ABORT_ENV = "MEANINGMAPS_FINETUNE_ABORT_AFTER_SAVE"  # tests: exit hard once the checkpoint of that step is saved
# tests: rank 0 sleeps once that checkpoint is saved (a job to kill)
PAUSE_ENV = "MEANINGMAPS_FINETUNE_PAUSE_AFTER_SAVE"


# --------------------------------------------------------------------------------------------- spec


@dataclass
class FinetuneSpec:
    """One fine-tuning run; stored as JSON (:meth:`to_json` / :meth:`from_json`), one file per run.

    ``settings`` are the ``model.finetune`` keys, completed and checked by
    :func:`~meaningmaps.model.finetune.settings.finetune_settings` (the config schema is their one source);
    they read as attributes too (``spec.lora_r``). ``prompt``: the exact prompt text of the run (with
    the image placeholder; None: :func:`~meaningmaps.model.prompting.prompt_text` in ``prompt_mode``).
    ``eval_jsonl``: the fold's held-out rows, whose loss is computed after every epoch. ``record``:
    facts copied into the model card as they are (image aspect, label rule, scales, fold...).
    """

    base_model: str
    train_jsonl: str
    image_root: str
    output_dir: str
    prompt_mode: str = "llava_v1"
    prompt: str | None = None
    eval_jsonl: str | None = None
    settings: dict = field(default_factory=dict)
    record: dict = field(default_factory=dict)

    def __post_init__(self):
        self.validate()

    def __getattr__(self, name):
        settings = self.__dict__.get("settings")
        if settings is not None and name in settings:
            return settings[name]
        raise AttributeError(name)

    def validate(self, source=None) -> None:
        for name in ("base_model", "train_jsonl", "image_root", "output_dir"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InputError(source, f"finetune spec: {name} must be a non-empty string, not "
                                         f"{getattr(self, name)!r}.")
        if self.prompt_mode not in PROMPT_MODES:
            raise InputError(source, f"finetune spec: prompt_mode must be one of {PROMPT_MODES}, not "
                                     f"{self.prompt_mode!r}.", "set model.prompt.")
        if self.prompt is not None and (not isinstance(self.prompt, str) or "<image>" not in self.prompt):
            raise InputError(source, "finetune spec: prompt must be the prompt text with its <image> placeholder.",
                             "write it with the workflow's prompt rule (qa/prompt.txt).")
        if not isinstance(self.settings, dict) or not isinstance(self.record, dict):
            raise InputError(source, "finetune spec: settings and record must be objects.")
        self.settings = finetune_settings(self.settings, source or "finetune spec")

    # JSON round trip
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict, source=None) -> FinetuneSpec:
        if not isinstance(d, dict):
            raise InputError(source, "finetune spec: the JSON must be an object.")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise InputError(source, f"finetune spec: unknown field(s) {unknown}.",
                             f"the fields are {sorted(names)}; fine-tuning settings go under 'settings'.")
        try:
            return cls(**d)
        except TypeError as exc:  # a required field is missing
            raise InputError(source, f"finetune spec: {exc}.") from exc
        except InputError as exc:
            raise InputError(source, exc.problem, exc.fix) from exc

    def to_json(self, path) -> Path:
        path = Path(path)
        save_text(path, json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @classmethod
    def from_json(cls, path) -> FinetuneSpec:
        path = Path(path)
        if not path.is_file():
            raise InputError(path, "finetune spec file does not exist.")
        try:
            d = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(path, f"finetune spec is not valid JSON ({exc}).") from exc
        return cls.from_dict(d, source=path)

    # the output layout
    @property
    def checkpoints_root(self) -> Path:
        """``output_dir/checkpoints``: one folder per run digest (see :mod:`meaningmaps.model.finetune.checkpoints`)."""
        return Path(self.output_dir) / "checkpoints"

    def checkpoints_dir(self, run_key: str) -> Path:
        return self.checkpoints_root / run_key[:KEY_LENGTH]

    @property
    def adapter_dir(self) -> Path:
        return Path(self.output_dir) / "adapter"


# --------------------------------------------------------------------------------------------- model


def lora_config(spec: FinetuneSpec):
    from peft import LoraConfig

    return LoraConfig(r=spec.lora_r, lora_alpha=spec.lora_alpha, lora_dropout=spec.lora_dropout,
                      target_modules=LORA_TARGET_REGEX, bias="none",
                      modules_to_save=[PROJECTOR_MODULE] if spec.train_projector else None)


def add_lora(model, spec: FinetuneSpec):
    """Wrap a ``LlavaForConditionalGeneration`` in a peft LoRA model as the spec says; check the result."""
    from peft import get_peft_model

    for p in model.parameters():
        p.requires_grad_(False)
    peft_model = get_peft_model(model, lora_config(spec))
    check_trainable(peft_model, spec.train_projector)
    return peft_model


def check_trainable(peft_model, train_projector: bool) -> dict:
    """Assert the trainable set: LoRA factors in the language model (+ the projector). Returns counts."""
    counts = {"lora": 0, "projector": 0, "frozen": 0}
    for name, p in peft_model.named_parameters():
        numel = getattr(p, "ds_numel", None) or p.numel()  # ZeRO-3 partitioned: the full size
        if not p.requires_grad:
            counts["frozen"] += numel
            continue
        if "vision_tower" in name:
            raise RuntimeError(f"vision-tower parameter {name} is trainable")
        if "lora_" in name and ".language_model." in name:
            counts["lora"] += numel
        elif PROJECTOR_MODULE in name and train_projector:
            counts["projector"] += numel
        else:
            raise RuntimeError(f"unexpected trainable parameter {name}")
    if counts["lora"] == 0 or (train_projector and counts["projector"] == 0):
        raise RuntimeError(f"nothing to train in a part: {counts}")
    return counts


def enable_language_checkpointing(model, every_n_layers: int = 1) -> None:
    """Activation checkpointing (non-reentrant) for the language model's decoder layers only
    (``every_n_layers``: only every n-th layer, the others keep their activations; training uses 1,
    ``bench/gpu_speed.py`` measures 2).

    The frozen vision tower keeps no activations for backward anyway (nothing in it needs a gradient),
    and enabling checkpointing on the whole LLaVA would also hook the vision patch embedding to require
    grad (``enable_input_require_grads``), making backward run through the frozen vision tower for nothing.
    """
    language_model = model.get_base_model().model.language_model
    language_model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False},
                                                   every_n_layers=every_n_layers)


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


@functools.cache
def _trainer_class():
    from transformers import Trainer

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

    return LlavaLoraTrainer


def __getattr__(name):  # LlavaLoraTrainer without importing transformers at module import
    if name == "LlavaLoraTrainer":
        return _trainer_class()
    raise AttributeError(name)


# --------------------------------------------------------------------------------------------- deepspeed


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


# --------------------------------------------------------------------------------------------- checkpoints


def _test_hooks() -> list:
    """Test hooks that stand in for a job dying mid-training, driven by the environment:

    * ``MEANINGMAPS_FINETUNE_ABORT_AFTER_SAVE=<step>``: exit hard (no clean-up) right after the
      checkpoint of that step is saved;
    * ``MEANINGMAPS_FINETUNE_PAUSE_AFTER_SAVE=<step>``: rank 0 prints "paused after saving step N" and
      sleeps (up to 10 minutes) once that checkpoint is saved, so a test can SIGKILL the job mid-run.
    """
    from transformers import TrainerCallback

    hooks = []
    if os.environ.get(ABORT_ENV):
        abort_step = int(os.environ[ABORT_ENV])

        class AbortAfterSave(TrainerCallback):
            def on_save(self, args, state, control, **kwargs):
                if state.global_step >= abort_step:
                    print(f"[meaningmaps.model.finetune] {ABORT_ENV}={abort_step}: aborting after saving step "
                          f"{state.global_step}", flush=True)
                    sys.stderr.flush()
                    os._exit(75)

        hooks.append(AbortAfterSave())
    if os.environ.get(PAUSE_ENV):
        pause_step = int(os.environ[PAUSE_ENV])

        class PauseAfterSave(TrainerCallback):
            def on_save(self, args, state, control, **kwargs):
                if state.global_step >= pause_step and state.is_world_process_zero:
                    print(f"[meaningmaps.model.finetune] {PAUSE_ENV}={pause_step}: paused after saving step "
                          f"{state.global_step} (pid {os.getpid()})", flush=True)
                    time.sleep(600)

        hooks.append(PauseAfterSave())
    return hooks


def _progress_callback():
    """Logs, on rank 0, steps done / total, seconds per step, the time left and the losses."""
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
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

    return Progress()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, m, s = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s"


# --------------------------------------------------------------------------------------------- training


def _setup_distributed(use_cuda: bool):
    """Create the accelerate state (DeepSpeed flavour) before TrainingArguments, on the CPU with gloo."""
    if use_cuda:
        return False  # TrainingArguments sets up nccl + DeepSpeed itself
    from accelerate import PartialState

    _skip_cpu_shm_op()
    os.environ["ACCELERATE_USE_DEEPSPEED"] = "true"
    PartialState(backend="gloo")
    return True


def _skip_cpu_shm_op() -> None:
    """On the CPU, DeepSpeed's communication backend compiles a shared-memory C++ op (about 1.5 minutes
    on first use) that serves only ``inference_all_reduce``; training uses torch.distributed's
    collectives (gloo) either way. Mark it unavailable so it is not built (DeepSpeed then uses the
    plain all-reduce there too). Set ``MEANINGMAPS_DS_SHM_OP=1`` to keep DeepSpeed's default."""
    if os.environ.get("MEANINGMAPS_DS_SHM_OP") == "1":
        return
    try:
        import deepspeed.ops

        deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
    except (ImportError, AttributeError, TypeError):
        pass


def data_workers(configured: int) -> int:
    """Data-loader processes of a rank: model.finetune.dataloader_workers, but no more than the
    rank's share of the job's threads leaves beside the rank itself (``OMP_NUM_THREADS``, set by the
    launcher from the rule's threads), so a job never runs more processes than it was given CPUs."""
    try:
        share = int(os.environ.get("OMP_NUM_THREADS", "0"))
    except ValueError:
        share = 0
    return configured if share <= 0 else min(configured, max(0, share - 1))


def training_arguments(spec: FinetuneSpec, checkpoints_dir, *, bf16: bool, use_configured_state: bool,
                       grad_accum: int, evaluate: bool):
    from transformers import TrainingArguments

    kwargs = {}
    if use_configured_state:
        kwargs["accelerator_config"] = {"use_configured_state": True}
    return TrainingArguments(
        output_dir=str(checkpoints_dir),
        seed=spec.seed, data_seed=spec.seed,
        per_device_train_batch_size=spec.per_device_batch, gradient_accumulation_steps=grad_accum,
        per_device_eval_batch_size=spec.per_device_batch, eval_strategy="epoch" if evaluate else "no",
        prediction_loss_only=True,
        num_train_epochs=spec.epochs, max_steps=spec.max_steps,
        learning_rate=spec.learning_rate, weight_decay=spec.weight_decay, max_grad_norm=spec.max_grad_norm,
        optim="adamw_torch", lr_scheduler_type=spec.lr_scheduler, warmup_steps=spec.warmup_ratio,
        bf16=bf16, fp16=False,
        activation_checkpointing=False,  # done on the language model only, see enable_language_checkpointing
        deepspeed=deepspeed_config(spec.zero_stage),
        save_strategy="steps", save_steps=spec.save_steps, save_total_limit=spec.save_total_limit,
        logging_strategy="steps", logging_steps=spec.logging_steps, logging_first_step=True,
        report_to="none", disable_tqdm=True,
        dataloader_num_workers=data_workers(spec.dataloader_workers),
        dataloader_pin_memory=not use_configured_state,
        remove_unused_columns=False, label_names=["labels"],
        **kwargs,
    )


def world_size_from_env() -> int:
    """The number of ranks of this job (torchrun's WORLD_SIZE; 1 when run directly)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def reference_losses(processor, prompt: str, train_answers, heldout_answers=()) -> dict:
    """The loss per supervised token of a model that knows only the training label frequencies: it
    puts probability f(c) on each whole answer c (its tokens and ``</s>``), so the loss is
    ``sum_i -log f(c_i) / sum_i n_tokens(c_i)``, on the training rows and on the held-out rows (with
    the training frequencies; infinite if a held-out label never occurs in training)."""
    import math
    from collections import Counter

    from ..answer_scoring import answer_token_ids
    from ..prompting import CATEGORIES

    n_tokens = {c: len(ids) for c, ids in zip(CATEGORIES, answer_token_ids(processor, prompt, append_eos=True),
                                             strict=True)}
    counts = Counter(train_answers)
    total = sum(counts.values())

    def loss(answers):
        answers = list(answers)
        if not answers or not total:
            return None
        nll = sum(-math.log(counts[a] / total) if counts[a] else math.inf for a in answers)
        return nll / sum(n_tokens[a] for a in answers)

    return {"train": loss(train_answers), "heldout": loss(heldout_answers),
            "frequencies": {c: counts[c] / total for c in CATEGORIES} if total else {}}


def train(spec: FinetuneSpec, *, model=None, processor=None, callbacks=(), run_key: str | None = None) -> Path:
    """Run (or resume) the fine-tuning on this rank; every rank of the job calls it. Returns the adapter dir.

    Resumes only the checkpoints of an interrupted run with the same :func:`run_digest` (``run_key``:
    computed once by the launcher and passed on; else here); every other run's checkpoints are
    discarded first. When training ends the adapter and its model card are written and
    ``checkpoints/`` is removed. ``model``/``processor``: an already built base (the GPU benchmark
    passes a random-weight model of the real shape, which exists on no disk) instead of loading
    ``spec.base_model``. ``callbacks``: extra ``TrainerCallback``s (the benchmark's step timer).
    """
    import torch
    from transformers import LlavaForConditionalGeneration, set_seed

    from ..card import write_card
    from ..loading import PROCESSOR_KWARGS, check_model_source, check_pil_backend, image_processor_name
    from ..prompting import prompt_text
    from ..trained_models import base_fingerprint
    from .loss_curve import write_loss_curve

    warnings.filterwarnings("ignore", message=r".*torch\.distributed\.(all_gather_into_tensor|reduce_scatter_tensor)"
                                              r"` is deprecated", category=FutureWarning)
    use_cuda = torch.cuda.is_available()
    bf16 = spec.bf16 and use_cuda and torch.cuda.is_bf16_supported()
    world_size = world_size_from_env()
    is_main = int(os.environ.get("RANK", "0") or 0) == 0
    logging.basicConfig(level=logging.INFO if is_main else logging.WARNING,
                        format="[meaningmaps.model.finetune %(asctime)s] %(message)s", force=True)

    if processor is None:
        check_model_source(spec.base_model, "finetune spec base_model")
        from transformers import AutoProcessor
        processor = AutoProcessor.from_pretrained(spec.base_model, **PROCESSOR_KWARGS)  # the PIL image processor
    check_pil_backend(processor, spec.base_model)
    token_ids = "processor"
    if spec.prompt_mode == "paper":  # the original LLaVA code's (SentencePiece) ids, where the vocabulary allows
        from ..sentencepiece_ids import paper_processor

        processor, token_ids = paper_processor(processor)
    prompt = spec.prompt if spec.prompt is not None else prompt_text(processor, spec.prompt_mode)
    spec = dataclasses.replace(spec, prompt=prompt)
    dataset = PatchRatingDataset(spec.train_jsonl, spec.image_root, processor, prompt)
    evaluate = bool(spec.eval_jsonl) and spec.eval_heldout
    eval_dataset = PatchRatingDataset(spec.eval_jsonl, spec.image_root, processor, prompt) if evaluate else None

    run_key = run_key or run_digest(spec, world_size)
    checkpoints_dir = spec.checkpoints_dir(run_key)
    if is_main:
        discard_other_runs(spec.checkpoints_root, keep=checkpoints_dir)
    resume = latest_checkpoint(checkpoints_dir)
    grad_accum = grad_accum_for(spec.settings, world_size)

    configured = _setup_distributed(use_cuda)
    args = training_arguments(spec, checkpoints_dir, bf16=bf16, use_configured_state=configured,
                              grad_accum=grad_accum, evaluate=evaluate)
    if spec.bf16 and not bf16:
        log.info("bf16 requested but no bf16-capable GPU: training in fp32")
    log.info("world size %d, device %s, ZeRO-%d, %s; %d training rows%s; %d x %d x %d = %d samples per step",
             args.world_size, args.device, spec.zero_stage, "bf16" if bf16 else "fp32", len(dataset),
             f", {len(eval_dataset)} held-out rows" if evaluate else "", spec.per_device_batch, args.world_size,
             grad_accum, spec.per_device_batch * args.world_size * grad_accum)
    log.info("prompt (%s): %r; token ids: %s", spec.prompt_mode, prompt, token_ids)

    # Loaded after TrainingArguments, so under ZeRO-3 the weights are partitioned as they load.
    if model is None:
        model = LlavaForConditionalGeneration.from_pretrained(
            spec.base_model, dtype=torch.bfloat16 if bf16 else torch.float32, attn_implementation="sdpa")
    model.config.use_cache = False
    model.config.text_config.use_cache = False
    set_seed(spec.seed)  # the LoRA initialisation, independent of how loading used the random generator
    model = add_lora(model, spec)
    if spec.gradient_checkpointing:
        enable_language_checkpointing(model)
    counts = check_trainable(model, spec.train_projector)
    log.info("trainable parameters: LoRA %d, projector %d (frozen %d)", counts["lora"], counts["projector"],
             counts["frozen"])

    callbacks = [_progress_callback(), *callbacks, *_test_hooks()]
    trainer = _trainer_class()(model=model, args=args, train_dataset=dataset, eval_dataset=eval_dataset,
                               data_collator=PadCollator(processor.tokenizer.pad_token_id),
                               processing_class=processor, callbacks=callbacks, projector_lr=spec.projector_lr)
    if resume is not None:
        log.info("resuming from checkpoint %s (an interrupted run with the same inputs and settings, digest %s)",
                 resume, run_key[:KEY_LENGTH])
    else:
        log.info("training from scratch (run digest %s)", run_key[:KEY_LENGTH])
    trainer.train(resume_from_checkpoint=str(resume) if resume is not None else None)
    history = trainer.state.log_history
    if evaluate and not any("eval_loss" in e and e.get("step") == trainer.state.global_step for e in history):
        trainer.evaluate()  # the held-out loss at the last step too (training stopped inside an epoch)

    optimizer_groups = [{"name": g.get("name"), "initial_lr": g.get("initial_lr", g.get("lr")),
                         "weight_decay": g.get("weight_decay")} for g in trainer.optimizer.param_groups]
    # The adapter: every rank joins save_model (ZeRO-3 gathers the partitioned weights), rank 0 renames.
    # A temporary name of this job's own (the same on every rank: torchrun's rendezvous address), so two
    # runs on one results folder never write into each other's folder.
    out = Path(spec.output_dir)
    tmp = out / (f".adapter.{run_key[:KEY_LENGTH]}-{os.environ.get('MASTER_ADDR', 'local')}-"
                 f"{os.environ.get('MASTER_PORT', os.getpid())}.tmp")
    if is_main and tmp.exists():
        shutil.rmtree(tmp)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(tmp))
    trainer.accelerator.wait_for_everyone()
    if is_main:
        references = reference_losses(processor, prompt, [r.answer for r in dataset.rows],
                                      [r.answer for r in eval_dataset.rows] if evaluate else ())
        info = {"resumed_from": str(resume) if resume is not None else None, "run_digest": run_key,
                "global_step": trainer.state.global_step, "world_size": args.world_size,
                "grad_accum": grad_accum, "samples_per_step": spec.per_device_batch * args.world_size * grad_accum,
                "precision": "bf16" if bf16 else "fp32", "zero_stage": spec.zero_stage,
                "trainable": counts, "optimizer_groups": optimizer_groups, "reference_loss": references}
        write_card(tmp, {
            "base_model": spec.base_model, "base_digest": base_fingerprint(spec.base_model),
            "prompt_mode": spec.prompt_mode, "prompt": prompt, "token_ids": token_ids,
            "image_processor": image_processor_name(processor),
            **spec.record,
            "trained_scenes": sorted({r.id.split("/")[0] for r in dataset.rows}), "train_rows": len(dataset),
            "settings": spec.settings, "run_digest": run_key, "global_step": trainer.state.global_step,
            "world_size": args.world_size, "precision": info["precision"],
            "cross_validation": None})  # known only after the evaluation: rule release_model adds it
        replace_dir(tmp, spec.adapter_dir)
        write_loss_curve(history, out / "loss.csv", out / "loss.png", references=references)
        save_text(out / "run_info.json", json.dumps(info, indent=1) + "\n")
        shutil.rmtree(spec.checkpoints_root, ignore_errors=True)  # a finished run leaves nothing to resume
        log.info("adapter written to %s; checkpoints removed", spec.adapter_dir)
    trainer.accelerator.wait_for_everyone()
    return spec.adapter_dir


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True, help="FinetuneSpec JSON file")
    ap.add_argument("--run-key", default=None, help="the run digest (computed by the launcher)")
    a = ap.parse_args(argv)
    try:
        train(FinetuneSpec.from_json(a.spec), run_key=a.run_key)
    except InputError as exc:
        print(f"meaningmaps.model.finetune: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
