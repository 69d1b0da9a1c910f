"""model.prompt: paper: the paper's training and rating prompts, byte for byte, and the token ids its
model saw: LLaVA's ``tokenizer_image_token`` over the slow (SentencePiece) Llama tokenizer, here the
``sentencepiece`` library on Meta's tokenizer.model (tests/reference.py), not the fast tokenizer.
The id tests need ../shared/data/llama2-tokenizer and skip without it."""

from __future__ import annotations

import random

import numpy as np
import pytest

from meaningmaps.model.prompting import CATEGORIES, LLAVA_V1_SYSTEM, prompt_text

from . import reference
from .conftest import SHARED_DATA

LLAMA2 = SHARED_DATA / "llama2-tokenizer"
IMAGE_TOKEN_INDEX = -200
needs_tokenizer = pytest.mark.skipif(not (LLAMA2 / "tokenizer.model").is_file() or not (LLAMA2 / "tokenizer.json").is_file(),
                                     reason="real data ../shared/data/llama2-tokenizer is absent")


def test_paper_prompts_are_the_papers_texts():
    """Training: conv_vicuna_v1 around the notebook's question after preprocess_multimodal; rating:
    conv_llava_v1 around inference.py's query as written; both as LLaVA's get_prompt makes them."""
    train = prompt_text(None, "paper", phase="train")
    rate = prompt_text(None, "paper", phase="rate")
    for c in CATEGORIES:
        assert reference.paper_training_conversation(c) == f"{train} {c}</s>"
    assert reference.paper_rating_prompt() == rate
    assert "'high,' 'very high.'\nProvide" in train and train.startswith(LLAVA_V1_SYSTEM)
    assert rate.endswith("categories. \n     ASSISTANT:") and "curious human" in rate
    # the default modes are one prompt for both phases
    assert prompt_text(None, "llava_v1", phase="rate") == prompt_text(None, "llava_v1", phase="train")


@pytest.fixture(scope="module")
def sp_tokenize():
    pytest.importorskip("sentencepiece")
    if not (LLAMA2 / "tokenizer.model").is_file():
        pytest.skip("real data ../shared/data/llama2-tokenizer is absent")
    return reference.sentencepiece_tokenizer(LLAMA2 / "tokenizer.model")


@pytest.fixture(scope="module")
def llava15_tokenizer():
    if not (LLAMA2 / "tokenizer.json").is_file():
        pytest.skip("real data ../shared/data/llama2-tokenizer is absent")
    from meaningmaps.model.tiny_llava import load_llava15_tokenizer

    return load_llava15_tokenizer(LLAMA2)


def _collapse(ids, image_id):
    out = []
    for i in ids:
        if i == image_id:
            if not out or out[-1] != IMAGE_TOKEN_INDEX:
                out.append(IMAGE_TOKEN_INDEX)
        else:
            out.append(int(i))
    return out


@needs_tokenizer
def test_sentencepiece_encoding_is_the_librarys(sp_tokenize, llava15_tokenizer):
    from meaningmaps.model.sentencepiece_ids import SentencePieceIds

    ids = SentencePieceIds(llava15_tokenizer)
    sp = sp_tokenize.sp
    rng = random.Random(0)
    alphabet = list("abcdefgh PQRS.,'\n\t  é😀0123ASITNU:") + ["very", " low", "    ", "somewhat", "\n    "]
    texts = [reference.PAPER_QUERY, reference.PAPER_INSTRUCTION, "   x", "  \n  \n", ""]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(1500)]
    assert [ids.encode(t) for t in texts] == [sp.encode(t) for t in texts]


