"""Score the six answer categories by their exact log-probabilities, or generate answers as the paper did.

Scoring (:func:`score_answers`) gives, for each patch, ``log P(answer tokens | prompt, image)`` of each
whole answer ("very low" = every token of ``" very low"``, not only the first), in batches:

1. one *prompt pass* per batch (left padding, explicit ``position_ids``), which keeps the KV cache and
   the next-token distribution after ``ASSISTANT:``;
2. the answers are grouped by their all-but-last tokens (:func:`continuation_groups`). Answers of one
   token are read off the prompt pass. Each distinct non-empty prefix (e.g. ``very`` for "very low" and
   "very high") costs ONE extra pass over the prefix tokens on top of the cached prompt; the last token
   of every answer in the group is read from that pass. The cache is then cropped back to the prompt.

``method="tree"`` computes the same quantity in ONE pass per batch: the distinct non-empty answer
prefixes form a tree (one node per prefix, e.g. ``very``, ``some``, ``some what``) whose tokens are
appended after the prompt, with a 4-D attention mask (:func:`tree_attention_mask`) under which each
node sees the whole real prompt and its own ancestors only, at position ``prompt length + depth``;
each answer's tokens are read off the logits of the prompt's last position and of its prefix nodes
(:func:`answer_tree`). That pass cannot use SDPA's mask-free causal kernel (the cached prompt pass
can when no row is padded), so which is faster is a measurement on the card
(``bench/gpu_speed.py``); ``cached`` stays the default.

So "very low" and "very high", which share their first token, get different probabilities:
``P(very) * P(low | very)`` and ``P(very) * P(high | very)``. The result equals running each full
sequence without cache, one sample at a time (``tests/test_answer_scoring.py`` checks this).

The answer is taken as the tokens ``" <category>"`` adds after the prompt, without an end-of-sequence
token (``append_eos=False``, the default): the event "the answer starts with this category", which
is what parsing a generated answer counts too ("low." is "low"). ``append_eos=True`` scores
"this category and then stop". Neither counts other spellings ("Low", "The meaningfulness is low"):
``p_mass`` of :func:`answer_probabilities` says how much probability the six answers hold at all.

Precision: log-softmax is taken in float32 and sums in float64, but the model runs in its own dtype.
On an H100 with random weights of the LLaVA-1.5-7B shape, batched cached scoring matched the
no-cache reference to 3e-5 (log-prob) in float32, while bf16 differed from float32 by up to 0.56 and
bf16 batch size 8 from batch size 1 by up to 0.14: for published numbers load the model in float32
(``dtype fp32``, 28 GB) or check the bf16 deviation on the trained model.

Generation (:func:`generate_answers`) is the paper's inference: greedy decoding, one patch per call by
default, the answer parsed with :func:`meaningmaps.model.prompting.parse_category`.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .prompting import CATEGORIES, RATING, answer_suffix, paper_table_rating, parse_category, prompt_text


class InferenceOOMError(RuntimeError):
    """The accelerator ran out of memory in a forward pass; the message says which batch size to use."""


def _oom_message(batch_size: int, what: str, device) -> str:
    if batch_size > 1:
        fix = (f"set model.inference.batch_size to {batch_size // 2} (half of the current {batch_size}) in "
               f"the config and rerun; the ratings do not depend on the batch size beyond floating-point rounding.")
    else:
        fix = ("model.inference.batch_size is already 1: use a GPU with more memory, load the model in bf16 "
               "(dtype bf16), or in generate mode lower model.inference.max_new_tokens.")
    return f"out of memory on {device} while {what} with model.inference.batch_size = {batch_size}. Fix: {fix}"


def _is_oom(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, InferenceOOMError):
        return False
    return isinstance(exc, torch.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


@contextlib.contextmanager
def oom_guard(batch_size: int, what: str, device=None):
    """Turn a CUDA out-of-memory error into :class:`InferenceOOMError` naming a smaller batch size."""
    try:
        yield
    except (RuntimeError, MemoryError) as exc:
        if not _is_oom(exc):
            raise
        raise InferenceOOMError(_oom_message(batch_size, what, device)) from exc


def _tokenizer(processor):
    return getattr(processor, "tokenizer", processor)


def answer_token_ids(tokenizer, prompt: str, categories: Sequence[str] = CATEGORIES, *,
                     append_eos: bool = False) -> list[list[int]]:
    """The token ids each answer adds after ``prompt``: ``ids(prompt + " " + c)`` minus ``ids(prompt)``.

    Raises ``ValueError`` when the prompt's ids are not a prefix of the prompt-plus-answer ids (the
    tokenizer merges across the boundary, so an answer has no well-defined continuation) or when an
    answer adds no token. ``append_eos`` adds the tokenizer's end-of-sequence id to every answer.
    """
    tokenizer = _tokenizer(tokenizer)
    base = list(tokenizer(prompt)["input_ids"])
    out = []
    for c in categories:
        full = list(tokenizer(prompt + answer_suffix(c))["input_ids"])
        if full[:len(base)] != base:
            raise ValueError(
                f"the tokenizer does not keep the prompt's tokens when {answer_suffix(c)!r} follows it "
                f"(prompt ends {base[-5:]}, prompt+answer has {full[len(base) - 5:len(base) + 3]} there), so the "
                f"answer's tokens cannot be scored as a continuation of the prompt; end the prompt where the "
                f"tokenizer does not merge (e.g. after 'ASSISTANT:').")
        ids = full[len(base):]
        if append_eos:
            if tokenizer.eos_token_id is None:
                raise ValueError("append_eos=True but the tokenizer has no eos_token_id.")
            ids = ids + [int(tokenizer.eos_token_id)]
        if not ids:
            raise ValueError(f"the answer {c!r} adds no token after the prompt.")
        out.append([int(i) for i in ids])
    return out


def continuation_groups(answer_ids: Sequence[Sequence[int]]) -> dict[tuple[int, ...], list[int]]:
    """Answers grouped by their all-but-last tokens: ``{prefix: [answer index, ...]}``.

    The empty prefix ``()`` holds the one-token answers (scored from the prompt pass alone); every
    other key is one extra forward pass over those prefix tokens. Keys are in first-appearance order.
    """
    groups: dict[tuple[int, ...], list[int]] = {}
    for a, ids in enumerate(answer_ids):
        ids = tuple(int(i) for i in ids)
        if not ids:
            raise ValueError(f"answer {a} has no tokens.")
        groups.setdefault(ids[:-1], []).append(a)
    return groups


SCORING_METHODS = ("cached", "tree")


@dataclass(frozen=True)
class AnswerTree:
    """The answers' distinct non-empty proper prefixes as a tree, for one-pass scoring.

    ``nodes[i]`` is a prefix (parents before children); it is fed as its last token ``tokens[i]``
    at depth ``depths[i]`` (1 = the first answer token). ``ancestors[i][j]``: node j is node i or
    one of its ancestors. ``reads[a]``: for each token of answer a, ``(row, token id)``, where row 0
    is the logits after the prompt's last token and row ``1 + i`` those after node i.
    """

    nodes: tuple[tuple[int, ...], ...]
    tokens: tuple[int, ...]
    depths: tuple[int, ...]
    ancestors: tuple[tuple[bool, ...], ...]
    reads: tuple[tuple[tuple[int, int], ...], ...]


def answer_tree(answer_ids: Sequence[Sequence[int]]) -> AnswerTree:
    """The prefix tree of ``answer_ids``: each distinct prefix once, leaves (last tokens) not fed."""
    index: dict[tuple[int, ...], int] = {}
    for a, ids in enumerate(answer_ids):
        ids = tuple(int(i) for i in ids)
        if not ids:
            raise ValueError(f"answer {a} has no tokens.")
        for j in range(1, len(ids)):
            index.setdefault(ids[:j], len(index))
    nodes = tuple(index)
    ancestors = tuple(tuple(len(other) <= len(node) and node[:len(other)] == other for other in nodes)
                      for node in nodes)
    reads = tuple(tuple((0 if j == 0 else 1 + index[tuple(int(i) for i in ids[:j])], int(ids[j]))
                        for j in range(len(ids))) for ids in answer_ids)
    return AnswerTree(nodes=nodes, tokens=tuple(n[-1] for n in nodes), depths=tuple(len(n) for n in nodes),
                      ancestors=ancestors, reads=reads)


def _check_tree_attention(attn_implementation: str) -> None:
    if attn_implementation not in ("sdpa", "eager"):
        raise ValueError(f"tree scoring builds its own 4-D attention mask, which needs sdpa or eager attention; "
                         f"this model uses {attn_implementation!r}. Use method='cached' "
                         f"(model.inference.scoring: cached) or load the model with attn_implementation='sdpa'.")


def tree_attention_mask(mask, ancestors, *, attn_implementation: str = "sdpa", dtype=None):
    """``[batch, 1, P + T, P + T]`` mask for the prompt (``mask``: ``[batch, P]``, left padded) followed by
    T tree nodes: a prompt token sees the real prompt tokens up to itself (a padding token sees only
    itself, so no row is empty; its output is never read), a node sees the whole real prompt and its
    ancestors (``ancestors``: ``[T, T]`` bool) and no prompt token sees a node.

    transformers passes a 4-D mask to the attention as it is (``masking_utils``), so it must already
    be in the attention's form: bool (True = attend) for ``sdpa``, additive float in ``dtype`` (0 or the
    dtype's minimum) for ``eager``. Other attention implementations are refused.
    """
    import torch

    _check_tree_attention(attn_implementation)
    real = mask.bool()
    batch, p = real.shape
    t = len(ancestors)
    anc = torch.as_tensor(ancestors, dtype=torch.bool, device=mask.device).reshape(t, t)
    causal = torch.ones(p, p, dtype=torch.bool, device=mask.device).tril()
    eye = torch.eye(p, dtype=torch.bool, device=mask.device)
    prompt_rows = (causal & real[:, None, :]) | (eye & ~real[:, :, None])  # [batch, P, P]
    prompt_rows = torch.cat([prompt_rows, real.new_zeros(batch, p, t)], dim=2)
    tree_rows = torch.cat([real[:, None, :].expand(batch, t, p), anc.expand(batch, t, t)], dim=2)
    full = torch.cat([prompt_rows, tree_rows], dim=1)[:, None]  # [batch, 1, P + T, P + T]
    if attn_implementation == "sdpa":
        return full
    if dtype is None:
        raise ValueError("an eager-attention mask needs the model's dtype.")
    return torch.zeros(full.shape, dtype=dtype, device=mask.device).masked_fill(~full, torch.finfo(dtype).min)


def _prompts_for(processor, n: int, prompts) -> list[str]:
    if prompts is None:
        return [prompt_text(processor)] * n
    if isinstance(prompts, str):
        return [prompts] * n
    prompts = list(prompts)
    if len(prompts) != n:
        raise ValueError(f"{len(prompts)} prompts for {n} images.")
    return prompts


def _resolve_answer_ids(processor, prompts: list[str], categories, answer_ids, append_eos: bool):
    if answer_ids is not None:
        return [[int(i) for i in ids] for ids in answer_ids]
    tok = _tokenizer(processor)
    found = None
    for p in dict.fromkeys(prompts):
        ids = answer_token_ids(tok, p, categories, append_eos=append_eos)
        if found is not None and ids != found:
            raise ValueError("the answers tokenize differently after different prompts; score those prompts "
                             "in separate calls.")
        found = ids
    return found


def _preprocess(processor, images, prompts):
    """Processor inputs with left padding, on the CPU (run in a worker thread, ahead of the GPU)."""
    tok = _tokenizer(processor)
    side = getattr(tok, "padding_side", None)
    tok.padding_side = "left"
    try:
        enc = processor(images=list(images), text=list(prompts), return_tensors="pt", padding=True)
    finally:
        tok.padding_side = side
    mask = enc["attention_mask"]
    if mask.shape[1] > 1 and not bool((mask[:, 1:] >= mask[:, :-1]).all()):
        raise RuntimeError("the processor did not pad on the left; scoring needs left padding.")
    return enc


def _to_device(enc, device, dtype):
    """Move one preprocessed batch to the model's device (pixel values in the model's dtype)."""
    out = {"input_ids": enc["input_ids"].to(device), "attention_mask": enc["attention_mask"].to(device),
           "pixel_values": enc["pixel_values"].to(device=device, dtype=dtype)}
    for key in ("image_sizes",):
        if key in enc:
            out[key] = enc[key].to(device)
    return out


def _encode(processor, images, prompts, device, dtype):
    """Processor inputs with left padding, on the model's device (pixel values in the model's dtype)."""
    return _to_device(_preprocess(processor, images, prompts), device, dtype)


def _score_batch(model, enc, answer_ids, groups):
    """[batch, answers] float64 log-probabilities for one encoded batch (inside inference_mode)."""
    import torch
    from transformers import DynamicCache

    mask = enc["attention_mask"]
    batch = mask.shape[0]
    device = mask.device
    # Left padding: a row's first real token is at position 0, as without padding.
    position_ids = (mask.long().cumsum(-1) - 1).clamp(min=0)
    # No padding in the batch (all prompts equally long): no mask, so SDPA may take its causal
    # flash kernel instead of a masked one. Same arithmetic; tests compare both paths.
    unpadded = bool(mask.all())
    cache = DynamicCache(config=model.config)
    out = model(**{**enc, "attention_mask": None if unpadded else mask}, position_ids=position_ids, cache=cache,
                use_cache=True, logits_to_keep=1)
    cache = out.cache
    prompt_len = cache.get_seq_length()
    if prompt_len != mask.shape[1]:
        raise RuntimeError(f"the KV cache holds {prompt_len} positions after a prompt of {mask.shape[1]}.")
    first = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1)  # next-token log-probs after the prompt
    result = torch.empty(batch, len(answer_ids), dtype=torch.float64, device=device)
    next_pos = mask.long().sum(-1, keepdim=True)  # position of the first answer token in each row
    croppable = bool(getattr(cache, "is_croppable", False))
    for prefix, members in groups.items():
        if not prefix:
            for a in members:
                result[:, a] = first[:, answer_ids[a][0]].double()
            continue
        n = len(prefix)
        tokens = torch.tensor(prefix, dtype=torch.long, device=device).expand(batch, n)
        pass_cache = cache if croppable else copy.deepcopy(cache)
        o = model(input_ids=tokens,
                  attention_mask=None if unpadded else torch.cat([mask, mask.new_ones(batch, n)], dim=1),
                  position_ids=next_pos + torch.arange(n, device=device), cache=pass_cache, use_cache=True,
                  logits_to_keep=n)
        lp = torch.log_softmax(o.logits.float(), dim=-1)  # [batch, n, vocab]; lp[:, j] predicts token j + 1
        base = first[:, prefix[0]].double()
        for j in range(1, n):
            base = base + lp[:, j - 1, prefix[j]].double()
        for a in members:
            result[:, a] = base + lp[:, n - 1, answer_ids[a][-1]].double()
        del o, lp
        if croppable:
            cache.crop(-n)
            if cache.get_seq_length() != prompt_len:
                raise RuntimeError("cropping the KV cache did not restore the prompt length.")
    return result.cpu().numpy()


def _attn_implementation(model) -> str:
    config = getattr(model.config, "text_config", None) or model.config
    return getattr(config, "_attn_implementation", None) or "eager"


def _score_batch_tree(model, enc, answer_ids, tree: AnswerTree):
    """[batch, answers] float64 log-probabilities in one pass: prompt + answer-tree nodes under
    :func:`tree_attention_mask` (inside inference_mode). Same sums, in the same order, as
    :func:`_score_batch`."""
    import torch

    mask = enc["attention_mask"]
    batch, p = mask.shape
    device = mask.device
    t = len(tree.nodes)
    # Left padding: a row's first real token is at position 0; node i sits at (real length) + depth - 1,
    # where the cached path puts that token when it feeds the node's prefix after the prompt.
    position_ids = (mask.long().cumsum(-1) - 1).clamp(min=0)
    lengths = mask.long().sum(-1, keepdim=True)
    depths = torch.tensor(tree.depths, dtype=torch.long, device=device).reshape(1, t)
    position_ids = torch.cat([position_ids, lengths + depths - 1], dim=1)
    tokens = torch.tensor(tree.tokens, dtype=torch.long, device=device).reshape(1, t).expand(batch, t)
    input_ids = torch.cat([enc["input_ids"], tokens], dim=1)
    dtype = next(model.parameters()).dtype
    full_mask = tree_attention_mask(mask, tree.ancestors, attn_implementation=_attn_implementation(model),
                                    dtype=dtype)
    out = model(**{**enc, "input_ids": input_ids, "attention_mask": full_mask}, position_ids=position_ids,
                use_cache=False, logits_to_keep=t + 1)
    if out.logits.shape[1] != t + 1:
        raise RuntimeError(f"the tree pass returned {out.logits.shape[1]} positions of logits, not {t + 1}.")
    lp = torch.log_softmax(out.logits.float(), dim=-1)  # [batch, 1 + T, vocab]: row 0 after the prompt
    result = torch.empty(batch, len(answer_ids), dtype=torch.float64, device=device)
    for a, reads in enumerate(tree.reads):
        total = lp[:, reads[0][0], reads[0][1]].double()
        for row, token in reads[1:]:
            total = total + lp[:, row, token].double()
        result[:, a] = total
    return result.cpu().numpy()


def _model_device_dtype(model):
    import torch

    param = next(model.parameters())
    device = getattr(model, "device", param.device)
    dtype = getattr(model, "dtype", param.dtype)
    return torch.device(device), dtype


def score_answers(model, processor, images, batch_size: int = 16, categories: Sequence[str] = CATEGORIES, *,
                  answer_ids: Sequence[Sequence[int]] | None = None, prompts: str | Sequence[str] | None = None,
                  append_eos: bool = False, method: str = "cached") -> np.ndarray:
    """``[n, n_answers]`` float64 log-probabilities of each whole answer given the prompt and image.

    ``images``: PIL images (the model views, handed to the processor as they are). ``prompts``: one
    prompt for all (default :func:`prompt_text`, the llava_v1 mode) or one per image. ``answer_ids``: explicit token id
    sequences to score instead of the categories (tests use this). ``method``: ``cached`` (a prompt
    pass, then one cached pass per answer prefix) or ``tree`` (one pass with a tree-shaped mask);
    both give the same log-probabilities up to floating-point rounding (see the module doc). Out of
    memory raises :class:`InferenceOOMError` naming half the batch size.
    """
    import torch

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if method not in SCORING_METHODS:
        raise ValueError(f"method must be one of {', '.join(SCORING_METHODS)} (model.inference.scoring), "
                         f"not {method!r}.")
    images = list(images)
    n = len(images)
    prompts = _prompts_for(processor, n, prompts)
    answer_ids = _resolve_answer_ids(processor, prompts, categories, answer_ids, append_eos)
    vocab = model.get_output_embeddings().weight.shape[0]
    image_token = getattr(model.config, "image_token_id", getattr(model.config, "image_token_index", None))
    for ids in answer_ids:
        if any(i < 0 or i >= vocab for i in ids):
            raise ValueError(f"answer ids {ids} fall outside the vocabulary of {vocab}.")
        if image_token is not None and image_token in ids[:-1]:
            raise ValueError(f"answer ids {ids} feed the image token {image_token} to the model.")
    if method == "tree":
        tree = answer_tree(answer_ids)
        _check_tree_attention(_attn_implementation(model))  # before any batch is prepared

        def score(enc):
            return _score_batch_tree(model, enc, answer_ids, tree)
    else:
        groups = continuation_groups(answer_ids)

        def score(enc):
            return _score_batch(model, enc, answer_ids, groups)
    out = np.empty((n, len(answer_ids)), dtype=np.float64)
    if n == 0:
        return out
    device, dtype = _model_device_dtype(model)
    starts = list(range(0, n, batch_size))

    def prepare(i):
        start = starts[i]
        return _preprocess(processor, images[start:start + batch_size], prompts[start:start + batch_size])

    # The processor (image resize and normalisation, on the CPU) prepares the next batch in a
    # thread while the model scores this one, so the accelerator does not wait for it.
    with ThreadPoolExecutor(max_workers=1) as pool, torch.inference_mode(), \
            oom_guard(batch_size, "scoring answers", device):
        ahead = pool.submit(prepare, 0)
        for i, start in enumerate(starts):
            enc = ahead.result()
            if i + 1 < len(starts):
                ahead = pool.submit(prepare, i + 1)
            stop = min(start + batch_size, n)
            out[start:stop] = score(_to_device(enc, device, dtype))
    return out


def probability_columns(categories: Sequence[str] = CATEGORIES) -> list[str]:
    """``p_very_low, p_low, ...``: the column names of the normalised probabilities."""
    return ["p_" + c.replace(" ", "_") for c in categories]


def answer_probabilities(logp, categories: Sequence[str] = CATEGORIES) -> pd.DataFrame:
    """From ``[n, k]`` log-probabilities: one row per patch with

    * ``p_<category>``: ``exp(logp_k) / sum_j exp(logp_j)`` (normalised over the k answers);
    * ``p_mass``: ``sum_j exp(logp_j)``, the probability the model puts on the k answers at all;
    * ``expected``: ``sum_k p_k * k`` with ratings k = 1..K;
    * ``argmax`` (category name) and ``argmax_rating`` (1..K); ties go to the lower rating.
    """
    logp = np.asarray(logp, dtype=np.float64)
    if logp.ndim != 2 or logp.shape[1] != len(categories):
        raise ValueError(f"log-probabilities of shape {logp.shape}; expected [n, {len(categories)}].")
    if logp.shape[0] and not np.isfinite(logp.max(axis=1)).all():
        raise ValueError("a row of log-probabilities has no finite value.")
    top = logp.max(axis=1, keepdims=True) if logp.shape[0] else np.zeros((0, 1))
    w = np.exp(logp - top)
    total = w.sum(axis=1, keepdims=True)
    p = w / total
    ratings = np.arange(1, len(categories) + 1, dtype=np.float64)
    idx = np.argmax(logp, axis=1) if logp.shape[0] else np.zeros(0, dtype=int)
    frame = pd.DataFrame(p, columns=probability_columns(categories))
    frame["p_mass"] = np.exp(top[:, 0] + np.log(total[:, 0]))
    frame["expected"] = p @ ratings
    frame["argmax"] = [categories[i] for i in idx]
    frame["argmax_rating"] = (idx + 1).astype(int)
    return frame


MATCHES = ("words", "paper_table")


def match_category(text: str, match: str = "words") -> str | None:
    """The category a generated answer gives: ``words``: :func:`parse_category` (whole words anywhere,
    any case); ``paper_table``: the paper's table (``generate_meaning_map.py``: the whole answer,
    stripped as its ``inference.py`` stripped it, matched case-sensitively; "High", "low." name none)."""
    if match == "words":
        return parse_category(text)
    if match == "paper_table":
        rating = paper_table_rating(text.strip())
        return CATEGORIES[rating - 1] if rating else None
    raise ValueError(f"match must be one of {MATCHES}, not {match!r}")


def generate_answers(model, processor, images, max_new_tokens: int = 512, batch_size: int = 1, *,
                     prompts: str | Sequence[str] | None = None, match: str = "words",
                     **generate_kwargs) -> list[tuple[str, str | None]]:
    """The paper's inference: greedy decoding (``do_sample=False``), ``batch_size`` patches per
    ``generate`` call (1 by default, as in the paper), the new tokens decoded without special tokens
    and read by :func:`match_category` (``match``). Returns ``[(text, category or None), ...]``.

    ``generate_kwargs`` go to ``model.generate`` (e.g. ``min_new_tokens`` to ignore EOS in benchmarks).
    """
    import torch

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if match not in MATCHES:
        raise ValueError(f"match must be one of {MATCHES}, not {match!r}")
    images = list(images)
    prompts = _prompts_for(processor, len(images), prompts)
    tok = _tokenizer(processor)
    device, dtype = _model_device_dtype(model)
    kwargs = dict(do_sample=False, num_beams=1, max_new_tokens=max_new_tokens)
    if getattr(model.generation_config, "pad_token_id", None) is None and tok.pad_token_id is not None:
        kwargs["pad_token_id"] = tok.pad_token_id
    kwargs.update(generate_kwargs)
    results: list[tuple[str, str | None]] = []
    with torch.inference_mode(), oom_guard(batch_size, "generating answers", device):
        for start in range(0, len(images), batch_size):
            stop = min(start + batch_size, len(images))
            enc = _encode(processor, images[start:stop], prompts[start:stop], device, dtype)
            seq = model.generate(**enc, **kwargs)
            if not isinstance(seq, torch.Tensor):
                seq = seq.sequences
            texts = tok.batch_decode(seq[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
            results.extend((t, match_category(t, match)) for t in texts)
    return results


def category_rating(category: str | None) -> float:
    """1..6 for a category, NaN for ``None``."""
    return float(RATING[category]) if category is not None else float("nan")
