"""A tiny random LLaVA written to disk, so the model steps run offline (demo, tests, CPU benchmarks).

It has the same classes and file layout as ``llava-hf/llava-1.5-7b-hf`` (``LlavaForConditionalGeneration``
of a Llama text model and a CLIP vision tower, a ``LlavaProcessor`` with the llava-1.5 chat
template), only small and randomly initialised:

* tokenizer (default): a ``tokenizers`` WordLevel model holding the special tokens (``<unk> <s> </s>
  <pad> <image>``), the chat-template words, the question's words and the answer words, so every
  answer category is one token per word ("very low" = ``very``, ``low``);
* tokenizer (``tokenizer=`` a Llama ``tokenizer.json`` or its folder, config
  ``model.build_tiny.tokenizer``): LLaVA-1.5's own text vocabulary as llava-hf ships it (Llama-2's
  32,000 pieces, ``<image>`` = 32000 and ``<pad>`` = 32001 added as special tokens, embedding and
  output layer padded to a multiple of 64: 32064), so prompts and answers tokenize exactly as the
  real model's do (:func:`load_llava15_tokenizer`). With ``image_size=336`` the model has LLaVA-1.5's
  input shape (576 image tokens), only with tiny hidden sizes;
* vision: CLIP with ``image_size / patch_size`` patches per side. With LLaVA's "default" feature
  strategy the CLS token is dropped, so the processor must be told ``num_additional_image_tokens=1``
  and expands ``<image>`` to ``(image_size / patch_size) ** 2`` tokens (576 for the real 336 / 14).

:func:`llava_config` also gives the exact LLaVA-1.5-7B shape (random weights, nothing downloaded)
for the benchmarks.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

from ..atomic import atomic_dir
from ..errors import InputError
from ..folders import check_output_folder
from .prompting import CATEGORIES, LLAVA15_CHAT_TEMPLATE, LLAVA_V1_SYSTEM, QUESTION

SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
EXTRA_WORDS = ["USER", "ASSISTANT", "SYSTEM", "the", "a", "patch", "image", "is", "yes", "no"]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
# llava-hf's additions to the Llama vocabulary, in this order (ids 32000 and 32001 after Llama-2's
# 32,000 pieces), and the multiple its embedding is padded to (32002 -> 32064).
LLAVA_ADDED_TOKENS = ("<image>", "<pad>")
VOCAB_MULTIPLE = 64
TINY_KEY = "model.build_tiny"
TOKENIZER_KEY = f"{TINY_KEY}.tokenizer"


def vocabulary() -> list[str]:
    """Special tokens first (ids 0..4), then every word and punctuation mark the prompts use (both
    prompt modes: the question, the llava_v1 system prompt, the chat-template roles, the answers)."""
    text = " ".join([QUESTION, LLAVA_V1_SYSTEM, *CATEGORIES, *EXTRA_WORDS])
    words = re.findall(r"\w+|[^\w\s]", text)
    vocab = list(SPECIAL_TOKENS)
    for w in words + [":", ".", ",", "'"]:
        if w not in vocab:
            vocab.append(w)
    return vocab


def build_tokenizer():
    """WordLevel fast tokenizer: ``<s>`` prepended, left padding, words and punctuation split."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(vocabulary())}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", vocab["<s>"])])
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    tok.add_special_tokens(SPECIAL_TOKENS)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", padding_side="left", model_max_length=4096,
                                   extra_special_tokens={"image_token": "<image>"})


def tokenizer_file(path) -> Path:
    """The ``tokenizer.json`` that ``path`` names (the file itself, or a folder holding one).

    Raises :class:`InputError` naming the path and the config key when there is none, so a wrong
    ``model.build_tiny.tokenizer`` fails before anything is built.
    """
    p = Path(path)
    file = p / "tokenizer.json" if p.is_dir() else p
    if not file.is_file():
        where = "folder holds no tokenizer.json" if p.is_dir() else "does not exist"
        raise InputError(path, f"the tokenizer for the tiny model ({TOKENIZER_KEY}) {where}.",
                         "point it at a Llama tokenizer.json or the folder holding one (e.g. "
                         "../shared/data/llama2-tokenizer), or set it to null for the small word-level vocabulary.")
    return file


