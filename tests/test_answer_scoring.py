"""Exact answer scoring (batched, KV-cached) against a naive reference; ratings per scene; OOM message."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from meaningmaps.errors import InputError
from meaningmaps.model import ratings as model_ratings
from meaningmaps.model.answer_scoring import (
    InferenceOOMError,
    answer_probabilities,
    answer_token_ids,
    answer_tree,
    continuation_groups,
    generate_answers,
    score_answers,
    tree_attention_mask,
)
from meaningmaps.model.prompting import CATEGORIES, parse_category, prompt_text

TOL = 1e-4
REPO_CONFIG = Path(__file__).resolve().parents[1] / "config.yaml"
SIZES = [(40, 40), (80, 60), (56, 56), (30, 90), (100, 70)]  # (h, w): the processor resizes + crops each


@pytest.fixture(scope="module")
def llava(tiny_llava_dir):
    from meaningmaps.model.loading import load_llava

    return load_llava(str(tiny_llava_dir), device="cpu", dtype="fp32")


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(3)
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in SIZES]


def naive_logprobs(model, processor, image, prompt, answers) -> list[float]:
    """Reference: each full sequence prompt + answer, no cache, one sample, no padding."""
    enc = processor(images=[image], text=[prompt], return_tensors="pt")
    n_prompt = enc["input_ids"].shape[1]
    out = []
    for ids in answers:
        x = torch.cat([enc["input_ids"], torch.tensor([ids], dtype=torch.long)], dim=1)
        with torch.no_grad():
            logits = model(input_ids=x, pixel_values=enc["pixel_values"], attention_mask=torch.ones_like(x)).logits
        lp = torch.log_softmax(logits[0].double(), dim=-1)
        out.append(sum(lp[n_prompt - 1 + j, t].item() for j, t in enumerate(ids)))
    return out


def short_prompt(processor):
    return prompt_text(processor, question="Please assess the patch .")


# --- grouping and tokenisation ------------------------------------------------------------------


def test_tiny_answer_ids_and_groups(llava):
    _, processor = llava
    tok = processor.tokenizer
    ids = answer_token_ids(tok, prompt_text(processor))
    assert [tok.convert_ids_to_tokens(i) for i in ids] == [c.split() for c in CATEGORIES]
    groups = continuation_groups(ids)
    very, some = tok.convert_tokens_to_ids("very"), tok.convert_tokens_to_ids("somewhat")
    assert groups == {(very,): [0, 5], (): [1, 4], (some,): [2, 3]}


def sentencepiece_like():
    """A Unigram + Metaspace tokenizer as Llama's: "▁very", and "somewhat" split as "▁some" + "what"."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    pieces = ["<unk>", "<s>", "</s>", "▁USER", ":", "▁ASSISTANT", "▁very", "▁low", "▁high", "▁some", "what",
              "▁Rate", "▁it", "."]
    tok = Tokenizer(models.Unigram([(p, 0.0 if i < 3 else -1.0) for i, p in enumerate(pieces)], unk_id=0))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


def test_sentencepiece_like_answer_ids():
    tok = sentencepiece_like()
    ids = answer_token_ids(tok, "USER: Rate it. ASSISTANT:")
    assert [tok.convert_ids_to_tokens(i) for i in ids] == [
        ["▁very", "▁low"], ["▁low"], ["▁some", "what", "▁low"], ["▁some", "what", "▁high"], ["▁high"],
        ["▁very", "▁high"]]
    v, lo, hi, s, w = tok.convert_tokens_to_ids(["▁very", "▁low", "▁high", "▁some", "what"])
    assert continuation_groups(ids) == {(v,): [0, 5], (): [1, 4], (s, w): [2, 3]}
    with_eos = answer_token_ids(tok, "USER: Rate it. ASSISTANT:", append_eos=True)
    assert with_eos == [i + [tok.eos_token_id] for i in ids]
    assert continuation_groups(with_eos) == {(v, lo): [0], (lo,): [1], (s, w, lo): [2], (s, w, hi): [3],
                                             (hi,): [4], (v, hi): [5]}


class MergingTokenizer:
    """Character tokenizer that merges ': ' into one token, so the prompt's ids are not a prefix."""

    eos_token_id = None

    def __call__(self, text):
        ids, i = [], 0
        while i < len(text):
            if text[i:i + 2] == ": ":
                ids.append(1000)
                i += 2
            else:
                ids.append(ord(text[i]))
                i += 1
        return {"input_ids": ids}


