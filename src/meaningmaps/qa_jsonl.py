"""Question-answer data for fine-tuning: the patch image the model sees and the JSONL files.

* Views: each RGBA patch (``patch_files``) alpha-composited on a background (black as the paper,
  where the result equals the patch's stored RGB, or grey / white), saved as RGB PNG.
* Records: one per patch, question = ``prompting.QUESTION``, answer = the patch's category, in
  the LLaVA conversation format (``{"id", "image", "conversations"}``, the format of the LLaVA
  training scripts) and the Hugging Face messages format (``{"id", "images", "messages"}``).
  Image paths are relative to the images root (``results/qa/images``): ``<scene>/<scale>_<k>.png``.
* :func:`read_jsonl` accepts either format and reports a bad row by file AND line number.

All files are written atomically (temp name, then rename).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from PIL import Image

from .atomic import atomic_path
from .errors import InputError
from .prompting import CATEGORIES, QUESTION

BACKGROUNDS = {"black": (0, 0, 0), "grey": (128, 128, 128), "white": (255, 255, 255)}
IMAGE_TAG = "<image>"


class QARow(NamedTuple):
    """One question-answer row, whatever the file format."""

    id: str
    image: str  # relative to the images root
    question: str
    answer: str


def composite(rgba, background: str = "black") -> Image.Image:
    """Alpha-composite an RGBA patch (uint8 array H x W x 4 or PIL image) on a plain background.

    ``out = round((rgb * a + bg * (255 - a)) / 255)`` per channel (exact integer arithmetic). On
    black with the toolkit's patches (alpha 0 or 255, RGB 0 outside) the result is the patch's RGB.
    """
    if background not in BACKGROUNDS:
        raise InputError("config", f"unknown background {background!r}.",
                         f"set model.background to one of {sorted(BACKGROUNDS)}.")
    arr = np.asarray(rgba.convert("RGBA") if isinstance(rgba, Image.Image) else rgba)
    if arr.ndim != 3 or arr.shape[2] != 4 or arr.dtype != np.uint8:
        raise ValueError(f"composite needs an H x W x 4 uint8 RGBA array, got {arr.shape} {arr.dtype}")
    a = arr[..., 3:4].astype(np.int32)
    rgb = arr[..., :3].astype(np.int32)
    bg = np.array(BACKGROUNDS[background], dtype=np.int32)
    out = (rgb * a + bg * (255 - a) + 127) // 255  # round half up; never a tie for integer inputs
    return Image.fromarray(out.astype(np.uint8), mode="RGB")


def write_scene_views(patch_dir, out_dir, background: str = "black", compress_level: int = 1) -> pd.DataFrame:
    """Write ``out_dir/<scale>_<k>.png`` (RGB, composited) for every row of ``patch_dir/index.csv``.

    Writes into ``<out_dir>.tmp`` and renames it onto ``out_dir`` at the end, so an interrupted job
    leaves no folder that looks complete. Returns the index frame.
    """
    patch_dir, out_dir = Path(patch_dir), Path(out_dir)
    index_path = patch_dir / "index.csv"
    if not index_path.is_file():
        raise InputError(index_path, "does not exist.", "cut the scene's patches first (patch_files).")
    index = pd.read_csv(index_path)
    missing = [c for c in ("scale", "k", "file") if c not in index.columns]
    if missing:
        raise InputError(index_path, f"lacks column(s) {missing}.", "cut the scene's patches again (patch_files).")
    composite(np.zeros((1, 1, 4), np.uint8), background)  # unknown background: fail before any work
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for scale, k, file in zip(index["scale"], index["k"], index["file"], strict=True):
        src = patch_dir / str(file)
        if not src.is_file():
            shutil.rmtree(tmp, ignore_errors=True)
            raise InputError(src, f"is listed in {index_path} but does not exist.",
                             "cut the scene's patches again (patch_files).")
        with Image.open(src) as im:
            view = composite(im, background)
        view.save(tmp / f"{scale}_{int(k)}.png", compress_level=compress_level)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return index


def make_record(id_: str, image: str, answer: str, question: str = QUESTION) -> dict:
    """One row in the LLaVA conversation format."""
    return {"id": id_, "image": image,
            "conversations": [{"from": "human", "value": f"{IMAGE_TAG}\n{question}"},
                              {"from": "gpt", "value": answer}]}


def scene_records(scene: str, labels_frame: pd.DataFrame) -> list[dict]:
    """One LLaVA-format record per patch of ``labels_frame`` (columns scale, k, category), in its order."""
    bad = sorted(set(labels_frame["category"]) - set(CATEGORIES))
    if bad:
        raise InputError(None, f"scene {scene}: label categories {bad} are not among {CATEGORIES}.",
                         "make the labels with meaningmaps.labels.")
    return [make_record(f"{scene}/{s}_{int(k)}", f"{scene}/{s}_{int(k)}.png", c)
            for s, k, c in zip(labels_frame["scale"], labels_frame["k"], labels_frame["category"], strict=True)]


def _question(record: dict) -> str:
    value = record["conversations"][0]["value"]
    return value[len(IMAGE_TAG):].lstrip("\n") if value.startswith(IMAGE_TAG) else value


def to_hf_messages(record: dict) -> dict:
    """A LLaVA-format record in the Hugging Face messages format (image first, then the question)."""
    return {"id": record["id"], "images": [record["image"]],
            "messages": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": _question(record)}]},
                         {"role": "assistant", "content": [{"type": "text",
                                                            "text": record["conversations"][1]["value"]}]}]}


def write_jsonl(path, records) -> None:
    """One JSON object per line, written atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def _parse(obj) -> QARow:
    """A row of either format as a QARow; KeyError/TypeError/ValueError/IndexError on a malformed row."""
    if not isinstance(obj, dict):
        raise TypeError("a row must be a JSON object")
    if "conversations" in obj:
        conv = obj["conversations"]
        if len(conv) != 2 or conv[0]["from"] != "human" or conv[1]["from"] != "gpt":
            raise ValueError("conversations must be [human turn, gpt turn]")
        if not conv[0]["value"].startswith(IMAGE_TAG):
            raise ValueError(f"the human turn must start with {IMAGE_TAG}")
        row = QARow(str(obj["id"]), obj["image"], _question(obj), conv[1]["value"])
    elif "messages" in obj:
        msgs, images = obj["messages"], obj["images"]
        if len(images) != 1 or len(msgs) != 2 or msgs[0]["role"] != "user" or msgs[1]["role"] != "assistant":
            raise ValueError("needs one image and messages [user, assistant]")
        user = msgs[0]["content"]
        if [c["type"] for c in user] != ["image", "text"]:
            raise ValueError("the user content must be [image, text]")
        answer = [c["text"] for c in msgs[1]["content"] if c["type"] == "text"]
        if len(answer) != 1:
            raise ValueError("the assistant content must be one text")
        row = QARow(str(obj["id"]), images[0], user[1]["text"], answer[0])
    else:
        raise KeyError("conversations' or 'messages")
    if not isinstance(row.image, str) or not isinstance(row.question, str) or not isinstance(row.answer, str):
        raise TypeError("image, question and answer must be strings")
    if row.answer not in CATEGORIES:
        raise ValueError(f"answer {row.answer!r} is not one of the six categories {CATEGORIES}")
    return row


