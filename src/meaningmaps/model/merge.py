"""Merge a trained LoRA adapter into its base LLaVA: one plain model folder for scoring.

:func:`merge_adapter` loads the adapter that training saved (``output_dir/adapter``, a peft
``save_pretrained`` folder -- under ZeRO-3 the Trainer gathered it onto rank 0 before saving, so it is
never a set of ZeRO shards) onto a *fresh* base model, folds the LoRA products into the weights
(``merge_and_unload``; the trained projector replaces the base one) and writes the merged model
(safetensors), the base model's processor and the adapter's model card to ``out_dir`` through a
temporary folder that is renamed into place only when complete.

The merge is computed in float32 whatever the output dtype (``W + scale * B @ A`` in fp32, then one
rounding to bf16 when ``dtype="bf16"``), so bf16 output differs from the exact merge only by that
final rounding.

Command line: ``python -m meaningmaps.model.merge BASE ADAPTER_DIR OUT_DIR [--dtype bf16|fp32]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from pathlib import Path

from ..atomic import atomic_dir
from ..errors import InputError
from .card import CARD_NAME
from .loading import PROCESSOR_KWARGS, check_model_source

log = logging.getLogger("meaningmaps.model.merge")
DTYPES = ("bf16", "fp32")


def check_adapter_dir(adapter_dir) -> Path:
    """Fail clearly unless ``adapter_dir`` is a peft adapter folder (adapter_config.json + weights)."""
    d = Path(adapter_dir)
    if not d.is_dir():
        raise InputError(d, "adapter folder does not exist.",
                         "point at the fine-tuning run's output_dir/adapter (written when training ends).")
    has_weights = (d / "adapter_model.safetensors").is_file() or (d / "adapter_model.bin").is_file()
    if not (d / "adapter_config.json").is_file() or not has_weights:
        shards = any(d.glob("global_step*")) or any(d.glob("*/global_step*"))
        raise InputError(d, "is not a saved LoRA adapter (needs adapter_config.json and adapter_model."
                            "safetensors)" + (", it holds DeepSpeed shards" if shards else "") + ".",
                         "merge the adapter folder the training run wrote (output_dir/adapter), not a "
                         "checkpoint's ZeRO shards; if training stopped early, resume it to the end.")
    return d


def merge_adapter(base_model: str, adapter_dir, out_dir, dtype: str = "bf16") -> Path:
    """Write base + adapter, merged, to ``out_dir`` (model in ``dtype`` + the base's processor)."""
    import torch
    from peft import PeftModel
    from transformers import AutoProcessor, LlavaForConditionalGeneration

    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, not {dtype!r}")
    adapter_dir = check_adapter_dir(adapter_dir)
    check_model_source(base_model, "merge base_model")
    out_dir = Path(out_dir)
    cfg = json.loads((adapter_dir / "adapter_config.json").read_text())
    trained_on = cfg.get("base_model_name_or_path")
    if trained_on and trained_on != str(base_model):
        log.warning("adapter %s was trained on %s; merging it into %s", adapter_dir, trained_on, base_model)

    base = LlavaForConditionalGeneration.from_pretrained(base_model, dtype=torch.float32)
    peft_model = PeftModel.from_pretrained(base, str(adapter_dir), is_trainable=False)
    merged = peft_model.merge_and_unload()
    leftovers = [n for n, _ in merged.named_modules() if "lora_" in n or "modules_to_save" in n
                 or "original_module" in n]
    if leftovers:
        raise RuntimeError(f"merge left peft modules in the model: {leftovers[:5]}")
    if dtype == "bf16":
        merged = merged.to(torch.bfloat16)
    merged.eval()
    processor = AutoProcessor.from_pretrained(base_model, **PROCESSOR_KWARGS)  # the PIL image processor

    with atomic_dir(out_dir) as tmp:  # a temporary unique to this job, moved onto out_dir when complete
        merged.save_pretrained(tmp)
        processor.save_pretrained(tmp)
        if (adapter_dir / CARD_NAME).is_file():  # how the model was trained travels with it
            shutil.copy2(adapter_dir / CARD_NAME, tmp / CARD_NAME)
        (tmp / "meaningmaps_merge.json").write_text(json.dumps(
            {"base_model": str(base_model), "adapter": str(adapter_dir.resolve()), "dtype": dtype,
             "adapter_trained_on": trained_on}, indent=1) + "\n")
    return out_dir


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base_model")
    ap.add_argument("adapter_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--dtype", choices=DTYPES, default="bf16")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    print(merge_adapter(a.base_model, a.adapter_dir, a.out_dir, a.dtype))


if __name__ == "__main__":
    main()
