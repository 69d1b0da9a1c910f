"""Question-answer data for fine-tuning: the patch image the model sees and the JSONL files.

* Views: each RGBA patch (``patch_files``) alpha-composited on a background (black as the paper,
  where the result equals the patch's stored RGB, or grey / white), then, under ``image_aspect:
  pad`` (LLaVA-1.5's ``image_aspect_ratio pad``), a non-square view (a patch clipped by the image
  border) is pasted centred on a square of the pad fill (:func:`expand_to_square`); saved as RGB
  PNG. The saved view is exactly the image handed to the processor, in training and inference.
* Records: one per patch, question = ``prompting.QUESTION``, answer = the patch's category, in
  the LLaVA conversation format (``{"id", "image", "conversations"}``, the format of the LLaVA
  training scripts) and the Hugging Face messages format (``{"id", "images", "messages"}``).
  Image paths are relative to the images root (``results/qa/images``): ``<scene>/<scale>_<k>.png``.
* :func:`read_jsonl` accepts either format and reports a bad row by file AND line number.

All files are written atomically (temp name, then rename).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from PIL import Image

from ..atomic import atomic_dir, atomic_path
from ..errors import InputError
from .loading import load_processor
from .prompting import CATEGORIES, QUESTION

BACKGROUNDS = {"black": (0, 0, 0), "grey": (128, 128, 128), "white": (255, 255, 255)}
IMAGE_ASPECTS = ("pad", "crop")
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


def expand_to_square(image: Image.Image, fill) -> Image.Image:
    """A non-square image pasted centred on a square canvas of colour ``fill``; a square one as it is.

    LLaVA-1.5's ``expand2square`` (llava/mm_utils.py, applied before the image processor under
    ``image_aspect_ratio pad`` in training and inference): side ``max(w, h)``, paste offset
    ``(0, (w - h) // 2)`` when wider, ``((h - w) // 2, 0)`` when taller. The processor's resize and
    centre crop then keep the whole image.
    """
    w, h = image.size
    if w == h:
        return image
    side = max(w, h)
    result = Image.new(image.mode, (side, side), tuple(fill))
    result.paste(image, (0, (w - h) // 2) if w > h else ((h - w) // 2, 0))
    return result


def processor_fill(processor) -> tuple[int, int, int]:
    """LLaVA's pad colour: ``int(x * 255)`` of the image processor's ``image_mean`` ((122, 116, 104) for CLIP).

    ``processor`` is an image processor or a processor holding one (``.image_processor``).
    """
    image_processor = getattr(processor, "image_processor", processor)
    mean = getattr(image_processor, "image_mean", None)
    if mean is None or len(mean) != 3:
        raise InputError("model.pad_fill", f"the image processor {type(image_processor).__name__} has no "
                         f"3-channel image_mean (got {mean!r}).", "set model.pad_fill to [r, g, b].")
    return tuple(int(float(x) * 255) for x in mean)


def check_view_settings(aspect: str, pad_fill) -> None:
    """Refuse an unknown ``model.image_aspect`` or a ``model.pad_fill`` that is neither processor nor [r, g, b]."""
    if aspect not in IMAGE_ASPECTS:
        raise InputError("config", f"model.image_aspect is {aspect!r}.",
                         f"set model.image_aspect to one of {list(IMAGE_ASPECTS)} (pad: LLaVA-1.5's).")
    if pad_fill == "processor":
        return
    ok = (isinstance(pad_fill, (list, tuple)) and len(pad_fill) == 3
          and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v <= 255 for v in pad_fill))
    if not ok:
        raise InputError("config", f"model.pad_fill is {pad_fill!r}.",
                         "set model.pad_fill to processor (the image processor's mean, as LLaVA) "
                         "or to three integers [r, g, b] in 0..255.")


def needs_processor(aspect: str, pad_fill) -> bool:
    """Whether the views need the base model's image processor (only for its mean colour)."""
    check_view_settings(aspect, pad_fill)
    return aspect == "pad" and pad_fill == "processor"


def resolve_pad_fill(aspect: str, pad_fill, model: str | None = None) -> tuple[int, int, int] | None:
    """The fill colour the views use: None under crop, [r, g, b] as given, or the processor's mean.

    Loads the processor of ``model`` (the base model) only when ``pad_fill`` is processor.
    """
    if not needs_processor(aspect, pad_fill):
        return None if aspect == "crop" else tuple(int(v) for v in pad_fill)
    if model is None:
        raise InputError("model.pad_fill", "is processor but no base model was given.",
                         "pass the base model (model.base), or set model.pad_fill to [r, g, b].")
    return processor_fill(load_processor(str(model)))


def crop_cut_fraction(visible: np.ndarray) -> float:
    """Fraction of the visible pixels (H x W bool) outside the centre square a shortest-edge resize +
    centre crop (the CLIP processor) keeps: the part of a non-square view the model would not see.

    Geometric (pixel centres, no resampling): the kept band is ``[(L - s) / 2, (L + s) / 2)`` along
    the longer side L, s the shorter side. 0 for a square view.
    """
    visible = np.asarray(visible, dtype=bool)
    h, w = visible.shape
    n = int(visible.sum())
    if h == w or n == 0:
        return 0.0
    s, long_ = min(h, w), max(h, w)
    centres = np.arange(long_) + 0.5
    kept = (centres >= (long_ - s) / 2) & (centres < (long_ + s) / 2)
    per_line = visible.sum(axis=1 if h > w else 0)  # visible pixels per row (taller) or column (wider)
    return float(per_line[~kept].sum() / n)


def make_view(rgba, background: str = "black", aspect: str = "crop", fill=None) -> Image.Image:
    """The image the model sees: the patch composited on ``background``, then padded to square under pad."""
    check_view_settings(aspect, "processor" if fill is None else fill)
    view = composite(rgba, background)
    if aspect == "crop":
        return view
    if fill is None:
        raise InputError("model.pad_fill", "image_aspect is pad but no fill colour was given.",
                         "pass the fill [r, g, b] (qa_jsonl.resolve_pad_fill).")
    return expand_to_square(view, fill)


def write_scene_views(patch_dir, out_dir, background: str = "black", compress_level: int = 1, *,
                      aspect: str = "crop", fill=None) -> pd.DataFrame:
    """Write ``out_dir/<scale>_<k>.png`` (RGB, :func:`make_view`) for every row of ``patch_dir/index.csv``.

    ``aspect`` pad pastes a non-square view on a square of ``fill`` (LLaVA-1.5; the workflow's
    default), crop (this function's default, for callers predating it) writes it as it is.
    Writes into a temporary folder unique to this job and moves it onto ``out_dir`` at the end, so an
    interrupted job leaves no folder that looks complete. Returns the index frame plus ``patch_width``,
    ``patch_height``, ``padded`` (bool) and ``crop_cut`` (:func:`crop_cut_fraction` of the patch).
    """
    patch_dir, out_dir = Path(patch_dir), Path(out_dir)
    index_path = patch_dir / "index.csv"
    if not index_path.is_file():
        raise InputError(index_path, "does not exist.", "cut the scene's patches first (patch_files).")
    index = pd.read_csv(index_path)
    missing = [c for c in ("scale", "k", "file") if c not in index.columns]
    if missing:
        raise InputError(index_path, f"lacks column(s) {missing}.", "cut the scene's patches again (patch_files).")
    make_view(np.zeros((1, 2, 4), np.uint8), background, aspect, fill)  # bad settings: fail before any work
    sizes, cuts = [], []
    with atomic_dir(out_dir) as tmp:  # a temporary unique to this job, moved onto out_dir when complete
        for scale, k, file in zip(index["scale"], index["k"], index["file"], strict=True):
            src = patch_dir / str(file)
            if not src.is_file():
                raise InputError(src, f"is listed in {index_path} but does not exist.",
                                 "cut the scene's patches again (patch_files).")
            with Image.open(src) as im:
                rgba = np.asarray(im.convert("RGBA"))
            make_view(rgba, background, aspect, fill).save(tmp / f"{scale}_{int(k)}.png",
                                                           compress_level=compress_level)
            sizes.append(rgba.shape[1::-1])
            cuts.append(crop_cut_fraction(rgba[..., 3] > 0))
    out = index.copy()
    out["patch_width"] = [w for w, _ in sizes]
    out["patch_height"] = [h for _, h in sizes]
    out["padded"] = (out["patch_width"] != out["patch_height"]) & (aspect == "pad")
    out["crop_cut"] = cuts
    return out


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
                         "make the labels with meaningmaps.model.labels.")
    return [make_record(f"{scene}/{s}_{int(k)}", f"{scene}/{s}_{int(k)}.png", c)
            for s, k, c in zip(labels_frame["scale"], labels_frame["k"], labels_frame["category"], strict=True)]


