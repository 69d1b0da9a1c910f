"""Rate a scene's patch views with LLaVA: one row per patch, written atomically to a CSV.

Two modes:

* ``score`` (default): the exact log-probability of each of the six answers
  (:func:`meaningmaps.model.answer_scoring.score_answers`), normalised over the six (``p_very_low`` ...
  ``p_very_high``), their total ``p_mass`` before normalising, the ``expected`` rating
  ``sum_k p_k * k`` and the ``argmax`` category / ``argmax_rating``;
* ``generate``: the paper's inference (greedy decoding, one patch per ``generate`` call by default).
  The ``answer`` text is kept, ``argmax`` is the parsed category, ``expected`` and ``argmax_rating``
  are its rating (NaN when the answer names no category), the ``p_*`` columns and ``p_mass`` are NaN.

``rating`` is the value the meaning map uses: ``expected`` (``map_from="expected"``, default) or
``argmax_rating`` (``map_from="argmax"``); in generate mode both are the parsed category's rating.

How a generated answer names a category is ``match`` (``words``: whole words anywhere, any case;
``paper_table``: the paper's case-sensitive table of whole answers). An unparsable answer never
becomes a rating silently; ``unparsable`` says what happens: ``error`` (default): :func:`rate_scene`
fails, naming the patches and their answers; ``zero``: its rating is 0, as the paper's
``generate_meaning_map.py`` scored it, and it counts in the map like any other; ``drop``: the patch
is left out of the CSV (the map builder treats it as unrated, the map made from the rest), and how
many were dropped is reported.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from ..atomic import save_csv
from ..errors import InputError
from .answer_scoring import (
    SCORING_METHODS,
    answer_probabilities,
    category_rating,
    generate_answers,
    probability_columns,
    score_answers,
)
from .loading import load_llava
from .prompting import CATEGORIES

MODES = ("score", "generate")
UNPARSABLE = ("error", "zero", "drop")
MAP_FROM = ("expected", "argmax")


def output_columns(mode: str = "score") -> list[str]:
    """The CSV's columns, in order."""
    cols = ["scale", "k", *probability_columns(CATEGORIES), "p_mass", "expected", "argmax", "argmax_rating"]
    if mode == "generate":
        cols.append("answer")
    return cols + ["rating"]


def _check_choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


def load_view(image, name=None):
    """A PIL RGB image from a PIL image or a path. Images with an alpha channel are refused: the model
    views are RGB, and dropping alpha would show the raw patch's black outside-the-circle pixels."""
    if isinstance(image, (str, Path)):
        name = name or image
        try:
            with Image.open(image) as im:
                im.load()
                image = im.copy()
        except (OSError, ValueError) as exc:
            raise InputError(name, f"cannot be read as an image ({exc}).",
                             "rewrite the patch views (delete the views folder and rerun its step).") from exc
    if not isinstance(image, Image.Image):
        raise TypeError(f"expected a PIL image or a path, got {type(image).__name__}")
    if image.mode == "RGB":
        return image
    if "A" in image.getbands() or "transparency" in image.info:
        raise InputError(name or "patch image", f"has an alpha channel (mode {image.mode}); the model sees RGB "
                         "views of the patches, not the RGBA patch cut-outs.",
                         "point views_dir at the folder of RGB model views.")
    return image.convert("RGB")


def rate_patches(model, processor, items, mode: str = "score", batch_size: int = 16, max_new_tokens: int = 512,
                 progress: bool = True, map_from: str = "expected", prompt: str | None = None,
                 scoring: str = "cached", match: str = "words", **generate_kwargs) -> pd.DataFrame:
    """One row per ``(scale, k, image)`` item, columns :func:`output_columns` (see the module doc).

    ``image`` is a PIL image or a path. Images are loaded ``batch_size`` at a time. ``progress`` shows
    a tqdm bar over patches on stderr. ``prompt``: the prompt text (default: ``prompt_text(processor)``,
    the llava_v1 mode; the workflow passes ``qa/prompt.txt``). ``scoring``: score mode's method,
    ``cached`` or ``tree`` (:func:`score_answers`' ``method``). ``generate_kwargs`` go to
    ``model.generate`` in generate mode.
    """
    from tqdm import tqdm

    _check_choice("mode", mode, MODES)
    _check_choice("map_from", map_from, MAP_FROM)
    _check_choice("scoring", scoring, SCORING_METHODS)
    items = list(items)
    keys = [(str(s), int(k)) for s, k, _ in items]
    if len(set(keys)) != len(keys):
        dup = next(key for key in keys if keys.count(key) > 1)
        raise ValueError(f"patch {dup} occurs more than once.")
    pcols = probability_columns(CATEGORIES)
    parts = []
    with tqdm(total=len(items), desc=f"rating patches ({mode})", unit="patch", disable=not progress,
              file=sys.stderr) as bar:
        for start in range(0, len(items), batch_size):
            chunk = items[start:start + batch_size]
            images = [load_view(img, f"{s}_{k}") for s, k, img in chunk]
            if mode == "score":
                part = answer_probabilities(score_answers(model, processor, images, batch_size=batch_size,
                                                          prompts=prompt, method=scoring))
            else:
                answers = generate_answers(model, processor, images, max_new_tokens=max_new_tokens,
                                           batch_size=batch_size, prompts=prompt, match=match, **generate_kwargs)
                ratings = [category_rating(c) for _, c in answers]
                part = pd.DataFrame({c: np.nan for c in pcols}, index=range(len(chunk)))
                part["p_mass"] = np.nan
                part["expected"] = ratings
                part["argmax"] = [c for _, c in answers]
                part["argmax_rating"] = pd.array([None if c is None else int(r) for (_, c), r
                                                  in zip(answers, ratings)], dtype="Int64")
                part["answer"] = [t for t, _ in answers]
            parts.append(part)
            bar.update(len(chunk))
    if parts:
        frame = pd.concat(parts, ignore_index=True)
    else:
        frame = pd.DataFrame(columns=[c for c in output_columns(mode) if c not in ("scale", "k", "rating")])
    frame.insert(0, "scale", [s for s, _ in keys])
    frame.insert(1, "k", [k for _, k in keys])
    if mode == "generate":
        frame["rating"] = frame["expected"]
    else:
        frame["rating"] = frame["expected"] if map_from == "expected" else frame["argmax_rating"].astype(float)
    return frame[output_columns(mode)]


