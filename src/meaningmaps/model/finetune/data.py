"""Fine-tuning data: the question-answer rows, one example's tokens and labels, the batch padding.

Loss on the answer only: an example is ``prompt + " <category>" + eos`` (``prompt``: the run's prompt
text, :func:`meaningmaps.model.prompting.prompt_text` in the configured mode), and every label is -100
except the category's tokens and the end-of-sequence token.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ...errors import InputError
from ..prompting import QUESTION, answer_suffix, prompt_text
from ..qa_jsonl import read_jsonl

IGNORE_INDEX = -100


@dataclass(frozen=True)
class TrainRow:
    id: str
    image: Path
    answer: str
    line: int


def read_rows(jsonl, image_root) -> list[TrainRow]:
    """The training rows of a question-answer JSONL (either format), checked: an InputError names the
    file and the line for a malformed row, an answer that is not a category, a question other than
    the rating question (the model is trained on ``prompt_text(processor)``) or a missing image."""
    jsonl, image_root = Path(jsonl), Path(image_root)
    if not image_root.is_dir():
        raise InputError(image_root, "image root folder (for the training JSONL's relative image paths) "
                                     "does not exist.")
    rows = read_jsonl(jsonl, image_root, question=QUESTION)
    if not rows:
        raise InputError(jsonl, "training JSONL holds no rows.")
    return [TrainRow(id=r.id, image=image_root / r.image, answer=r.answer, line=n) for n, r in enumerate(rows, 1)]


def encode_example(processor, image, answer: str, prompt: str | None = None) -> dict:
    """Token ids, attention mask, labels and pixel values of one (image, answer) pair.

    The text is ``prompt + answer_suffix(answer) + eos`` (``prompt`` default: ``prompt_text(processor)``,
    the llava_v1 mode), tokenized by the processor
    (which expands ``<image>`` into the image tokens). Labels are -100 except on the answer's tokens
    and the end-of-sequence token. The prompt's token ids must be a prefix of the full text's (checked).
    """
    tok = processor.tokenizer
    prompt = prompt_text(processor) if prompt is None else prompt
    full = prompt + answer_suffix(answer) + tok.eos_token
    enc = processor(images=image, text=full, return_tensors="pt")
    ids = enc["input_ids"][0]
    image_token_id = tok.convert_tokens_to_ids(processor.image_token)
    n_image = int((ids == image_token_id).sum())
    # The prompt alone, with <image> expanded the way the processor expanded it in the full text.
    prompt_ids = tok(prompt.replace(processor.image_token, processor.image_token * n_image),
                     return_tensors="pt")["input_ids"][0]
    n_prompt = len(prompt_ids)
    if n_image == 0 or n_prompt >= len(ids) or not bool((ids[:n_prompt] == prompt_ids).all()):
        raise RuntimeError("tokenizing prompt + answer did not keep the prompt's tokens as a prefix "
                           f"({n_prompt} prompt tokens, {len(ids)} in all, {n_image} image tokens); "
                           "the answer tokens cannot be located exactly.")
    if int(ids[-1]) != tok.eos_token_id:
        raise RuntimeError("the tokenized text does not end with the end-of-sequence token.")
    labels = ids.clone()
    labels[:n_prompt] = IGNORE_INDEX
    return {"input_ids": ids, "attention_mask": enc["attention_mask"][0], "labels": labels,
            "pixel_values": enc["pixel_values"][0]}


class PatchRatingDataset:
    """Map-style dataset over :func:`read_rows`; items are :func:`encode_example` dicts (one prompt for all)."""

    def __init__(self, jsonl, image_root, processor, prompt: str | None = None):
        self.jsonl = Path(jsonl)
        self.rows = read_rows(jsonl, image_root)
        self.processor = processor
        self.prompt = prompt_text(processor) if prompt is None else prompt

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        row = self.rows[i]
        try:
            with Image.open(row.image) as im:
                image = im.convert("RGB")
        except OSError as exc:
            raise InputError(self.jsonl, f"line {row.line}: image {row.image} could not be read ({exc}).") from exc
        return encode_example(self.processor, image, row.answer, self.prompt)


class PadCollator:
    """Right-pads a batch: pad id in input_ids, 0 in the attention mask, -100 in the labels.

    Right padding keeps each real token's position (positions are counted from the left), so the loss
    of a row does not depend on what it is batched with.
    """

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, features: list[dict]) -> dict:
        import torch

        n = max(len(f["input_ids"]) for f in features)
        out = {"input_ids": torch.full((len(features), n), self.pad_token_id, dtype=torch.long),
               "attention_mask": torch.zeros((len(features), n), dtype=torch.long),
               "labels": torch.full((len(features), n), IGNORE_INDEX, dtype=torch.long)}
        for i, f in enumerate(features):
            k = len(f["input_ids"])
            out["input_ids"][i, :k] = f["input_ids"]
            out["attention_mask"][i, :k] = f["attention_mask"]
            out["labels"][i, :k] = f["labels"]
        out["pixel_values"] = torch.stack([f["pixel_values"] for f in features])
        return out