def _question(record: dict) -> str:
    value = record["conversations"][0]["value"]
    return value[len(IMAGE_TAG):].lstrip("\n") if value.startswith(IMAGE_TAG) else value


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
    else:
        raise KeyError("conversations")
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
                                 "rewrite the file with meaningmaps.model.qa_jsonl.write_jsonl.") from exc
            except KeyError as exc:
                raise InputError(path, f"line {n}: missing key {exc}.",
                                 "each row needs id, image and conversations (LLaVA) or id, images and messages (HF)."
                                 ) from exc
            except (TypeError, ValueError, IndexError) as exc:
                raise InputError(path, f"line {n}: malformed row ({exc}).",
                                 "rewrite the file with meaningmaps.model.qa_jsonl.write_jsonl.") from exc
            if row.id in seen:
                raise InputError(path, f"line {n}: id {row.id!r} repeats line {seen[row.id]}.",
                                 "list every patch once (is a scene in two inputs?).")
            seen[row.id] = n
            if question is not None and row.question.strip() != question:
                raise InputError(path, f"line {n}: the question is not the rating question "
                                 "(meaningmaps.model.prompting.QUESTION), word for word.",
                                 "make the file with meaningmaps.model.qa_jsonl.scene_records.")
            if root is not None and not (root / row.image).is_file():
                raise InputError(path, f"line {n}: image {root / row.image} does not exist.",
                                 f"make the patch views under {root} (qa_jsonl.write_scene_views) or fix the path.")
            rows.append(row)
    return rows


def concat_jsonl(paths, out) -> int:
    """Concatenate per-scene JSONL files into one (a fold's training or test set).

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
    write_jsonl(out, records)
    return len(records)