def load_llava15_tokenizer(path):
    """LLaVA-1.5's tokenizer as llava-hf ships it, from the Llama tokenizer at ``path``.

    The vocabulary and merges of ``path``, normalised as in llava-hf's own ``tokenizer.json``
    (:func:`use_llava_hf_normalizer`); ``<image>`` and ``<pad>`` appended as special added tokens
    unless present (32000, 32001 for Llama-2); ``<pad>`` is the pad token; padding on the left.
    """
    from tokenizers import AddedToken
    from transformers import LlamaTokenizer

    file = tokenizer_file(path)
    try:
        tok = LlamaTokenizer.from_pretrained(str(file.parent), tokenizer_file=str(file), legacy=False,
                                             padding_side="left", model_max_length=4096,
                                             extra_special_tokens={"image_token": "<image>"})
    except Exception as exc:  # a file that is not a tokenizers JSON
        raise InputError(file, f"could not be read as a tokenizer ({type(exc).__name__}: {exc}).",
                         f"point {TOKENIZER_KEY} at a Llama tokenizer.json.") from exc
    _check_llama_specials(tok, file)
    use_llava_hf_normalizer(tok)
    vocab = tok.get_vocab()
    new = [AddedToken(t, normalized=False, special=True) for t in LLAVA_ADDED_TOKENS if t not in vocab]
    tok.add_tokens(new, special_tokens=True)
    tok.pad_token = "<pad>"
    return tok


def use_llava_hf_normalizer(tok) -> None:
    """Split text as llava-hf/llava-1.5-7b-hf's ``tokenizer.json`` does: normaliser ``Prepend("▁")`` then
    ``Replace(" ", "▁")``, no pre-tokenizer (the "legacy" Llama conversion, as Meta's Llama-2 file).

    Why it matters: the normaliser runs on each stretch of text between special tokens, so the text
    after ``<image>`` ("\\nPlease ...") gets SentencePiece's dummy prefix ``▁`` (29871) as it does in the
    original LLaVA, which tokenizes the chunks around ``<image>`` separately. transformers' current
    converter writes ``Metaspace(prepend_scheme="first")`` instead, which prefixes only the start of the
    whole text and drops that 29871. transformers 5 loads a llava model's tokenizer from its
    ``tokenizer.json`` as it is (not rebuilt as a LlamaTokenizer), so the real model follows its file.
    """
    from tokenizers import normalizers

    backend = tok.backend_tokenizer
    backend.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    backend.pre_tokenizer = None


def _check_llama_specials(tok, file) -> None:
    """The Llama special tokens must be there: ``<s>`` prepended, ``</s>`` ends an answer in training."""
    vocab = tok.get_vocab()
    missing = [t for t in ("<unk>", "<s>", "</s>") if t not in vocab]
    if len(vocab) < 10 or missing:
        raise InputError(file, f"is not a Llama tokenizer: {len(vocab)} tokens, missing {missing or 'none'}.",
                         f"point {TOKENIZER_KEY} at a Llama(-2) tokenizer.json (LLaVA-1.5's text vocabulary).")
    if tok("a")["input_ids"][:1] != [vocab["<s>"]]:
        raise InputError(file, "does not prepend <s> to a text, as LLaVA-1.5's tokenizer does.",
                         "use a tokenizer.json whose post-processor adds the BOS token "
                         "(transformers' Llama converter writes one).")


def padded_vocab_size(n: int, multiple: int = VOCAB_MULTIPLE) -> int:
    """``n`` rounded up to a multiple (llava-hf: 32002 tokens -> embedding of 32064 rows)."""
    return -(-n // multiple) * multiple


def llava_config(*, vocab_size: int, image_token_id: int, pad_token_id: int | None = None,
                 text_hidden: int = 64, text_layers: int = 2, text_heads: int = 4, text_kv_heads: int | None = None,
                 text_intermediate: int = 128, vision_hidden: int = 32, vision_layers: int = 2,
                 vision_heads: int = 2, vision_intermediate: int = 64, image_size: int = 56,
                 patch_size: int = 14, projection_dim: int | None = None, max_positions: int = 4096,
                 bos_token_id: int = 1, eos_token_id: int = 2):
    """A ``LlavaConfig`` of any shape (defaults: tiny). :func:`llava15_7b_config` gives the real one."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

    n_image = (image_size // patch_size) ** 2
    text = LlamaConfig(vocab_size=vocab_size, hidden_size=text_hidden, intermediate_size=text_intermediate,
                       num_hidden_layers=text_layers, num_attention_heads=text_heads,
                       num_key_value_heads=text_kv_heads or text_heads, max_position_embeddings=max_positions,
                       rms_norm_eps=1e-5, bos_token_id=bos_token_id, eos_token_id=eos_token_id,
                       pad_token_id=pad_token_id,
                       tie_word_embeddings=False)
    vision = CLIPVisionConfig(hidden_size=vision_hidden, intermediate_size=vision_intermediate,
                              num_hidden_layers=vision_layers, num_attention_heads=vision_heads,
                              image_size=image_size, patch_size=patch_size,
                              projection_dim=projection_dim or vision_hidden, hidden_act="quick_gelu")
    return LlavaConfig(vision_config=vision, text_config=text, image_token_index=image_token_id,
                       image_seq_length=n_image, vision_feature_select_strategy="default",
                       vision_feature_layer=-2, projector_hidden_act="gelu")


def llava15_7b_config(vocab_size: int = 32064, image_token_id: int = 32000):
    """The exact LLaVA-1.5-7B shape: Llama 4096 x 32 layers x 32 heads, MLP 11008, vocabulary 32064;
    CLIP ViT-L/14 at 336 px (24 layers, hidden 1024, MLP 4096, 16 heads): 576 image tokens."""
    return llava_config(vocab_size=vocab_size, image_token_id=image_token_id, pad_token_id=32001,
                        text_hidden=4096, text_layers=32, text_heads=32, text_intermediate=11008,
                        vision_hidden=1024, vision_layers=24, vision_heads=16, vision_intermediate=4096,
                        image_size=336, patch_size=14, projection_dim=768)


def build_processor(tokenizer, image_size: int, patch_size: int):
    """A ``LlavaProcessor`` laid out as llava-hf's (resize shortest edge, centre crop, CLIP norm)."""
    from transformers import LlavaProcessor
    try:
        from transformers import CLIPImageProcessorPil as ImageProcessor
    except ImportError:  # older 5.x names it only CLIPImageProcessor
        from transformers import CLIPImageProcessor as ImageProcessor
    image_processor = ImageProcessor(size={"shortest_edge": image_size},
                                     crop_size={"height": image_size, "width": image_size},
                                     do_center_crop=True, do_resize=True, do_rescale=True, do_normalize=True,
                                     image_mean=CLIP_MEAN, image_std=CLIP_STD, do_convert_rgb=True)
    return LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=patch_size,
                          vision_feature_select_strategy="default", num_additional_image_tokens=1,
                          chat_template=LLAVA15_CHAT_TEMPLATE)