def test_answer_ids_refuse_merging_tokenizer():
    with pytest.raises(ValueError, match="does not keep the prompt's tokens"):
        answer_token_ids(MergingTokenizer(), "ASSISTANT:")


# --- exactness against the naive reference -------------------------------------------------------


def test_score_matches_naive_reference(llava, images):
    model, processor = llava
    prompt = prompt_text(processor)
    ids = answer_token_ids(processor.tokenizer, prompt)
    got = score_answers(model, processor, images, batch_size=2)
    ref = np.array([naive_logprobs(model, processor, im, prompt, ids) for im in images])
    assert got.shape == (len(images), 6) and got.dtype == np.float64
    np.testing.assert_allclose(got, ref, atol=TOL, rtol=0)
    # the batch size does not change the result
    np.testing.assert_allclose(score_answers(model, processor, images, batch_size=16), got, atol=TOL, rtol=0)


def test_score_with_left_padding_of_unequal_lengths(llava, images):
    model, processor = llava
    long, short = prompt_text(processor), short_prompt(processor)
    prompts = [long, short, short, long, short]
    enc = processor(images=images[:3], text=prompts[:3], return_tensors="pt", padding=True)
    assert (enc["attention_mask"] == 0).any(), "the test needs left padding"
    ids = answer_token_ids(processor.tokenizer, long)
    got = score_answers(model, processor, images, batch_size=3, prompts=prompts)
    ref = np.array([naive_logprobs(model, processor, im, p, ids) for im, p in zip(images, prompts, strict=True)])
    np.testing.assert_allclose(got, ref, atol=TOL, rtol=0)


def language_model_inputs(model, call) -> list[tuple]:
    """(position ids, attention mask) of every language-model pass that ``call()`` makes."""
    seen = []

    def spy(module, args, kwargs):
        seen.append((kwargs["position_ids"].clone(), kwargs["attention_mask"].clone()))

    handle = model.model.language_model.register_forward_pre_hook(spy, with_kwargs=True)
    try:
        call()
    finally:
        handle.remove()
    return seen


def test_positions_and_masks_under_left_padding(llava, images):
    """RoPE is shift-invariant, so wrong positions under left padding would hardly change the numbers:
    check the position ids and masks the language model receives directly."""
    model, processor = llava
    prompts = [prompt_text(processor), short_prompt(processor)]
    seen = language_model_inputs(model, lambda: score_answers(model, processor, images[:2], batch_size=2, prompts=prompts,
                                                              answer_ids=[[17, 18, 21]]))
    (pos0, mask0), (pos1, mask1) = seen
    lengths = mask0.sum(-1)
    assert lengths[0] != lengths[1]
    for row in range(2):
        real = mask0[row].bool()
        assert pos0[row, real].tolist() == list(range(int(lengths[row])))
        assert pos1[row].tolist() == [int(lengths[row]), int(lengths[row]) + 1]
        assert mask1[row].tolist() == mask0[row].tolist() + [1, 1]


def test_shared_first_token_gives_different_answers(llava, images):
    model, processor = llava
    logp = score_answers(model, processor, images[:2])
    very_low, very_high = logp[:, 0], logp[:, 5]
    assert np.all(np.abs(very_low - very_high) > 1e-6)
    # both are below P(first token "very") alone, which would lump them together
    tok = processor.tokenizer
    p_very = score_answers(model, processor, images[:2], answer_ids=[[tok.convert_tokens_to_ids("very")]])[:, 0]
    assert np.all(very_low < p_very) and np.all(very_high < p_very)
    assert np.all(np.logaddexp(very_low, very_high) < p_very)


def test_arbitrary_answer_sequences_match_naive(llava, images):
    model, processor = llava
    answers = [[17], [17, 18], [17, 21], [20, 18, 21], [20, 18, 17], [20, 21], [5], [17, 18, 21, 3], [18, 17]]
    groups = continuation_groups(answers)
    assert groups == {(): [0, 6], (17,): [1, 2], (20, 18): [3, 4], (20,): [5], (17, 18, 21): [7], (18,): [8]}
    prompts = [prompt_text(processor), short_prompt(processor), prompt_text(processor)]
    got = score_answers(model, processor, images[:3], batch_size=3, prompts=prompts, answer_ids=answers)
    ref = np.array([naive_logprobs(model, processor, im, p, answers)
                    for im, p in zip(images[:3], prompts, strict=True)])
    np.testing.assert_allclose(got, ref, atol=TOL, rtol=0)


