"""Merging a LoRA adapter (+ trained projector) into the base: same answer probabilities, plain model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from meaningmaps.errors import InputError
from meaningmaps.model.card import read_card, write_card
from meaningmaps.model.finetune.lora import add_lora
from meaningmaps.model.finetune.spec import FinetuneSpec
from meaningmaps.model.merge import merge_adapter
from meaningmaps.model.prompting import CATEGORIES, answer_suffix, prompt_text


@pytest.fixture(scope="module")
def adapter_dir(tiny_llava_dir, tmp_path_factory):
    """A saved adapter with non-zero LoRA products and a changed projector (as if trained)."""
    from transformers import LlavaForConditionalGeneration

    spec = FinetuneSpec(base_model=str(tiny_llava_dir), train_jsonl="-", image_root="-", output_dir="-",
                        settings=dict(lora_r=4, lora_alpha=8, train_projector=True))
    model = add_lora(LlavaForConditionalGeneration.from_pretrained(tiny_llava_dir), spec.settings)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:  # LoRA A and B, projector copy
                p.add_(0.2 * p.detach().abs().mean().clamp_min(0.05) * torch.randn(p.shape, generator=gen))
    out = tmp_path_factory.mktemp("adapter") / "adapter"
    model.save_pretrained(out)
    write_card(out, {"base_model": str(tiny_llava_dir), "prompt_mode": "llava_v1", "prompt": prompt_text(None)})
    return out


def answer_probabilities(model, processor, images) -> np.ndarray:
    """(images, 6) probabilities of the six answers: for each, the full prompt + answer + eos sequence,
    summing the log-probabilities of the answer's tokens and eos, then normalised over the six."""
    tok = processor.tokenizer
    prompt = prompt_text(processor)
    out = np.zeros((len(images), len(CATEGORIES)))
    for i, image in enumerate(images):
        n_prompt = None
        for j, category in enumerate(CATEGORIES):
            enc = processor(images=image, text=prompt + answer_suffix(category) + tok.eos_token, return_tensors="pt")
            if n_prompt is None:
                n_prompt = processor(images=image, text=prompt, return_tensors="pt")["input_ids"].shape[1]
            with torch.no_grad():
                logits = model(**enc).logits[0].double()
            logp = torch.log_softmax(logits, dim=-1)
            ids = enc["input_ids"][0]
            out[i, j] = sum(float(logp[t - 1, ids[t]]) for t in range(n_prompt, len(ids)))
    out = np.exp(out - out.max(axis=1, keepdims=True))
    return out / out.sum(axis=1, keepdims=True)


def test_merged_model_gives_the_same_answer_probabilities(tiny_llava_dir, adapter_dir, tmp_path):
    from peft import PeftModel
    from PIL import Image
    from safetensors import safe_open
    from transformers import AutoProcessor, LlavaForConditionalGeneration

    merged_dir = merge_adapter(str(tiny_llava_dir), adapter_dir, tmp_path / "merged", dtype="fp32")
    assert not list(tmp_path.glob(".merged*"))  # temp folder renamed
    assert read_card(merged_dir) == read_card(adapter_dir)  # how it was trained travels with it
    processor = AutoProcessor.from_pretrained(merged_dir)
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (48, 40, 3), dtype=np.uint8), "RGB") for _ in range(3)]

    unmerged = PeftModel.from_pretrained(LlavaForConditionalGeneration.from_pretrained(tiny_llava_dir),
                                         str(adapter_dir)).eval()
    merged = LlavaForConditionalGeneration.from_pretrained(merged_dir).eval()
    base = LlavaForConditionalGeneration.from_pretrained(tiny_llava_dir).eval()

    # a plain model: no peft modules, the base's parameter names and shapes
    assert type(merged) is LlavaForConditionalGeneration
    names = [n for n, _ in merged.named_modules()]
    assert not [n for n in names if "lora" in n or "modules_to_save" in n or "original_module" in n]
    assert {k: v.shape for k, v in merged.state_dict().items()} == {k: v.shape for k, v in base.state_dict().items()}
    with safe_open(str(next(merged_dir.glob("*.safetensors"))), "pt") as f:
        assert not [k for k in f.keys() if "lora" in k]
    assert json.loads((merged_dir / "meaningmaps_merge.json").read_text())["dtype"] == "fp32"

    p_unmerged = answer_probabilities(unmerged, processor, images)
    p_merged = answer_probabilities(merged, processor, images)
    p_base = answer_probabilities(base, processor, images)
    np.testing.assert_allclose(p_merged, p_unmerged, atol=1e-6, rtol=1e-5)
    assert np.abs(p_merged - p_base).max() > 1e-3  # the adapter does change the answers
    # the vision tower is untouched by the merge; the projector is the trained one
    for name, p in merged.state_dict().items():
        if "vision_tower" in name or "embed_tokens" in name or "lm_head" in name:
            assert torch.equal(p, base.state_dict()[name]), name
    assert not torch.equal(merged.state_dict()["model.multi_modal_projector.linear_1.weight"],
                           base.state_dict()["model.multi_modal_projector.linear_1.weight"])


def test_merge_bf16_and_bad_adapter(tiny_llava_dir, adapter_dir, tmp_path):
    from safetensors import safe_open

    out = merge_adapter(str(tiny_llava_dir), adapter_dir, tmp_path / "merged16", dtype="bf16")
    with safe_open(str(next(out.glob("*.safetensors"))), "pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.bfloat16}
    # merged again onto an existing folder: replaced
    assert merge_adapter(str(tiny_llava_dir), adapter_dir, out, dtype="bf16") == out

    shards = tmp_path / "checkpoint-4"
    (shards / "global_step4").mkdir(parents=True)
    with pytest.raises(InputError, match="DeepSpeed shards"):
        merge_adapter(str(tiny_llava_dir), shards, tmp_path / "x")
    with pytest.raises(InputError, match="does not exist"):
        merge_adapter(str(tiny_llava_dir), tmp_path / "nope", tmp_path / "x")
    with pytest.raises(ValueError, match="dtype"):
        merge_adapter(str(tiny_llava_dir), adapter_dir, tmp_path / "x", dtype="fp16")
    assert not (tmp_path / "x").exists()
