"""LLaVA-1.5's real text vocabulary in a tiny model (issue 9, part 5).

The tiny model is built with Meta's Llama-2 tokenizer from ``../shared/data/llama2-tokenizer`` (read
there, never copied into the project) in llava-hf's layout: ``<image>`` = 32000, ``<pad>`` = 32001,
embedding 32064, the CLIP-336 processor (576 image tokens). In both prompt modes it checks the
answers' token ids, that exactly the answer and ``</s>`` are supervised, the 576 image tokens, and
batched cached scoring with left padding against a naive computation; that the llava_v1 prompt and a
training example tokenize as the original LLaVA code does (``llava/mm_utils.py``
``tokenizer_image_token``, ``llava/train/train.py`` ``preprocess_v1``); and one workflow run through
the model steps. The whole module is skipped without ``../shared``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from meaningmaps.errors import InputError
from meaningmaps.model.answer_scoring import answer_token_ids, score_answers
from meaningmaps.model.finetune.data import IGNORE_INDEX, encode_example
from meaningmaps.model.prompting import CATEGORIES, QUESTION, prompt_text

from .conftest import SHARED_DATA

LLAMA2_TOKENIZER = SHARED_DATA / "llama2-tokenizer"

pytestmark = [pytest.mark.realdata,
              pytest.mark.skipif(not (LLAMA2_TOKENIZER / "tokenizer.json").is_file(),
                                 reason="real data ../shared/data/llama2-tokenizer is absent")]

MODES = ("llava_v1", "chat_template")
# The answers' Llama-2 ids after "ASSISTANT:": "▁very" 1407, "▁low" 4482, "▁somewhat" 10579, "▁high" 1880.
ANSWER_IDS = {"very low": [1407, 4482], "low": [4482], "somewhat low": [10579, 4482],
              "somewhat high": [10579, 1880], "high": [1880], "very high": [1407, 1880]}
BOS, EOS, IMAGE_ID, PAD_ID = 1, 2, 32000, 32001
N_IMAGE = 576  # (336 / 14) ** 2
# Tiny hidden sizes at LLaVA-1.5's input shape, so the 576-token prompts run quickly on a CPU.
SHAPE = dict(image_size=336, text_hidden=32, text_layers=2, vision_hidden=32, vision_layers=2)
IMAGE_TOKEN_INDEX = -200  # llava/constants.py: the placeholder tokenizer_image_token inserts


@pytest.fixture(scope="module")
def llava15_dir(tmp_path_factory):
    """The LLaVA-1.5-vocabulary tiny model, built once for this module."""
    from meaningmaps.model.tiny_llava import build_tiny_llava

    return build_tiny_llava(tmp_path_factory.mktemp("llava15") / "model", seed=0,
                            tokenizer=LLAMA2_TOKENIZER, **SHAPE)


@pytest.fixture(scope="module")
def llava15(llava15_dir):
    from meaningmaps.model.loading import load_llava

    return load_llava(str(llava15_dir), device="cpu", dtype="fp32")


@pytest.fixture(scope="module")
def images():
    """Patch-like views of different sizes (the processor resizes and crops each to 336 x 336)."""
    rng = np.random.default_rng(5)
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in [(87, 87), (70, 87), (60, 90)]]


def collapse_image(ids: list[int], labels: list[int] | None = None):
    """The processor's run of 576 image tokens as LLaVA's one ``IMAGE_TOKEN_INDEX`` placeholder."""
    first = ids.index(IMAGE_ID)
    n = ids.count(IMAGE_ID)
    assert ids[first:first + n] == [IMAGE_ID] * n, "the image tokens are not one run"
    out = ids[:first] + [IMAGE_TOKEN_INDEX] + ids[first + n:]
    if labels is None:
        return out
    assert set(labels[first:first + n]) == {IGNORE_INDEX}
    return out, labels[:first] + [IGNORE_INDEX] + labels[first + n:]


# --- the model and its processor --------------------------------------------------------------


def test_vocabulary_and_input_shape_are_llava15s(llava15):
    model, processor = llava15
    tok, ip = processor.tokenizer, processor.image_processor
    assert tok("Hello this is a test")["input_ids"] == [1, 15043, 445, 338, 263, 1243]
    assert len(tok) == 32002 and tok.convert_tokens_to_ids(["<image>", "<pad>"]) == [IMAGE_ID, PAD_ID]
    assert {"<image>", "<pad>", "<s>", "</s>"} <= set(tok.all_special_tokens)
    assert (tok.bos_token_id, tok.eos_token_id, tok.pad_token_id, tok.padding_side) == (BOS, EOS, PAD_ID, "left")
    cfg = model.config
    assert model.get_input_embeddings().weight.shape[0] == model.get_output_embeddings().weight.shape[0] == 32064
    assert (cfg.image_token_id, cfg.image_seq_length, cfg.text_config.pad_token_id) == (IMAGE_ID, N_IMAGE, PAD_ID)
    assert (cfg.vision_config.image_size, cfg.vision_config.patch_size) == (336, 14)
    assert (cfg.vision_feature_layer, cfg.vision_feature_select_strategy) == (-2, "default")
    assert ip.size == {"shortest_edge": 336} and ip.crop_size == {"height": 336, "width": 336} and ip.do_center_crop
    assert np.allclose(ip.image_mean, [0.48145466, 0.4578275, 0.40821073])
    assert np.allclose(ip.image_std, [0.26862954, 0.26130258, 0.27577711])
    assert (processor.patch_size, processor.num_additional_image_tokens) == (14, 1)


def test_missing_tokenizer_names_the_key_and_the_fix(tmp_path):
    from meaningmaps.model.tiny_llava import build_tiny_llava

    with pytest.raises(InputError) as e:
        build_tiny_llava(tmp_path / "m", tokenizer=tmp_path / "nowhere")
    assert "model.build_tiny.tokenizer" in str(e.value) and "nowhere" in str(e.value)
    assert "Fix:" in str(e.value) and not (tmp_path / "m").exists()
    with pytest.raises(InputError, match="no tokenizer.json"):
        build_tiny_llava(tmp_path / "m", tokenizer=tmp_path)


# --- both prompt modes ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_answer_ids(llava15, mode):
    _, processor = llava15
    prompt = prompt_text(processor, mode)
    assert prompt.endswith(" ASSISTANT:") and prompt.count("<image>") == 1
    assert answer_token_ids(processor.tokenizer, prompt) == [ANSWER_IDS[c] for c in CATEGORIES]


@pytest.mark.parametrize("mode", MODES)
def test_prompt_expands_to_576_image_tokens(llava15, images, mode):
    _, processor = llava15
    enc = processor(images=[images[0]], text=[prompt_text(processor, mode)], return_tensors="pt")
    ids = enc["input_ids"][0].tolist()
    assert ids.count(IMAGE_ID) == N_IMAGE and ids[0] == BOS and PAD_ID not in ids
    assert len(collapse_image(ids)) == len(ids) - N_IMAGE + 1  # one run of 576
    assert tuple(enc["pixel_values"].shape) == (1, 3, 336, 336)


@pytest.mark.parametrize("mode", MODES)
def test_exactly_the_answer_and_eos_are_supervised(llava15, images, mode):
    _, processor = llava15
    prompt = prompt_text(processor, mode)
    for category in CATEGORIES:
        ex = encode_example(processor, images[1], category, prompt)
        ids, labels = ex["input_ids"].tolist(), ex["labels"].tolist()
        supervised = [i for i, lab in enumerate(labels) if lab != IGNORE_INDEX]
        want = ANSWER_IDS[category] + [EOS]
        assert supervised == list(range(len(ids) - len(want), len(ids))), category  # at the end, contiguous
        assert [labels[i] for i in supervised] == [ids[i] for i in supervised] == want, category
        assert ids.count(IMAGE_ID) == N_IMAGE


def naive_logprob(model, processor, image, prompt: str, answer: list[int]) -> float:
    """Reference: the whole sequence prompt + answer in one pass, no cache, no padding, one sample;
    the sum of the answer tokens' log-probabilities (float64)."""
    enc = processor(images=[image], text=[prompt], return_tensors="pt")
    x = torch.cat([enc["input_ids"], torch.tensor([answer])], dim=1)
    k = len(answer) + 1  # the output layer only where it predicts an answer token (from the prompt's last)
    with torch.no_grad():
        logits = model(input_ids=x, attention_mask=torch.ones_like(x), pixel_values=enc["pixel_values"],
                       use_cache=False, logits_to_keep=k).logits[0]
    lp = torch.log_softmax(logits.double(), dim=-1)
    return float(sum(lp[j, t] for j, t in enumerate(answer)))