# --- one-pass tree scoring against the cached path ----------------------------------------------

TREE_TOL = 1e-5  # float32: the tree pass and the cached passes differ only in floating-point rounding
CUSTOM_ANSWERS = [[17], [17, 18], [17, 21], [20, 18, 21], [20, 18, 17], [20, 21], [5], [17, 18, 21, 3], [18, 17]]


def test_answer_tree_nodes_and_reads():
    tree = answer_tree(CUSTOM_ANSWERS)
    assert tree.nodes == ((17,), (20,), (20, 18), (17, 18), (17, 18, 21), (18,))
    assert tree.tokens == (17, 20, 18, 18, 21, 18) and tree.depths == (1, 1, 2, 2, 3, 1)
    # (20, 18) sees (20,) and itself; (17, 18, 21) sees (17,), (17, 18) and itself
    assert tree.ancestors[2] == (False, True, True, False, False, False)
    assert tree.ancestors[4] == (True, False, False, True, True, False)
    # row 0: after the prompt; row 1 + i: after node i
    assert tree.reads[3] == ((0, 20), (2, 18), (3, 21))
    assert tree.reads[7] == ((0, 17), (1, 18), (4, 21), (5, 3))
    assert tree.reads[6] == ((0, 5),)
    assert answer_tree([[3], [4]]).nodes == ()
    with pytest.raises(ValueError, match="no tokens"):
        answer_tree([[3], []])


def test_tree_attention_mask_pattern():
    mask = torch.tensor([[0, 1, 1], [1, 1, 1]])
    anc = ((True, False), (True, True))  # node 1 is the child of node 0
    full = tree_attention_mask(mask, anc)
    assert full.shape == (2, 1, 5, 5) and full.dtype == torch.bool
    assert full[0, 0].int().tolist() == [[1, 0, 0, 0, 0],  # a padding token sees only itself
                                         [0, 1, 0, 0, 0],
                                         [0, 1, 1, 0, 0],
                                         [0, 1, 1, 1, 0],  # node 0: the real prompt and itself
                                         [0, 1, 1, 1, 1]]  # node 1: the real prompt, node 0, itself
    assert full[1, 0, 3].int().tolist() == [1, 1, 1, 1, 0]
    eager = tree_attention_mask(mask, anc, attn_implementation="eager", dtype=torch.float32)
    assert eager.dtype == torch.float32
    assert torch.equal(eager == 0, full) and (eager[~full] == torch.finfo(torch.float32).min).all()
    with pytest.raises(ValueError, match="sdpa or eager"):
        tree_attention_mask(mask, anc, attn_implementation="flash_attention_2")


def test_tree_equals_cached_six_categories(llava, images):
    model, processor = llava
    cached = score_answers(model, processor, images, batch_size=2)
    tree = score_answers(model, processor, images, batch_size=2, method="tree")
    np.testing.assert_allclose(tree, cached, atol=TREE_TOL, rtol=0)
    prompt = prompt_text(processor)
    ref = np.array([naive_logprobs(model, processor, im, prompt, answer_token_ids(processor.tokenizer, prompt))
                    for im in images])
    np.testing.assert_allclose(tree, ref, atol=TOL, rtol=0)


def test_tree_equals_cached_left_padding(llava, images):
    model, processor = llava
    long, short = prompt_text(processor), short_prompt(processor)
    prompts = [long, short, short, long, short]
    cached = score_answers(model, processor, images, batch_size=3, prompts=prompts)
    tree = score_answers(model, processor, images, batch_size=3, prompts=prompts, method="tree")
    np.testing.assert_allclose(tree, cached, atol=TREE_TOL, rtol=0)
    ids = answer_token_ids(processor.tokenizer, long)
    ref = np.array([naive_logprobs(model, processor, im, p, ids) for im, p in zip(images, prompts, strict=True)])
    np.testing.assert_allclose(tree, ref, atol=TOL, rtol=0)