@needs_tokenizer
@pytest.mark.parametrize("phase", ["train", "rate"])
def test_paper_prompt_ids_are_llavas(sp_tokenize, llava15_tokenizer, phase):
    """The prompt (and in training each prompt + answer + </s>) as tokenizer_image_token makes them
    with the SentencePiece tokenizer; the fast tokenizer differs on the rating query's indents."""
    from meaningmaps.model.sentencepiece_ids import SentencePieceIds

    ids = SentencePieceIds(llava15_tokenizer)
    image_id = ids.image_id
    prompt = prompt_text(None, "paper", phase=phase)
    want = reference.paper_tokenizer_image_token(prompt, sp_tokenize)
    assert _collapse(ids.ids(prompt, n_image=3), image_id) == want
    fast = _collapse(llava15_tokenizer(prompt)["input_ids"], image_id)
    if phase == "rate":
        assert (len(want), len(fast)) == (102, 103)
        assert fast != want
    else:
        assert fast == want
        for c in CATEGORIES:
            conv = reference.paper_training_conversation(c)
            assert _collapse(ids.ids(f"{prompt} {c}</s>", n_image=1), image_id) == \
                reference.paper_tokenizer_image_token(conv, sp_tokenize)


@pytest.fixture(scope="module")
def paper_llava(tmp_path_factory):
    if not (LLAMA2 / "tokenizer.json").is_file():
        pytest.skip("real data ../shared/data/llama2-tokenizer is absent")
    from meaningmaps.model.loading import load_llava
    from meaningmaps.model.sentencepiece_ids import paper_processor
    from meaningmaps.model.tiny_llava import build_tiny_llava

    folder = build_tiny_llava(tmp_path_factory.mktemp("paper") / "model", seed=0, image_size=56, text_hidden=32,
                              text_layers=1, vision_hidden=32, vision_layers=1, tokenizer=LLAMA2)
    model, processor = load_llava(str(folder), device="cpu", dtype="fp32")
    wrapped, kind = paper_processor(processor)
    assert kind == "sentencepiece"
    return model, processor, wrapped


@needs_tokenizer
def test_the_model_is_fed_the_sentencepiece_ids(sp_tokenize, paper_llava):
    """Through the workflow's own paths (training examples, batched scoring with left padding,
    generation), the ids the model gets are LLaVA's, the image placeholder expanded in place."""
    from PIL import Image

    from meaningmaps.model.answer_scoring import _preprocess, answer_token_ids, generate_answers, score_answers
    from meaningmaps.model.finetune.data import IGNORE_INDEX, encode_example

    model, plain, processor = paper_llava
    image_id = processor.tokenizer.convert_tokens_to_ids("<image>")
    images = [Image.fromarray(np.random.default_rng(k).integers(0, 256, (40 + k, 50, 3), dtype=np.uint8))
              for k in range(2)]
    rate = prompt_text(processor, "paper", phase="rate")
    want = reference.paper_tokenizer_image_token(rate, sp_tokenize)
    enc = _preprocess(processor, images, [rate, rate])
    for row, mask in zip(enc["input_ids"].tolist(), enc["attention_mask"].tolist(), strict=True):
        assert row.count(image_id) == 16 and all(mask)
        assert _collapse(row, image_id) == want
    assert len(_preprocess(plain, images[:1], [rate])["input_ids"][0]) == len(enc["input_ids"][0]) + 1
    answers = answer_token_ids(processor.tokenizer, rate, append_eos=True)
    for c, a in zip(CATEGORIES, answers, strict=True):
        full = reference.paper_tokenizer_image_token(rate + " " + c, sp_tokenize)
        assert a == full[len(want):] + [2]
    logp = score_answers(model, processor, images, prompts=rate, append_eos=True)
    assert np.isfinite(np.asarray(logp)).all()
    assert len(generate_answers(model, processor, images[:1], max_new_tokens=3, prompts=rate)) == 1
    train = prompt_text(processor, "paper", phase="train")
    for c in CATEGORIES:
        ex = encode_example(processor, images[0], c, train)
        ids = _collapse(ex["input_ids"].tolist(), image_id)
        assert ids == reference.paper_tokenizer_image_token(reference.paper_training_conversation(c), sp_tokenize)
        supervised = [t for t in ex["labels"].tolist() if t != IGNORE_INDEX]
        assert supervised == ids[-len(supervised):] and supervised[-1] == 2


def test_a_vocabulary_without_sentencepiece_pieces_keeps_the_processors_ids(tiny_llava_dir):
    from meaningmaps.model.loading import load_processor
    from meaningmaps.model.sentencepiece_ids import paper_processor

    processor = load_processor(str(tiny_llava_dir))
    assert paper_processor(processor) == (processor, "processor")