def test_batched_cached_scoring_with_left_padding_equals_naive(llava15, images):
    model, processor = llava15
    # Unequal prompts in one batch: the llava_v1 prompt is longer (its system prompt), and a second
    # question shorter still, so the batch is left-padded.
    prompts = [prompt_text(processor, "llava_v1"), prompt_text(processor, "chat_template"),
               prompt_text(processor, "llava_v1", question=QUESTION.split(":")[0] + ".")]
    lengths = [len(processor.tokenizer(p)["input_ids"]) for p in prompts]
    assert len(set(lengths)) == 3, lengths
    got = score_answers(model, processor, images, batch_size=3, prompts=prompts)
    want = np.array([[naive_logprob(model, processor, im, p, ANSWER_IDS[c]) for c in CATEGORIES]
                     for im, p in zip(images, prompts)])
    assert got.shape == (3, 6) and np.isfinite(want).all()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    # Answers sharing a first token differ only in their last one: "very low" vs "very high".
    assert not np.allclose(got[:, 0], got[:, 5])


# --- fidelity to the original LLaVA code --------------------------------------------------------


def reference_tokenizer():
    """Meta's tokenizer as transformers' converter wrote it, standing in for LLaVA's slow
    SentencePiece tokenizer on texts without ``<image>`` (the shared README: cross-checked)."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_file=str(LLAMA2_TOKENIZER / "tokenizer.json"), bos_token="<s>",
                                   eos_token="</s>", unk_token="<unk>")


def tokenizer_image_token(prompt: str, tokenizer) -> list[int]:
    """``llava/mm_utils.py`` ``tokenizer_image_token``: each chunk between ``<image>`` tokenized on its
    own (each with its BOS and SentencePiece's leading ``▁``), the BOS kept once, at the start, and
    ``IMAGE_TOKEN_INDEX`` between the chunks."""
    chunks = [tokenizer(c)["input_ids"] for c in prompt.split("<image>")]
    offset = 1 if chunks and chunks[0] and chunks[0][0] == tokenizer.bos_token_id else 0
    ids = [chunks[0][0]] if offset else []
    for k, chunk in enumerate(chunks):
        if k:
            ids.append(IMAGE_TOKEN_INDEX)
        ids.extend(chunk[offset:])
    return ids


def preprocess_v1(conversation: str, tokenizer) -> tuple[list[int], list[int]]:
    """``llava/train/train.py`` ``preprocess_v1`` (separator style TWO, with an image) for one
    conversation: its ids and targets. Each round (split on ``</s>``) masks its instruction, up to
    ``" ASSISTANT: "`` minus its BOS and the ``▁`` of that trailing space (the ``- 2``)."""
    ids = tokenizer_image_token(conversation, tokenizer)
    target = list(ids)
    sep = " ASSISTANT: "  # conv.sep + conv.roles[1] + ": "
    cur = 1
    target[:cur] = [IGNORE_INDEX]
    for rnd in conversation.split("</s>"):
        if rnd == "":
            break
        parts = rnd.split(sep)
        if len(parts) != 2:
            break
        round_len = len(tokenizer_image_token(rnd, tokenizer))
        instruction_len = len(tokenizer_image_token(parts[0] + sep, tokenizer)) - 2
        target[cur:cur + instruction_len] = [IGNORE_INDEX] * instruction_len
        cur += round_len
    target[cur:] = [IGNORE_INDEX] * (len(target) - cur)
    assert cur == len(ids), f"LLaVA would drop this sample: tokenization mismatch {cur} vs {len(ids)}"
    return ids, target


def test_llava_v1_prompt_and_training_example_tokenize_as_original_llava(llava15, images):
    _, processor = llava15
    ref = reference_tokenizer()
    prompt = prompt_text(processor, "llava_v1")
    # Inference (llava/eval: conv.get_prompt() with an open assistant turn, then tokenizer_image_token).
    ours = collapse_image(processor(images=[images[0]], text=[prompt], return_tensors="pt")["input_ids"][0].tolist())
    original = tokenizer_image_token(prompt, ref)
    assert ours == original
    k = original.index(IMAGE_TOKEN_INDEX)
    assert original[k - 4:k + 4] == [3148, 1001, 29901, 29871, IMAGE_TOKEN_INDEX, 29871, 13, 12148]
    # ("▁US" "ER" ":" "▁" <image> "▁" "<0x0A>" "Please": the chunk after <image> has its own "▁".)
    # Training (preprocess_v1 of "<prompt> <answer></s>"): the same ids and the same supervised tokens.
    for category in CATEGORIES:
        ex = encode_example(processor, images[0], category, prompt)
        ours_ids, ours_labels = collapse_image(ex["input_ids"].tolist(), ex["labels"].tolist())
        ids, labels = preprocess_v1(f"{prompt} {category}</s>", ref)
        assert ours_ids == ids, category
        assert ours_labels == labels, category
        assert [t for t in labels if t != IGNORE_INDEX] == ANSWER_IDS[category] + [EOS]


def test_transformers_converter_layout_would_drop_the_space_after_image():
    """Why the builder writes llava-hf's normaliser: with the converter's ``Metaspace(prepend_scheme=
    "first")`` layout (the shared tokenizer.json as it is) the text after ``<image>`` loses its ``▁``
    (29871), and the prompt is one token shorter than in the original LLaVA."""
    from tokenizers import AddedToken

    from meaningmaps.model.tiny_llava import load_llava15_tokenizer

    prompt = prompt_text(None, "llava_v1")
    converter = reference_tokenizer()
    converter.add_tokens([AddedToken("<image>", normalized=False, special=True)], special_tokens=True)
    original = tokenizer_image_token(prompt, reference_tokenizer())
    as_converted = collapse_image(converter(prompt)["input_ids"])
    k = original.index(IMAGE_TOKEN_INDEX)
    assert as_converted == original[:k + 1] + original[k + 2:] and original[k + 1] == 29871
    assert collapse_image(load_llava15_tokenizer(LLAMA2_TOKENIZER)(prompt)["input_ids"]) == original


# --- one workflow run through the model steps ---------------------------------------------------


@pytest.mark.slow
def test_workflow_model_steps_with_llava15_vocabulary(tmp_path):
    """snakemake on a 3-scene demo study with the LLaVA-1.5-vocabulary tiny model: it is built, one
    fold is fine-tuned (a few steps), scene_02 is rated by the base and the fine-tuned model (its
    adapter merged in memory) and mapped."""
    from meaningmaps.data.demo import make_demo_study

    from .conftest import demo_config, ratings_csv
    from .test_workflow import snakemake, write_config

    make_demo_study(tmp_path / "data", n_scenes=3)
    cfg = demo_config(tmp_path)
    res = Path(cfg["results"])
    model = cfg["model"]
    model["sources"] = ["base", "finetuned"]
    model["build_tiny"] = dict(seed=0, image_size=336, text_hidden=32, text_layers=2, vision_hidden=32,
                               tokenizer=str(LLAMA2_TOKENIZER))
    model["finetune"].update(max_steps=3, per_device_batch=4, logging_steps=1, dataloader_workers=0,
                             eval_heldout=False)
    model["inference"].update(batch_size=32, scenes_per_job=1)  # base rates scene_02 alone
    configfile = write_config(tmp_path / "config.yaml", cfg)
    # scene_02 is held out by fold1 (3 scenes, k = 2, salt 0), which trains on scene_01 and scene_03.
    targets = [f"{res}/maps/{source}/scene_02.npy" for source in ("base", "finetuned")]
    start = time.time()
    snakemake(tmp_path, configfile, *targets, timeout=1200)
    print(f"workflow run: {time.time() - start:.0f} s")

    base = res / "models" / "tiny-llava"
    meta = json.loads((base / "meaningmaps_tiny.json").read_text())
    assert meta["vocab_size"] == 32064 and meta["tokenizer"]["file"].endswith("llama2-tokenizer/tokenizer.json")
    assert json.loads((base / "config.json").read_text())["text_config"]["vocab_size"] == 32064
    ratings = {}
    for source in ("base", "finetuned"):
        ratings[source] = r = pd.read_csv(ratings_csv(res, source, "scene_02"))
        assert len(r) == 444 and r["rating"].between(1, 6).all()
        m = np.load(res / "maps" / source / "scene_02.npy")
        assert m.shape == (384, 512) and np.isfinite(m).all()
    fold = res / "models" / "fold1"
    assert len(pd.read_csv(fold / "loss.csv")["loss"].dropna()) == 3  # max_steps
    weights = load_file(str(next((fold / "adapter").glob("*.safetensors"))))
    lora_b = [w for name, w in weights.items() if "lora_B" in name]
    assert lora_b and max(float(w.abs().max()) for w in lora_b) > 0  # LoRA's B starts at zero: it trained
    assert np.abs(ratings["finetuned"]["expected"] - ratings["base"]["expected"]).max() > 1e-6
    assert not (res / "models" / "fold0").exists()  # fold0 rates only scenes not asked for


def test_the_prompt_rule_check_catches_a_tokenizer_that_splits_around_image_differently(llava15):
    """``prompting.prompt_token_mismatch`` (run by rule prompt, which refuses a mismatch in llava_v1
    mode) agrees with the original procedure above: none for the llava-hf layout, the dropped 29871
    for the converter's layout."""
    from tokenizers import AddedToken

    from meaningmaps.model.prompting import llava_reference_ids, prompt_token_mismatch

    _, processor = llava15
    prompt = prompt_text(processor, "llava_v1")
    assert prompt_token_mismatch(processor.tokenizer, prompt) is None
    ref = llava_reference_ids(processor.tokenizer, prompt)
    assert [IMAGE_TOKEN_INDEX if t == "<image>" else t for t in ref] == tokenizer_image_token(prompt,
                                                                                                reference_tokenizer())
    converter = reference_tokenizer()
    converter.add_tokens([AddedToken("<image>", normalized=False, special=True)], special_tokens=True)
    found = prompt_token_mismatch(converter, prompt)
    assert found is not None and "94 ids against LLaVA's 95" in found and "29871" in found