def test_tree_equals_cached_custom_answers(llava, images):
    """Shared multi-token prefixes, one-token answers, a prefix that is itself a longer answer's prefix."""
    model, processor = llava
    prompts = [prompt_text(processor), short_prompt(processor), prompt_text(processor)]
    cached = score_answers(model, processor, images[:3], batch_size=3, prompts=prompts, answer_ids=CUSTOM_ANSWERS)
    tree = score_answers(model, processor, images[:3], batch_size=3, prompts=prompts, answer_ids=CUSTOM_ANSWERS,
                         method="tree")
    np.testing.assert_allclose(tree, cached, atol=TREE_TOL, rtol=0)
    ref = np.array([naive_logprobs(model, processor, im, p, CUSTOM_ANSWERS)
                    for im, p in zip(images[:3], prompts, strict=True)])
    np.testing.assert_allclose(tree, ref, atol=TOL, rtol=0)


def test_tree_equals_cached_append_eos(llava, images):
    model, processor = llava
    cached = score_answers(model, processor, images[:3], batch_size=3, append_eos=True)
    tree = score_answers(model, processor, images[:3], batch_size=3, append_eos=True, method="tree")
    np.testing.assert_allclose(tree, cached, atol=TREE_TOL, rtol=0)
    assert np.all(tree < score_answers(model, processor, images[:3], batch_size=3, method="tree"))


def test_tree_equals_cached_eager_attention(tiny_llava_dir, images):
    """Eager attention adds the mask: the tree mask is then additive float, not bool."""
    from meaningmaps.model.loading import load_llava

    model, processor = load_llava(str(tiny_llava_dir), device="cpu", dtype="fp32", attn="eager")
    prompts = [prompt_text(processor), short_prompt(processor), prompt_text(processor)]
    cached = score_answers(model, processor, images[:3], batch_size=3, prompts=prompts)
    tree = score_answers(model, processor, images[:3], batch_size=3, prompts=prompts, method="tree")
    np.testing.assert_allclose(tree, cached, atol=TREE_TOL, rtol=0)


def test_tree_positions_and_mask_under_left_padding(llava, images):
    """One language-model pass; the nodes sit where the cached path feeds them: real length + depth - 1."""
    model, processor = llava
    prompts = [prompt_text(processor), short_prompt(processor)]
    seen = language_model_inputs(model, lambda: score_answers(model, processor, images[:2], batch_size=2, prompts=prompts,
                                                              answer_ids=[[17, 18, 21], [17, 5]], method="tree"))
    assert len(seen) == 1
    pos, mask = seen[0]
    enc = processor(images=images[:2], text=prompts, return_tensors="pt", padding=True)
    p = enc["attention_mask"].shape[1]
    assert mask.shape == (2, 1, p + 2, p + 2) and mask.dtype == torch.bool
    for row in range(2):
        length = int(enc["attention_mask"][row].sum())
        assert pos[row, p - length:p].tolist() == list(range(length))
        assert pos[row, p:].tolist() == [length, length + 1]  # nodes (17,) and (17, 18)
        assert mask[row, 0, p + 1].tolist() == enc["attention_mask"][row].bool().tolist() + [True, True]


def test_scoring_config_key_reaches_score_answers(tiny_llava_dir, llava, images, tmp_path, monkeypatch):
    """model.inference.scoring: default cached (unchanged), tree accepted, anything else refused by the
    schema; rate_scene passes it on as score_answers' method."""
    import yaml

    from meaningmaps.config import load_config, load_schema

    inference = load_schema()["properties"]["model"]["properties"]["inference"]["properties"]["scoring"]
    assert inference["default"] == "cached" and inference["enum"] == ["cached", "tree"]
    cfg = yaml.safe_load(REPO_CONFIG.read_text())
    path = tmp_path / "c.yaml"
    cfg["model"]["inference"].pop("scoring", None)
    path.write_text(yaml.safe_dump(cfg))
    assert load_config(path)["model"]["inference"]["scoring"] == "cached"
    cfg["model"]["inference"]["scoring"] = "fast"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(InputError, match="model.inference.scoring.*'fast'"):
        load_config(path)
    views, index, _ = write_views(tmp_path, images[:3])
    methods = []
    real = model_ratings.score_answers
    monkeypatch.setattr(model_ratings, "score_answers", lambda *a, **k: methods.append(k["method"]) or real(*a, **k))
    tree = model_ratings.rate_scene(None, views, index, tmp_path / "t.csv", batch_size=3, progress=False,
                                    model_and_processor=llava, scoring="tree")
    cached = model_ratings.rate_scene(None, views, index, tmp_path / "c.csv", batch_size=3, progress=False,
                                      model_and_processor=llava)
    assert methods == ["tree", "cached"]
    np.testing.assert_allclose(tree["expected"], cached["expected"], atol=1e-6)
    with pytest.raises(ValueError, match="scoring"):
        model_ratings.rate_scene(None, views, index, tmp_path / "x.csv", progress=False, model_and_processor=llava,
                                 scoring="one-pass")


