"""A trained model given by path (``model.finetuned_model``, ``meaningmaps map --model``): what it
is, whether it may be used under this config, and loading it.

A trained model folder is either a LoRA adapter as training writes it (``models/<fold>/adapter``:
``adapter_config.json``, ``adapter_model.safetensors``, the processor, ``meaningmaps_card.json``) or
a standalone merged model (``models/<fold>/merged``: ``config.json``, weights, processor, card). An
adapter is loaded onto the base model (``model.base``: a hub id or a local copy) and merged in
memory, in float32 as rule ``merge`` does, so its ratings equal those of the merged copy.

The checks run before any work (the workflow calls :func:`check_trained_model` while it builds the
DAG): a missing folder, a folder that holds neither kind, a missing card, and a card that disagrees
with the config on the base model, the prompt or the views each stop with the file and the fix.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .card import CARD_NAME, check_card
from .finetune.checkpoints import model_digest
from .loading import check_model_source, load_llava, load_processor, pick_device, pick_dtype

ADAPTER, MERGED = "adapter", "merged"


def model_kind(path) -> str:
    """``adapter`` or ``merged``; InputError when the folder is missing or is neither."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "(the trained model) does not exist.",
                         "point at a trained model folder: <results>/models/all/adapter (or release), a merged "
                         "model folder, or a copy of one.")
    if not path.is_dir():
        raise InputError(path, "is a file; a trained model is a folder.",
                         "point at the folder that holds adapter_config.json (an adapter) or config.json (a model).")
    if (path / "adapter_config.json").is_file():
        if not ((path / "adapter_model.safetensors").is_file() or (path / "adapter_model.bin").is_file()):
            raise InputError(path, "has adapter_config.json but no adapter weights (adapter_model.safetensors).",
                             "copy the whole adapter folder; if training was interrupted, let it finish.")
        return ADAPTER
    if (path / "config.json").is_file() and (any(path.glob("*.safetensors")) or any(path.glob("*.bin"))):
        return MERGED
    raise InputError(path, "holds neither a LoRA adapter (adapter_config.json + adapter_model.safetensors) nor "
                     "a model (config.json + *.safetensors).",
                     "point at <results>/models/<fold>/adapter, .../release or .../merged, or a copy of one.")


def base_fingerprint(base: str) -> str:
    """A digest of the base model's files (``finetune.checkpoints.model_digest``); for a hub id, of
    its files in the local hub cache when they are there (so a local copy of it matches), else of
    the id itself."""
    if not Path(base).is_dir():
        try:
            from huggingface_hub import snapshot_download

            base = snapshot_download(base, local_files_only=True)
        except Exception:  # not cached, or no hub library: the id stands for itself
            pass
    return model_digest(str(base))


def same_base(card: dict, base: str) -> bool:
    """Whether ``base`` is the base the card's model was trained on: the same id or path, or the
    same files (a local copy of it)."""
    if card.get("base_model") == str(base):
        return True
    return bool(card.get("base_digest")) and card["base_digest"] == base_fingerprint(base)


def check_trained_model(path, expected: dict, base: str | None, *, key: str = "model.finetuned_model") -> dict:
    """The card of the trained model at ``path`` after checking that it may be used here: its kind,
    its card (``expected``: the view and prompt settings, see ``card.MUST_AGREE``) and its
    base (``base``: model.base; None to skip). Returns the card with ``kind`` added."""
    kind = model_kind(path)
    try:
        card = check_card(path, expected, required=True)
    except InputError as exc:
        raise InputError(exc.path, f"{key}: {exc.problem}", exc.fix) from exc
    if base is not None and card.get("base_model") and not same_base(card, base):
        raise InputError(Path(path) / CARD_NAME,
                         f"the model was trained on the base model {card['base_model']!r}, but model.base is "
                         f"{str(base)!r} (not the same id, path or files).",
                         f"set model.base to {card['base_model']!r} (or to a local copy of it), or train a model "
                         f"on {str(base)!r}.")
    return {**card, "kind": kind}


def load_trained(path, base: str, device: str = "auto", dtype: str = "auto"):
    """(model in eval mode on the device, processor) of a trained model folder: a merged model as
    it is; an adapter onto ``base``, merged in float32 in memory (as rule merge), then cast."""
    if model_kind(path) == MERGED:
        return load_llava(str(path), device=device, dtype=dtype)
    import torch
    from peft import PeftModel
    from transformers import LlavaForConditionalGeneration

    check_model_source(base)
    dev = pick_device(device)
    net = LlavaForConditionalGeneration.from_pretrained(base, dtype=torch.float32, attn_implementation="sdpa")
    merged = PeftModel.from_pretrained(net, str(path), is_trainable=False).merge_and_unload()
    processor = load_processor(base)  # the adapter folder's copy is the base's (the card's prompt check holds)
    return merged.to(device=dev, dtype=pick_dtype(dev, dtype)).eval(), processor