def read_jsonl(path, image_root=None, question: str | None = None) -> list[QARow]:
    """Rows of a JSONL file in either format, as QARow(id, image, question, answer).

    Blank lines are skipped. A line that is not JSON, lacks a key, has an answer that is not one
    of the six categories or repeats an id fails with an InputError naming the file and the line
    (1-based). With ``image_root`` every row's image must exist under it; with ``question`` every
    row must ask exactly that question (training must see the question it is trained on).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "does not exist.", "make the question-answer files first (qa_jsonl).")
    root = Path(image_root) if image_root is not None else None
    rows, seen = [], {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = _parse(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(path, f"line {n}: not valid JSON ({exc.msg}).",
                                 "rewrite the file with meaningmaps.qa_jsonl.write_jsonl.") from exc
            except KeyError as exc:
                raise InputError(path, f"line {n}: missing key {exc}.",
                                 "each row needs id, image and conversations (LLaVA) or id, images and messages (HF)."
                                 ) from exc
            except (TypeError, ValueError, IndexError) as exc:
                raise InputError(path, f"line {n}: malformed row ({exc}).",
                                 "rewrite the file with meaningmaps.qa_jsonl.write_jsonl.") from exc
            if row.id in seen:
                raise InputError(path, f"line {n}: id {row.id!r} repeats line {seen[row.id]}.",
                                 "list every patch once (is a scene in two inputs?).")
            seen[row.id] = n
            if question is not None and row.question.strip() != question:
                raise InputError(path, f"line {n}: the question is not the rating question "
                                 "(meaningmaps.prompting.QUESTION), word for word.",
                                 "make the file with meaningmaps.qa_jsonl.scene_records.")
            if root is not None and not (root / row.image).is_file():
                raise InputError(path, f"line {n}: image {root / row.image} does not exist.",
                                 f"make the patch views under {root} (qa_jsonl.write_scene_views) or fix the path.")
            rows.append(row)
    return rows


def concat_jsonl(paths, out_llava, out_hf) -> int:
    """Concatenate JSONL files (either format) into one LLaVA-format and one HF-format file.

    Every input is checked by :func:`read_jsonl` (ids must be unique across all inputs). Returns
    the number of rows.
    """
    records, seen = [], {}
    for p in paths:
        for row in read_jsonl(p):
            if row.id in seen:
                raise InputError(p, f"id {row.id!r} is also in {seen[row.id]}.", "list every scene once.")
            seen[row.id] = p
            records.append(make_record(row.id, row.image, row.answer, row.question))
    write_jsonl(out_llava, records)
    write_jsonl(out_hf, [to_hf_messages(r) for r in records])
    return len(records)


def write_split_jsonl(scene_jsonls: dict, train_scenes, test_scenes, out_dir) -> dict[str, Path]:
    """``out_dir/{train,test}.jsonl`` (LLaVA) and ``{train,test}.hf.jsonl`` (HF) from per-scene files.

    Scenes are concatenated in the order given. Refuses a scene in both sets or without a file.
    Returns name -> path of the four files.
    """
    train_scenes, test_scenes = [str(s) for s in train_scenes], [str(s) for s in test_scenes]
    both = sorted(set(train_scenes) & set(test_scenes))
    if both:
        raise InputError("config", f"scene(s) {both[:5]} are in both the training and the test set.",
                         "split by scene: every scene goes to exactly one side.")
    lacking = [s for s in train_scenes + test_scenes if s not in scene_jsonls]
    if lacking:
        raise InputError(None, f"no question-answer file for scene(s) {lacking[:5]}.",
                         "make the scenes' JSONL (qa_jsonl.scene_records) first.")
    out_dir = Path(out_dir)
    out = {}
    for side, scenes in (("train", train_scenes), ("test", test_scenes)):
        out[side], out[f"{side}.hf"] = out_dir / f"{side}.jsonl", out_dir / f"{side}.hf.jsonl"
        concat_jsonl([scene_jsonls[s] for s in scenes], out[side], out[f"{side}.hf"])
    return out
