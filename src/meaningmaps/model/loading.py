"""Load a LLaVA model and its processor from a local folder or a Hugging Face hub id, with clear errors.

Compute nodes are often offline, so a model that is not on disk fails before any heavy work with
the command that pre-downloads it. On a GPU the model is loaded in bf16 with PyTorch's SDPA
attention; on the CPU in float32.

The image processor is always the PIL one (``backend="pil"``: ``CLIPImageProcessorPil``, bicubic
resizing with PIL as LLaVA's ``CLIPImageProcessor`` did): transformers 5 otherwise picks the
torchvision one whenever torchvision is installed (as on many GPU clusters), whose resizing differs,
so the pixels a model sees would depend on what else is installed. The model card records it.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from ..errors import InputError

HUB_ID_PATTERN = r"^[A-Za-z0-9][\w.-]*/[\w.-]+$"
#: what every processor load passes to transformers: the PIL image processor, whatever is installed
PROCESSOR_KWARGS = {"backend": "pil"}


def image_processor_name(processor) -> str:
    """The image processor's class and backend, e.g. ``CLIPImageProcessorPil (pil)``, for logs and cards."""
    ip = processor.image_processor
    return f"{type(ip).__name__} ({getattr(ip, 'backend', 'unknown')})"


def check_pil_backend(processor, model) -> None:
    backend = getattr(processor.image_processor, "backend", "pil")
    if backend != "pil":
        raise RuntimeError(f"{model}: the image processor is {image_processor_name(processor)}, not the PIL one; "
                           "the views would be resized unlike LLaVA's.")


def download_hint(model: str, where: str | None = None) -> str:
    """The command that puts a hub model on disk, for a message."""
    dest = where or f"models/{model.split('/')[-1]}"
    return (f"pre-download the weights on a machine with internet access: "
            f"`hf download {model} --local-dir {dest}` (or `python -c \"from huggingface_hub import "
            f"snapshot_download; snapshot_download('{model}', local_dir='{dest}')\"`), then set the "
            f"config's model path to {dest}")


def looks_like_hub_id(name: str) -> bool:
    return bool(re.match(HUB_ID_PATTERN, name)) and not name.startswith((".", "/")) and not Path(name).exists()


def check_model_source(model: str, config_key: str = "model.base") -> None:
    """Fail fast, before loading, when ``model`` is neither a complete local folder nor reachable."""
    path = Path(model)
    if looks_like_hub_id(model):
        if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
            from huggingface_hub import try_to_load_from_cache
            if not isinstance(try_to_load_from_cache(model, "config.json"), str):
                raise InputError(model, f"({config_key}) is a hub id, HF_HUB_OFFLINE is set and it is not in "
                                        "the local hub cache.", download_hint(model))
        return
    if not path.exists():
        raise InputError(path, f"({config_key}) does not exist.",
                         download_hint("llava-hf/llava-1.5-7b-hf", str(path)) +
                         " (or, for an offline test model, `python -m meaningmaps.model.tiny_llava " + str(path) + "`)")
    if not (path / "config.json").is_file():
        raise InputError(path, f"({config_key}) has no config.json, so it is not a saved model folder.",
                         "point the config at the folder `save_pretrained` or `hf download` wrote.")
    if not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
        raise InputError(path, f"({config_key}) holds no weights (*.safetensors).",
                         "the download or save was interrupted; download it again.")


def no_gpu_error(what: str = "this model job") -> InputError:
    """The error of a job that must run on a GPU (model.device: cuda) but sees none."""
    return InputError("model.device", f"is cuda, but {what} sees no GPU (CUDA_VISIBLE_DEVICES="
                      f"{os.environ.get('CUDA_VISIBLE_DEVICES')!r}; torch sees no CUDA device).",
                      "run it where a GPU is (profiles/slurm asks for one; on a workstation, profiles/local), or set "
                      "model.device: cpu (or auto: the CPU when no GPU is visible) to run on the CPU.")


def pick_device(requested: str = "auto"):
    """auto: a GPU when one is visible, else the CPU (said on stderr); cuda: a GPU or a clear error."""
    import torch
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        print("model.device auto: no GPU visible, running on the CPU", file=sys.stderr)
        return torch.device("cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise no_gpu_error()
    return torch.device(requested)


def pick_dtype(device, requested: str = "auto"):
    import torch
    if requested == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16,
            "float16": torch.float16, "fp32": torch.float32, "float32": torch.float32}[requested]


def load_processor(model: str):
    from transformers import AutoProcessor
    check_model_source(model)
    try:
        processor = AutoProcessor.from_pretrained(model, **PROCESSOR_KWARGS)
    except OSError as exc:
        raise InputError(model, f"its processor could not be loaded ({exc}).", download_hint(model)) from exc
    check_pil_backend(processor, model)
    processor.tokenizer.padding_side = "left"
    return processor


def load_llava(model: str, device: str = "auto", dtype: str = "auto", attn: str = "sdpa"):
    """(model in eval mode on the device, processor with left padding)."""
    from transformers import LlavaForConditionalGeneration
    processor = load_processor(model)
    dev = pick_device(device)
    try:
        net = LlavaForConditionalGeneration.from_pretrained(model, dtype=pick_dtype(dev, dtype),
                                                            attn_implementation=attn)
    except OSError as exc:
        raise InputError(model, f"could not be loaded ({exc}).", download_hint(model)) from exc
    return net.to(dev).eval(), processor
