"""Token ids as the original LLaVA code made them: Llama's SentencePiece BPE, not the fast tokenizer.

LLaVA trained and rated with the slow (SentencePiece) Llama tokenizer (``use_fast=False`` in
``llava/train/train.py`` and ``llava/model/builder.py``) and ``tokenizer_image_token``
(``llava/mm_utils.py``: each chunk around ``<image>`` tokenized on its own, one BOS). The fast
tokenizer (``tokenizer.json``) that transformers 5 loads merges runs of spaces differently
(``"\\n    Provide"``: fast ``▁▁▁▁ Pro v ide``, SentencePiece ``▁▁▁ ▁Prov ide``) and adds no ``▁``
before a text that starts with a space, so the paper's indented rating query is 103 ids fast
against the 102 the paper's model saw.

:func:`sentencepiece_encode` is SentencePiece's BPE encoding (``bpe_model.cc``) over the tokenizer's
own vocabulary: ``" "`` -> ``"▁"`` and one ``"▁"`` prepended (``add_dummy_prefix``; no other
normalisation: Llama's ``identity`` normaliser keeps runs of spaces), then, among the adjacent symbol
pairs whose concatenation is a vocabulary piece, the one of highest score is merged (ties: the
leftmost), until none is left; a symbol that is no piece falls back to its UTF-8 bytes
(``<0xXX>``). Llama-2's scores follow its piece ids (score = 259 - id) except the 16 pieces made of
``▁`` only, which score -1e9 (merged last): :func:`llama_scores` rebuilds them from the vocabulary;
``tests/test_sentencepiece_ids.py`` checks the encoding against the ``sentencepiece`` library on
``tokenizer.model``. Used by ``model.prompt: paper`` (:func:`llava_ids`, :class:`SentencePieceIds`).
"""

from __future__ import annotations

import re

SPACE = "\u2581"
#: Llama-2's whitespace-only pieces score -1e9 in tokenizer.model (they are merged last)
WHITESPACE_SCORE = -1e9


def is_llama_sentencepiece(tokenizer) -> bool:
    """Whether ``tokenizer`` has Llama(-2)'s SentencePiece vocabulary (byte pieces 3..258, ``▁▁`` 259,
    ``▁`` 29871), which :func:`llama_scores` knows the scores of."""
    vocab = tokenizer.get_vocab()
    return (vocab.get("<0x0A>") == 13 and vocab.get(SPACE * 2) == 259 and vocab.get(SPACE) == 29871
            and vocab.get("<s>") == 1 and vocab.get("</s>") == 2)


def llama_scores(vocab: dict[str, int]) -> dict[str, float]:
    """The BPE merge scores of Llama-2's normal pieces (ids 259..31999), from their ids."""
    out = {}
    for piece, i in vocab.items():
        if 259 <= i < 32000:
            out[piece] = WHITESPACE_SCORE if set(piece) == {SPACE} else float(259 - i)
    return out


def sentencepiece_encode(text: str, vocab: dict[str, int], scores: dict[str, float]) -> list[int]:
    """SentencePiece BPE ids of ``text`` (no BOS), as ``SentencePieceProcessor.encode(text)``."""
    if not text:
        return []
    symbols = list(SPACE + text.replace(" ", SPACE))
    while len(symbols) > 1:
        best, where = None, -1
        for i in range(len(symbols) - 1):
            s = scores.get(symbols[i] + symbols[i + 1])
            if s is not None and (best is None or s > best):
                best, where = s, i
        if where < 0:
            break
        symbols[where:where + 2] = [symbols[where] + symbols[where + 1]]
    ids = []
    for sym in symbols:
        if sym in scores:
            ids.append(vocab[sym])
        else:
            ids.extend(vocab[f"<0x{b:02X}>"] for b in sym.encode("utf-8"))
    return ids