def test_unknown_scoring_method_is_refused(llava, images):
    model, processor = llava
    with pytest.raises(ValueError, match="cached, tree.*'one-pass'"):
        score_answers(model, processor, images[:1], method="one-pass")


# --- probabilities -------------------------------------------------------------------------------


def test_answer_probabilities_known_values():
    p = np.array([[0.1, 0.2, 0.3, 0.1, 0.05, 0.05], [0.0, 0.0, 0.0, 0.0, 0.0, 0.5]])
    with np.errstate(divide="ignore"):
        frame = answer_probabilities(np.log(p))
    np.testing.assert_allclose(frame["p_mass"], [0.8, 0.5])
    np.testing.assert_allclose(frame.loc[0, "p_very_low":"p_very_high"].to_numpy(float), p[0] / 0.8)
    np.testing.assert_allclose(frame["expected"], [(p[0] / 0.8) @ np.arange(1, 7), 6.0])
    assert frame["argmax"].tolist() == ["somewhat low", "very high"]
    assert frame["argmax_rating"].tolist() == [3, 6]


def test_answer_probabilities_on_model_scores(llava, images):
    model, processor = llava
    frame = answer_probabilities(score_answers(model, processor, images))
    probs = frame[[f"p_{c.replace(' ', '_')}" for c in CATEGORIES]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    assert ((frame["expected"] >= 1) & (frame["expected"] <= 6)).all()
    assert ((frame["p_mass"] > 0) & (frame["p_mass"] <= 1 + 1e-9)).all()
    assert frame["argmax"].tolist() == [CATEGORIES[i] for i in probs.argmax(axis=1)]
    assert (frame["argmax_rating"] == probs.argmax(axis=1) + 1).all()


# --- generation and parsing ----------------------------------------------------------------------


def test_generate_answers_parse_or_none(llava, images, monkeypatch):
    model, processor = llava
    calls = []
    generate = model.generate

    def spy(**kwargs):
        seq = generate(**kwargs)
        calls.append((kwargs["input_ids"].shape, seq.shape, kwargs["do_sample"]))
        return seq

    monkeypatch.setattr(model, "generate", spy)
    out = generate_answers(model, processor, images[:2], max_new_tokens=6, min_new_tokens=6)
    assert len(out) == 2
    for text, cat in out:
        assert isinstance(text, str)
        assert cat is None or cat in CATEGORIES
        assert cat == parse_category(text)
    # one patch per generate call, greedy, exactly 6 new tokens (EOS ignored by min_new_tokens)
    assert [(i[0], s[1] - i[1], sample) for i, s, sample in calls] == [(1, 6, False), (1, 6, False)]


@pytest.mark.parametrize("text,expected", [
    ("very low", "very low"), ("Very Low.", "very low"), ("low", "low"), ("Somewhat High.", "somewhat high"),
    ("The meaningfulness is very high", "very high"), ("'somewhat low,'", "somewhat low"), ("high", "high"),
    ("nothing here", None), ("", None)])
def test_parse_category_longest_match(text, expected):
    assert parse_category(text) == expected


# Realistic generated answers that substring matching misread: whole words only, case-insensitive,
# the longest category first, across punctuation, hyphens and line breaks.
@pytest.mark.parametrize("text,expected", [
    ("The patch shows a yellow flower in a vase; its meaningfulness is very high.", "very high"),  # not "low"
    ("Following the scale, somewhat high.", "somewhat high"),  # "Following" holds "low"
    ("This is a highly textured wall: low.", "low"),  # "highly" is not "high"
    ("Highly meaningful", None),
    ("somewhat-high", "somewhat high"), ("Somewhat\nhigh", "somewhat high"), ("VERY-LOW!", "very low"),
    ("Rating: very\n low", "very low"), ("Meaning: High", "high"), ("a slow, yellow, shallow scene", None),
    ("Lowest possible", None), ("I'd say 'low,'", "low"), ("(very high)", "very high"),
    ("The answer is somewhat low, not high", "somewhat low"),  # the first category named wins
    ("thigh and elbow", None), ("Somewhat high-ish", "somewhat high"), ("very lowly", None),
])
def test_parse_category_whole_words(text, expected):
    assert parse_category(text) == expected


# --- scenes --------------------------------------------------------------------------------------


def write_views(root, images, mode="RGB"):
    views, patches = root / "views", root / "patches"
    views.mkdir()
    patches.mkdir()
    rows = []
    for i, im in enumerate(images):
        scale, k = ("fine", i + 1) if i < 3 else ("coarse", i - 2)
        im.convert(mode).save(views / f"{scale}_{k}.png")
        rows.append({"scale": scale, "k": k, "file": f"{scale}_{k}.png"})
    pd.DataFrame(rows).to_csv(patches / "index.csv", index=False)
    return views, patches / "index.csv", rows


def test_rate_scene_writes_csv(tiny_llava_dir, llava, images, tmp_path):
    views, index, rows = write_views(tmp_path, images)
    out = tmp_path / "ratings" / "scene.csv"
    frame = model_ratings.rate_scene(tiny_llava_dir, views, index, out, mode="score", batch_size=2, device="cpu",
                                     dtype="fp32", map_from="expected", max_new_tokens=4, progress=False)
    written = pd.read_csv(out)
    assert list(written.columns) == model_ratings.output_columns("score")
    assert len(written) == len(rows)
    assert list(zip(written["scale"], written["k"])) == [(r["scale"], r["k"]) for r in rows]
    np.testing.assert_allclose(written["rating"], written["expected"])
    np.testing.assert_allclose(written.filter(like="p_").drop(columns="p_mass").sum(axis=1), 1.0, atol=1e-9)
    # the same numbers as scoring the images directly
    model, processor = llava
    direct = answer_probabilities(score_answers(model, processor, images))
    np.testing.assert_allclose(frame["expected"], direct["expected"], atol=1e-6)
    argmax = model_ratings.rate_patches(model, processor, [(r["scale"], r["k"], views / r["file"]) for r in rows],
                                        map_from="argmax", progress=False)
    assert (argmax["rating"] == argmax["argmax_rating"]).all()


def test_rate_scene_missing_image_fails_before_model_load(tmp_path, images, monkeypatch):
    views, index, rows = write_views(tmp_path, images[:3])
    (views / "fine_2.png").unlink()

    def no_load(*args, **kwargs):
        raise AssertionError("the model must not be loaded")

    monkeypatch.setattr(model_ratings, "load_llava", no_load)
    with pytest.raises(InputError, match="fine_2.png"):
        model_ratings.rate_scene(tmp_path / "no-model", views, index, tmp_path / "out.csv", progress=False)
    assert not (tmp_path / "out.csv").exists()


def test_rgba_views_are_refused(tmp_path, images):
    views, _, _ = write_views(tmp_path, images[:1], mode="RGBA")
    with pytest.raises(InputError, match="alpha"):
        model_ratings.load_view(views / "fine_1.png")


def test_generate_mode_unparsable_answers(llava, images, tmp_path, monkeypatch):
    views, index, rows = write_views(tmp_path, images[:3])
    answers = iter([("Very low.", "very low"), ("I cannot tell", None), ("Somewhat High", "somewhat high")])
    monkeypatch.setattr(model_ratings, "generate_answers",
                        lambda model, processor, imgs, **kw: [next(answers) for _ in imgs])
    out = tmp_path / "gen.csv"
    with pytest.raises(InputError, match="name no category"):
        model_ratings.rate_scene(None, views, index, out, mode="generate", batch_size=1, progress=False,
                                 model_and_processor=llava)
    assert not out.exists()
    answers = iter([("Very low.", "very low"), ("I cannot tell", None), ("Somewhat High", "somewhat high")])
    frame = model_ratings.rate_scene(None, views, index, out, mode="generate", batch_size=1, progress=False,
                                     drop_unparsable=True, model_and_processor=llava)
    written = pd.read_csv(out)
    assert list(written.columns) == model_ratings.output_columns("generate")
    assert written["k"].tolist() == [1, 3] and written["rating"].tolist() == [1.0, 4.0]
    assert written["p_low"].isna().all() and frame["answer"].tolist() == ["Very low.", "Somewhat High"]


@pytest.mark.parametrize("match, unparsable, ratings", [
    ("words", "zero", [1.0, 0.0, 4.0, 5.0]),
    ("paper_table", "zero", [0.0, 0.0, 0.0, 5.0]),  # "Very low." and "Somewhat High" are not in the paper's table
    ("paper_table", "drop", [5.0]),
])
def test_generate_mode_match_and_unparsable(llava, images, tmp_path, monkeypatch, match, unparsable, ratings):
    """model.inference.match and unparsable: the answer texts read by the words or by the paper's table;
    answers naming no category rated 0 (the paper's) or left out."""
    from meaningmaps.model import answer_scoring
    from meaningmaps.model.prompting import PAPER_TABLE

    views, index, _ = write_views(tmp_path, images[:3] + images[:1])
    texts = ["Very low.", "I cannot tell", "Somewhat High", " high\n"]
    seen = []

    def fake(model, processor, imgs, match="words", **kw):
        out = [(t, answer_scoring.match_category(t, match)) for t in texts[len(seen):len(seen) + len(imgs)]]
        seen.extend(out)
        return out

    monkeypatch.setattr(model_ratings, "generate_answers", fake)
    frame = model_ratings.rate_scene(None, views, index, tmp_path / "g.csv", mode="generate", batch_size=1,
                                     progress=False, model_and_processor=llava, match=match, unparsable=unparsable)
    assert frame["rating"].tolist() == ratings
    assert pd.read_csv(tmp_path / "g.csv")["rating"].tolist() == ratings
    assert answer_scoring.match_category("Very high", "paper_table") == "very high"
    assert answer_scoring.match_category("very  high", "paper_table") is None
    assert {answer_scoring.match_category(t, "paper_table") for t in PAPER_TABLE} == set(CATEGORIES)


def test_generate_mode_real_model(llava, images):
    model, processor = llava
    frame = model_ratings.rate_patches(model, processor, [("fine", 1, images[0]), ("fine", 2, images[1])],
                                       mode="generate", batch_size=1, max_new_tokens=4, progress=False)
    assert list(frame.columns) == model_ratings.output_columns("generate")
    for _, row in frame.iterrows():
        assert row["argmax"] == parse_category(row["answer"])
        assert (np.isnan(row["rating"]) if row["argmax"] is None else row["rating"] == CATEGORIES.index(
            row["argmax"]) + 1)


# --- out of memory -------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
                                   RuntimeError("CUDA error: out of memory")])