def build_tiny_llava(out_dir, *, seed: int = 0, image_size: int = 56, patch_size: int = 14,
                     text_hidden: int = 64, text_layers: int = 2, text_heads: int = 4,
                     vision_hidden: int = 32, vision_layers: int = 2, tokenizer=None) -> Path:
    """Write a random tiny LLaVA (model, tokenizer, processor) to ``out_dir``; return the path.

    ``tokenizer``: ``None`` for the small word-level vocabulary, or a Llama ``tokenizer.json`` (or its
    folder) for LLaVA-1.5's own vocabulary (:func:`load_llava15_tokenizer`; embedding padded to a
    multiple of 64). Deterministic for a seed and tokenizer: the same call writes the same weights.
    """
    import torch
    from transformers import LlavaForConditionalGeneration

    check_shape(image_size, text_hidden, text_layers, vision_hidden, patch_size=patch_size, text_heads=text_heads)
    out_dir = Path(out_dir)
    tok = build_tokenizer() if tokenizer is None else load_llava15_tokenizer(tokenizer)
    vocab_size = len(tok) if tokenizer is None else padded_vocab_size(len(tok))
    image_id = tok.convert_tokens_to_ids("<image>")
    config = llava_config(vocab_size=vocab_size, image_token_id=image_id, pad_token_id=tok.pad_token_id,
                          bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                          text_hidden=text_hidden, text_layers=text_layers, text_heads=text_heads,
                          text_intermediate=2 * text_hidden, vision_hidden=vision_hidden,
                          vision_layers=vision_layers, vision_heads=max(1, vision_hidden // 16),
                          vision_intermediate=2 * vision_hidden, image_size=image_size, patch_size=patch_size)
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).eval()
    # The usual 0.02 init of the output layer caps a random tiny model's logits near +-1.3 (the
    # final RMSNorm makes |h| = sqrt(hidden)), and LoRA, which does not touch lm_head, cannot lift
    # that cap: fine-tuning would plateau near uniform answers. Drawing lm_head with std
    # 1/sqrt(hidden) gives unit-variance logits at random and lets an aligned state reach
    # sqrt(hidden), as a trained model's output layer can. (Real models are unaffected.)
    with torch.no_grad():
        model.lm_head.weight.normal_(0.0, text_hidden ** -0.5)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.bos_token_id = tok.bos_token_id
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    build_processor(tok, image_size, patch_size).save_pretrained(out_dir)
    (out_dir / "meaningmaps_tiny.json").write_text(json.dumps(
        {"what": "tiny random LLaVA built by meaningmaps.model.tiny_llava (not a trained model)", "seed": seed,
         "image_size": image_size, "patch_size": patch_size, "text_hidden": text_hidden,
         "text_layers": text_layers, "vision_hidden": vision_hidden, "vision_layers": vision_layers,
         "tokenizer": _tokenizer_record(tokenizer), "vocab_size": vocab_size}, indent=1))
    return out_dir


