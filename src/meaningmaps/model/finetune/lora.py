"""What is trained: LoRA (peft) on the language model's attention and MLP projections, and the
multimodal projector in full; the vision tower frozen.

:data:`LORA_TARGET_REGEX` cannot match a vision-tower module, and :func:`check_trainable` asserts the
trainable set after wrapping. The projector is trained as peft ``modules_to_save`` at its own
learning rate (``projector_lr``, the LLaVA-1.5 recipe; see :mod:`~meaningmaps.model.finetune.trainer`)
unless ``train_projector`` is off. Activation checkpointing is on the language model only.
"""

from __future__ import annotations

from peft import LoraConfig, get_peft_model

from .settings import FinetuneSettings

# Language-model projections only. Module names in transformers 5.x:
#   model.language_model.layers.0.self_attn.q_proj   (trained)
#   model.vision_tower.encoder.layers.0.self_attn.q_proj   (never matched: no "language_model.")
# The optional groups also accept the 4.x layout (language_model.model.layers.0...). peft full-matches it.
LORA_TARGET_REGEX = (r"(?:.*\.)?language_model\.(?:.*\.)?layers\.\d+\."
                     r"(?:self_attn\.(?:q_proj|k_proj|v_proj|o_proj)|mlp\.(?:gate_proj|up_proj|down_proj))")
PROJECTOR_MODULE = "multi_modal_projector"


def lora_config(settings: FinetuneSettings) -> LoraConfig:
    return LoraConfig(r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                      target_modules=LORA_TARGET_REGEX, bias="none",
                      modules_to_save=[PROJECTOR_MODULE] if settings.train_projector else None)


def add_lora(model, settings: FinetuneSettings):
    """Wrap a ``LlavaForConditionalGeneration`` in a peft LoRA model as the settings say; check the result."""
    for p in model.parameters():
        p.requires_grad_(False)
    peft_model = get_peft_model(model, lora_config(settings))
    check_trainable(peft_model, settings.train_projector)
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