def test_oom_message_names_batch_size(llava, images, monkeypatch, error):
    model, processor = llava

    @functools.wraps(model.forward)  # keeps the signature generate() inspects
    def boom(*args, **kwargs):
        raise error

    monkeypatch.setattr(model, "forward", boom)
    with pytest.raises(InferenceOOMError, match=r"batch_size = 8.*\b4\b"):
        score_answers(model, processor, images[:2], batch_size=8)
    with pytest.raises(InferenceOOMError, match="batch_size"):
        generate_answers(model, processor, images[:1], max_new_tokens=2)


def test_other_runtime_errors_pass_through(llava, images, monkeypatch):
    model, processor = llava

    def boom(*args, **kwargs):
        raise RuntimeError("shape mismatch")

    monkeypatch.setattr(model, "forward", boom)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        score_answers(model, processor, images[:1])


def test_interrupted_scene_leaves_no_csv(llava, images, tmp_path):
    """Inference killed mid-scene (here: interrupted after the first batch): no ratings file, not
    even a partial one under another name, so Snakemake reruns exactly that scene."""
    model, processor = llava
    views, index, _ = write_views(tmp_path, images)
    out = tmp_path / "ratings" / "scene.csv"
    calls = {"n": 0}
    real_forward = model.forward

    def forward(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 3:  # the first batch (prompt pass + its answer passes) goes through
            raise KeyboardInterrupt
        return real_forward(*args, **kwargs)

    model.forward = forward
    try:
        with pytest.raises(KeyboardInterrupt):
            model_ratings.rate_scene(None, views, index, out, batch_size=2, progress=False,
                                     model_and_processor=(model, processor))
    finally:
        del model.forward
    assert calls["n"] > 3
    assert not out.exists()
    assert not out.parent.exists() or not list(out.parent.iterdir())
