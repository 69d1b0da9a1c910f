"""LoRA fine-tuning of LLaVA to rate scene patches: the training worker and its spec.

One run is described by a :class:`FinetuneSpec` (a JSON file). Each rank of a distributed job runs::

    python -m torch.distributed.run --nproc_per_node N -m meaningmaps.finetune --spec spec.json

(:mod:`meaningmaps.finetune_launch` builds that command, single- or multi-node). The recipe:

* **LoRA** (peft) on the *language model's* attention and MLP projections (q, k, v, o, gate, up, down)
  only -- :data:`LORA_TARGET_REGEX` cannot match a vision-tower module. The vision tower is frozen. The
  multimodal projector is trained in full (peft ``modules_to_save``) at its own learning rate
  (``projector_lr``, the LLaVA-1.5 recipe) unless ``train_projector`` is off.
* **Data**: a JSONL in the LLaVA conversation format, one row per patch (see :func:`read_rows`). Each
  row becomes ``prompt_text(processor) + answer_suffix(category) + eos``; the loss is on the answer
  tokens and the end-of-sequence token only (every prompt and image token is labelled -100).
* **Training**: the HF ``Trainer`` with DeepSpeed ZeRO-2 (ZeRO-3 as an option), the optimizer made by
  the Trainer (torch AdamW, two learning rates, see :class:`LlavaLoraTrainer`), cosine schedule with
  warmup, activation checkpointing of the language model, bf16 on GPUs (fp32 on the CPU).
* **Checkpoints** every ``save_steps`` into ``output_dir/checkpoints``; a rerun of the same spec
  resumes from the latest complete checkpoint (a preempted SLURM job is simply requeued).
* **Result**: ``output_dir/adapter`` (peft ``save_pretrained``; gathered across ranks under ZeRO-3),
  ``output_dir/loss.csv`` and ``output_dir/loss.png``, ``output_dir/run_info.json``.

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
import re
import shutil
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from .atomic import replace_dir, save_text
from .errors import InputError
from .finetune_data import IGNORE_INDEX, PadCollator, PatchRatingDataset, TrainRow, encode_example, read_rows  # noqa: F401 (re-exported)

log = logging.getLogger("meaningmaps.finetune")

# Language-model projections only. Module names in transformers 5.x:
#   model.language_model.layers.0.self_attn.q_proj   (trained)
#   model.vision_tower.encoder.layers.0.self_attn.q_proj   (never matched: no "language_model.")
# The optional groups also accept the 4.x layout (language_model.model.layers.0...). peft full-matches it.
LORA_TARGET_REGEX = (r"(?:.*\.)?language_model\.(?:.*\.)?layers\.\d+\."
                     r"(?:self_attn\.(?:q_proj|k_proj|v_proj|o_proj)|mlp\.(?:gate_proj|up_proj|down_proj))")
PROJECTOR_MODULE = "multi_modal_projector"
ABORT_ENV = "MEANINGMAPS_FINETUNE_ABORT_AFTER_SAVE"  # tests: exit hard once the checkpoint of that step is saved
# Spec fields that may change between a run and its resumption (they do not change the result).
RESUMABLE_CHANGES = frozenset({"dataloader_workers", "save_total_limit", "save_steps", "logging_steps",
                               "output_dir"})


# --------------------------------------------------------------------------------------------- spec


@dataclass
class FinetuneSpec:
    """Everything one fine-tuning run needs; stored as JSON (:meth:`to_json` / :meth:`from_json`)."""

    base_model: str
    train_jsonl: str
    image_root: str
    output_dir: str
    seed: int = 0
    lora_r: int = 128
    lora_alpha: int = 256
    lora_dropout: float = 0.05
    learning_rate: float = 2e-4
    projector_lr: float = 2e-5
    train_projector: bool = True
    epochs: float = 1.0
    max_steps: int = -1
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.03
    per_device_batch: int = 16
    grad_accum: int = 1
    bf16: bool = True
    gradient_checkpointing: bool = True
    zero_stage: int = 2
    save_steps: int = 200
    save_total_limit: int | None = 2
    logging_steps: int = 1
    dataloader_workers: int = 4
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0

    def __post_init__(self):
        self.validate()

    def validate(self, source=None) -> None:
        def bad(problem, fix=None):
            raise InputError(source, f"finetune spec: {problem}", fix)

        for name in ("base_model", "train_jsonl", "image_root", "output_dir"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                bad(f"{name} must be a non-empty string, not {getattr(self, name)!r}.")
        if self.zero_stage not in (2, 3):
            bad(f"zero_stage must be 2 or 3, not {self.zero_stage!r}.")
        for name in ("lora_r", "per_device_batch", "grad_accum", "save_steps", "logging_steps"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                bad(f"{name} must be a positive integer, not {v!r}.")
        if not isinstance(self.dataloader_workers, int) or self.dataloader_workers < 0:
            bad(f"dataloader_workers must be an integer >= 0, not {self.dataloader_workers!r}.")
        if self.save_total_limit is not None and (not isinstance(self.save_total_limit, int)
                                                  or self.save_total_limit < 1):
            bad(f"save_total_limit must be a positive integer or null, not {self.save_total_limit!r}.")
        if not isinstance(self.max_steps, int) or (self.max_steps < 1 and self.max_steps != -1):
            bad(f"max_steps must be -1 (use epochs) or a positive integer, not {self.max_steps!r}.")
        if self.max_steps == -1 and not self.epochs > 0:
            bad(f"epochs must be > 0 when max_steps is -1, not {self.epochs!r}.")
        for name in ("learning_rate", "projector_lr", "lora_alpha"):
            if not getattr(self, name) > 0:
                bad(f"{name} must be > 0, not {getattr(self, name)!r}.")
        if not 0 <= self.lora_dropout < 1:
            bad(f"lora_dropout must be in [0, 1), not {self.lora_dropout!r}.")
        if not 0 <= self.warmup_ratio < 1:
            bad(f"warmup_ratio must be in [0, 1), not {self.warmup_ratio!r}.")
        if self.weight_decay < 0 or self.max_grad_norm < 0:
            bad("weight_decay and max_grad_norm must be >= 0.")
        for name in ("train_projector", "bf16", "gradient_checkpointing"):
            if not isinstance(getattr(self, name), bool):
                bad(f"{name} must be true or false, not {getattr(self, name)!r}.")

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
                             f"the fields are {sorted(names)}.")
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
    def checkpoints_dir(self) -> Path:
        return Path(self.output_dir) / "checkpoints"

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


def enable_language_checkpointing(model) -> None:
    """Activation checkpointing (non-reentrant) for the language model's decoder layers only.

    The frozen vision tower keeps no activations for backward anyway (nothing in it needs a gradient),
    and enabling checkpointing on the whole LLaVA would also hook the vision patch embedding to require
    grad (``enable_input_require_grads``), making backward run through the frozen vision tower for nothing.
    """
    language_model = model.get_base_model().model.language_model
    language_model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})


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


@functools.lru_cache(maxsize=None)
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


def latest_checkpoint(checkpoints_dir) -> Path | None:
    """The highest ``checkpoint-<step>`` folder that was completely written (its trainer_state.json is
    the Trainer's last write), or None."""
    d = Path(checkpoints_dir)
    if not d.is_dir():
        return None
    found = []
    for p in d.iterdir():
        m = re.fullmatch(r"checkpoint-(\d+)", p.name)
        if m and p.is_dir() and (p / "trainer_state.json").is_file():
            found.append((int(m.group(1)), p))
    return max(found)[1] if found else None


def _check_resumable(spec: FinetuneSpec, spec_copy: Path) -> None:
    if not spec_copy.is_file():
        return
    old = json.loads(spec_copy.read_text())
    new = spec.to_dict()
    changed = sorted(k for k in set(old) | set(new) if k not in RESUMABLE_CHANGES and old.get(k) != new.get(k))
    if changed:
        raise InputError(spec.checkpoints_dir, f"holds checkpoints of a run with other settings ({changed} "
                                               "differ), so it cannot be resumed with this spec.",
                         "use a new output_dir, or delete the old checkpoints to start over.")


class _AbortAfterSave:
    """Test hook: with env MEANINGMAPS_FINETUNE_ABORT_AFTER_SAVE=<step>, exit hard (no clean-up, like a
    killed job) right after the checkpoint of that step is written."""

    @staticmethod
    def make():
        from transformers import TrainerCallback

        step = int(os.environ[ABORT_ENV])

        class AbortAfterSave(TrainerCallback):
            def on_save(self, args, state, control, **kwargs):
                if state.global_step >= step:
                    print(f"[meaningmaps.finetune] {ABORT_ENV}={step}: aborting after saving step "
                          f"{state.global_step}", flush=True)
                    sys.stderr.flush()
                    os._exit(75)

        return AbortAfterSave()


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


def training_arguments(spec: FinetuneSpec, *, bf16: bool, use_configured_state: bool):
    from transformers import TrainingArguments

    kwargs = {}
    if use_configured_state:
        kwargs["accelerator_config"] = {"use_configured_state": True}
    return TrainingArguments(
        output_dir=str(spec.checkpoints_dir),
        seed=spec.seed, data_seed=spec.seed,
        per_device_train_batch_size=spec.per_device_batch, gradient_accumulation_steps=spec.grad_accum,
        num_train_epochs=spec.epochs, max_steps=spec.max_steps,
        learning_rate=spec.learning_rate, weight_decay=spec.weight_decay, max_grad_norm=spec.max_grad_norm,
        optim="adamw_torch", lr_scheduler_type=spec.lr_scheduler, warmup_steps=spec.warmup_ratio,
        bf16=bf16, fp16=False,
        activation_checkpointing=False,  # done on the language model only, see enable_language_checkpointing
        deepspeed=deepspeed_config(spec.zero_stage),
        save_strategy="steps", save_steps=spec.save_steps, save_total_limit=spec.save_total_limit,
        logging_strategy="steps", logging_steps=spec.logging_steps, logging_first_step=True,
        report_to="none", disable_tqdm=True,
        dataloader_num_workers=spec.dataloader_workers, dataloader_pin_memory=not use_configured_state,
        remove_unused_columns=False, label_names=["labels"],
        **kwargs,
    )


def train(spec: FinetuneSpec, *, model=None, processor=None, callbacks=()) -> Path:
    """Run (or resume) the fine-tuning on this rank; every rank of the job calls it. Returns the adapter dir.

    ``model``/``processor``: an already built base (the GPU benchmark passes a random-weight model of
    the real shape, which exists on no disk) instead of loading ``spec.base_model``. ``callbacks``:
    extra ``TrainerCallback``s (the benchmark's step timer).
    """
    import torch
    from transformers import LlavaForConditionalGeneration, set_seed

    from .loss_curve import write_loss_curve
    from .model_loading import check_model_source

    warnings.filterwarnings("ignore", message=r".*torch\.distributed\.(all_gather_into_tensor|reduce_scatter_tensor)"
                                              r"` is deprecated", category=FutureWarning)
    use_cuda = torch.cuda.is_available()
    bf16 = spec.bf16 and use_cuda and torch.cuda.is_bf16_supported()
    configured = _setup_distributed(use_cuda)
    args = training_arguments(spec, bf16=bf16, use_configured_state=configured)
    is_main = args.process_index == 0
    logging.basicConfig(level=logging.INFO if is_main else logging.WARNING,
                        format="[meaningmaps.finetune %(asctime)s] %(message)s", force=True)
    if spec.bf16 and not bf16:
        log.info("bf16 requested but no bf16-capable GPU: training in fp32")
    log.info("world size %d, device %s, ZeRO-%d, %s", args.world_size, args.device, spec.zero_stage,
             "bf16" if bf16 else "fp32")

    if processor is None:
        check_model_source(spec.base_model, "finetune spec base_model")
        from transformers import AutoProcessor
        processor = AutoProcessor.from_pretrained(spec.base_model)
    dataset = PatchRatingDataset(spec.train_jsonl, spec.image_root, processor)

    spec_copy = Path(spec.output_dir) / "finetune_spec.json"
    resume = latest_checkpoint(spec.checkpoints_dir)
    if resume is not None:
        _check_resumable(spec, spec_copy)
    if is_main:
        spec.to_json(spec_copy)

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

    callbacks = list(callbacks) + ([_AbortAfterSave.make()] if os.environ.get(ABORT_ENV) else [])
    trainer = _trainer_class()(model=model, args=args, train_dataset=dataset,
                               data_collator=PadCollator(processor.tokenizer.pad_token_id),
                               processing_class=processor, callbacks=callbacks, projector_lr=spec.projector_lr)
    if resume is not None:
        log.info("resuming from checkpoint %s", resume)
    trainer.train(resume_from_checkpoint=str(resume) if resume is not None else None)

    optimizer_groups = [{"name": g.get("name"), "initial_lr": g.get("initial_lr", g.get("lr")),
                         "weight_decay": g.get("weight_decay")} for g in trainer.optimizer.param_groups]
    # The adapter: every rank joins save_model (ZeRO-3 gathers the partitioned weights), rank 0 renames.
    out = Path(spec.output_dir)
    tmp = out / ".adapter.tmp"
    if is_main and tmp.exists():
        shutil.rmtree(tmp)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(str(tmp))
    trainer.accelerator.wait_for_everyone()
    if is_main:
        spec.to_json(tmp / "finetune_spec.json")
        replace_dir(tmp, spec.adapter_dir)
        write_loss_curve(trainer.state.log_history, out / "loss.csv", out / "loss.png")
        save_text(out / "run_info.json", json.dumps({
            "resumed_from": str(resume) if resume is not None else None,
            "global_step": trainer.state.global_step, "world_size": args.world_size,
            "precision": "bf16" if bf16 else "fp32", "zero_stage": spec.zero_stage,
            "trainable": counts, "optimizer_groups": optimizer_groups}, indent=1) + "\n")
        log.info("adapter written to %s", spec.adapter_dir)
    trainer.accelerator.wait_for_everyone()
    return spec.adapter_dir


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True, help="FinetuneSpec JSON file")
    a = ap.parse_args(argv)
    try:
        train(FinetuneSpec.from_json(a.spec))
    except InputError as exc:
        print(f"meaningmaps.finetune: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