class SentencePieceIds:
    """``tokenizer_image_token`` with the slow tokenizer's ids, for a Llama-2 SentencePiece vocabulary.

    :meth:`ids` of a text holding image placeholders and special tokens (``</s>``): BOS, then each
    piece of text between them encoded on its own by :func:`sentencepiece_encode`, each special
    token as its id, each placeholder as ``n_image`` image-token ids (the processor's expansion).
    (Text after a special token is encoded like any chunk, with its ``▁`` prefix; the prompts here
    have nothing after their one ``</s>``.)
    """

    def __init__(self, tokenizer, image_token: str = "<image>"):
        if not is_llama_sentencepiece(tokenizer):
            raise ValueError("the tokenizer does not have Llama-2's SentencePiece vocabulary, so the original "
                             "LLaVA token ids cannot be rebuilt.")
        self.vocab = tokenizer.get_vocab()
        self.scores = llama_scores(self.vocab)
        self.bos = int(tokenizer.bos_token_id)
        self.image_token = image_token
        self.image_id = int(tokenizer.convert_tokens_to_ids(image_token))
        specials = [t for t in tokenizer.all_special_tokens if t and t != image_token]
        self.special_ids = {t: int(tokenizer.convert_tokens_to_ids(t)) for t in specials}
        self._split = re.compile("(" + "|".join(map(re.escape, [image_token] + sorted(specials, key=len,
                                                                                          reverse=True))) + ")")

    def encode(self, text: str) -> list[int]:
        """Plain text (no placeholder, no special token) as SentencePiece encodes it."""
        return sentencepiece_encode(text, self.vocab, self.scores)

    def ids(self, text: str, n_image: int = 1, bos: bool = True) -> list[int]:
        out = [self.bos] if bos else []
        for part in self._split.split(text):
            if part == self.image_token:
                out.extend([self.image_id] * n_image)
            elif part in self.special_ids:
                out.append(self.special_ids[part])
            elif part:
                out.extend(self.encode(part))
        return out


class _Tokenizer:
    """The processor's tokenizer, but ``tokenizer(text)`` gives :meth:`SentencePieceIds.ids` (one id
    per image placeholder written out); everything else (decoding, special ids, padding side) is the
    wrapped tokenizer's."""

    def __init__(self, inner, ids: SentencePieceIds):
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_ids", ids)

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def __setattr__(self, name, value):
        setattr(self._inner, name, value)

    def __call__(self, text, return_tensors=None, **kwargs):
        if not isinstance(text, str):
            raise TypeError("the SentencePiece-id tokenizer takes one text at a time.")
        ids = self._ids.ids(text, n_image=1)
        if return_tensors == "pt":
            import torch

            return {"input_ids": torch.tensor([ids]), "attention_mask": torch.ones(1, len(ids), dtype=torch.long)}
        return {"input_ids": ids, "attention_mask": [1] * len(ids)}


class SentencePieceIdsProcessor:
    """A LLaVA processor whose token ids are the original LLaVA code's (:class:`SentencePieceIds`):
    the wrapped processor makes the pixel values and expands each image placeholder, and its ids are
    replaced by the SentencePiece ids of the same texts, with as many image tokens, padded on the
    tokenizer's padding side."""

    def __init__(self, inner):
        self._inner = inner
        self._ids = SentencePieceIds(inner.tokenizer, inner.image_token)
        self.tokenizer = _Tokenizer(inner.tokenizer, self._ids)

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def __call__(self, images=None, text=None, return_tensors="pt", padding=False, **kwargs):
        import torch

        enc = self._inner(images=images, text=text, return_tensors="pt", padding=True, **kwargs)
        texts = [text] if isinstance(text, str) else list(text)
        rows = []
        for t, row in zip(texts, enc["input_ids"], strict=True):
            placeholders = t.count(self._ids.image_token)
            n_image = int((row == self._ids.image_id).sum()) // max(placeholders, 1)
            rows.append(self._ids.ids(t, n_image=n_image))
        n = max(len(r) for r in rows)
        pad = self._inner.tokenizer.pad_token_id
        pad = self._inner.tokenizer.eos_token_id if pad is None else pad
        left = getattr(self._inner.tokenizer, "padding_side", "right") == "left"
        ids = torch.full((len(rows), n), int(pad), dtype=torch.long)
        mask = torch.zeros((len(rows), n), dtype=torch.long)
        for i, r in enumerate(rows):
            sl = slice(n - len(r), n) if left else slice(0, len(r))
            ids[i, sl] = torch.tensor(r, dtype=torch.long)
            mask[i, sl] = 1
        enc["input_ids"], enc["attention_mask"] = ids, mask
        return enc


def paper_processor(processor):
    """``processor`` with the original LLaVA code's ids when its vocabulary is Llama-2's SentencePiece
    one; else ``processor`` itself (a vocabulary without SentencePiece pieces, as the demo's tiny
    model's, has no such ids). Returns ``(processor, "sentencepiece" | "processor")``."""
    if isinstance(processor, SentencePieceIdsProcessor):
        return processor, "sentencepiece"
    if is_llama_sentencepiece(processor.tokenizer):
        return SentencePieceIdsProcessor(processor), "sentencepiece"
    return processor, "processor"