def read_view_items(views_dir, index_csv) -> list[tuple[str, int, Path]]:
    """``(scale, k, <views_dir>/<scale>_<k>.png)`` for every row of the patch index; every file must exist."""
    views_dir, index_csv = Path(views_dir), Path(index_csv)
    if not index_csv.is_file():
        raise InputError(index_csv, "(the patch index) does not exist.", "run the patch step for this scene first.")
    index = pd.read_csv(index_csv)
    missing_cols = {"scale", "k"} - set(index.columns)
    if missing_cols:
        raise InputError(index_csv, f"has no column(s) {sorted(missing_cols)}.",
                         "use the index.csv the patch step writes (columns scale, k, file, ...).")
    if index.empty:
        raise InputError(index_csv, "lists no patches.", "rerun the patch step for this scene.")
    if index.duplicated(["scale", "k"]).any():
        raise InputError(index_csv, "lists a (scale, k) patch more than once.", "rerun the patch step.")
    if not views_dir.is_dir():
        raise InputError(views_dir, "(the patch views folder) does not exist.",
                         "run the step that writes the model views for this scene first.")
    items = [(str(s), int(k), views_dir / f"{s}_{int(k)}.png") for s, k in zip(index["scale"], index["k"])]
    missing = [p for _, _, p in items if not p.is_file()]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(missing[0], f"is missing{more}: {index_csv} lists it but the views folder lacks it.",
                         "rerun the step that writes the model views for this scene.")
    return items


def rate_scene(model_path, views_dir, index_csv, out_csv, *, mode: str = "score", batch_size: int = 16,
               device: str = "auto", dtype: str = "auto", map_from: str = "expected", max_new_tokens: int = 512,
               drop_unparsable: bool = False, progress: bool = True, model_and_processor=None,
               prompt: str | None = None, scoring: str = "cached", match: str = "words",
               unparsable: str = "error") -> pd.DataFrame:
    """Rate every patch view the index lists and write ``out_csv`` atomically; return the frame.

    Inputs are checked (index, every view file) before the model is loaded. ``model_and_processor``:
    an already loaded ``(model, processor)`` to reuse across scenes instead of loading ``model_path``.
    ``prompt``, ``scoring``: see :func:`rate_patches`.
    In generate mode an answer that names no category (by ``match``) raises :class:`InputError` (no
    CSV is written) under ``unparsable="error"``; ``"zero"`` rates it 0 (the paper's), ``"drop"`` (or
    ``drop_unparsable=True``) leaves those patches out of the CSV.
    """
    _check_choice("mode", mode, MODES)
    _check_choice("map_from", map_from, MAP_FROM)
    _check_choice("scoring", scoring, SCORING_METHODS)
    _check_choice("unparsable", unparsable, UNPARSABLE)
    unparsable = "drop" if drop_unparsable else unparsable
    items = read_view_items(views_dir, index_csv)
    if model_and_processor is None:
        model, processor = load_llava(str(model_path), device=device, dtype=dtype)
    else:
        model, processor = model_and_processor
    frame = rate_patches(model, processor, items, mode=mode, batch_size=batch_size,
                         max_new_tokens=max_new_tokens, progress=progress, map_from=map_from, prompt=prompt,
                         scoring=scoring, match=match)
    if mode == "generate":
        bad = frame["argmax"].isna()
        if bad.any() and unparsable == "zero":
            print(f"rate_scene: {int(bad.sum())} of {len(frame)} answers name no category: rated 0 (the paper's)",
                  file=sys.stderr)
            frame.loc[bad, ["expected", "rating"]] = 0.0
        elif bad.any():
            if unparsable == "error":
                shown = "; ".join(f"{s}_{k}: {a[:80]!r}" for s, k, a in
                                  frame.loc[bad, ["scale", "k", "answer"]].head(5).itertuples(index=False))
                raise InputError(out_csv, f"{int(bad.sum())} of {len(frame)} generated answers name no category "
                                 f"({shown}), so they have no rating; no CSV was written.",
                                 "use mode 'score' (exact probabilities of the six answers), or set "
                                 "model.inference.unparsable: zero (the paper's 0) or drop (the patches unrated).")
            print(f"rate_scene: dropped {int(bad.sum())} of {len(frame)} patches whose answer names no category",
                  file=sys.stderr)
            frame = frame.loc[~bad].reset_index(drop=True)
    save_csv(out_csv, frame)
    return frame