def _tokenizer_record(tokenizer) -> dict | str:
    """What the metadata says about the vocabulary: the word-level one, or the file and its digest."""
    if tokenizer is None:
        return "word-level (meaningmaps.model.tiny_llava.vocabulary)"
    file = tokenizer_file(tokenizer)
    return {"file": str(file.resolve()), "sha256": hashlib.sha256(file.read_bytes()).hexdigest()}


def build_tiny_llava_atomic(out_dir, **shape) -> Path:
    """:func:`build_tiny_llava` into a temporary folder unique to this job, moved onto ``out_dir``
    when complete (:func:`atomic.atomic_dir`)."""
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        build_tiny_llava(tmp, **shape)
    return out_dir


#: the file that marks a folder as a tiny model of this module (written with the model)
TINY_MARK = "meaningmaps_tiny.json"


def check_shape(image_size: int, text_hidden: int, text_layers: int, vision_hidden: int, *, patch_size: int = 14,
                text_heads: int = 4, names: dict | None = None) -> None:
    """Sizes the model can be built with and run: the vision input a whole number of patches, the
    hidden sizes whole multiples of their heads (the language model's with an even size per head,
    for its rotary embeddings), at least one layer. ``names``: how the caller calls each size (e.g. ``--image-size``)."""
    name = {k: (names or {}).get(k, f"{TINY_KEY}.{k}") for k in ("image_size", "text_hidden", "text_layers",
                                                                   "vision_hidden")}
    vision_heads = max(1, vision_hidden // 16)
    if image_size < patch_size or image_size % patch_size:
        raise InputError(name["image_size"], f"is {image_size}; the vision tower's input is a whole number of "
                         f"{patch_size} px patches, at least one.", f"give a multiple of {patch_size}, e.g. 56 "
                         "(LLaVA-1.5: 336).")
    if text_hidden < 2 * text_heads or text_hidden % (2 * text_heads):
        raise InputError(name["text_hidden"], f"is {text_hidden}; the language model's {text_heads} heads need a "
                         f"hidden size that is a multiple of {2 * text_heads} (an even size per head).",
                         f"give a multiple of {2 * text_heads}, e.g. 64.")
    if text_layers < 1:
        raise InputError(name["text_layers"], f"is {text_layers}; the language model needs at least one layer.",
                         "give 1 or more, e.g. 2.")
    if vision_hidden < 16 or vision_hidden % vision_heads:
        raise InputError(name["vision_hidden"], f"is {vision_hidden}; the vision tower has {vision_hidden} // 16 = "
                         f"{vision_heads} head(s), which need a hidden size of 16 or more that they divide evenly.",
                         "give a multiple of 16, e.g. 32.")


def check_out_dir(out_dir, flag: str = "OUT_DIR") -> None:
    """The folder can be written and is new, empty or an earlier tiny model (rewritten): never a
    folder of other files, such as a real model's, whose config.json and weights it would replace."""

    out = check_output_folder(out_dir, flag)
    held = sorted(q.name for q in out.iterdir() if not q.name.startswith(".")) if out.is_dir() else []
    if held and not (out / TINY_MARK).is_file():
        raise InputError(f"{out_dir} ({flag})", f"holds {', '.join(held[:4])}{', ...' if len(held) > 4 else ''} "
                         f"and is no tiny model of meaningmaps (no {TINY_MARK}): the tiny model's config.json, weights "
                         "and tokenizer would be written among its files (over a model's own).",
                         "give a new or empty folder.")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", help="folder to write the model into: new, empty or an earlier tiny model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--image-size", type=int, default=56, help="a multiple of 14 (default 56)")
    ap.add_argument("--text-hidden", type=int, default=64, help="a multiple of 8 (default 64)")
    ap.add_argument("--text-layers", type=int, default=2, help="1 or more (default 2)")
    ap.add_argument("--vision-hidden", type=int, default=32, help="a multiple of 16 (default 32)")
    ap.add_argument("--tokenizer", default=None,
                    help="a Llama tokenizer.json or its folder: LLaVA-1.5's vocabulary (default: word-level)")
    a = ap.parse_args(argv)
    check_shape(a.image_size, a.text_hidden, a.text_layers, a.vision_hidden,
                names={k: "--" + k.replace("_", "-") for k in ("image_size", "text_hidden", "text_layers",
                                                               "vision_hidden")})
    if a.tokenizer is not None:
        tokenizer_file(a.tokenizer)  # a missing or wrong tokenizer: refused before anything is written
    check_out_dir(a.out_dir)
    print(build_tiny_llava(a.out_dir, seed=a.seed, image_size=a.image_size, text_hidden=a.text_hidden,
                           text_layers=a.text_layers, vision_hidden=a.vision_hidden, tokenizer=a.tokenizer))


if __name__ == "__main__":  # as `meaningmaps build-tiny`: bad input ends with one line, exit 2
    from ..cli import main as cli_main

    raise SystemExit(cli_main(["build-tiny", *sys.argv[1:]]))
