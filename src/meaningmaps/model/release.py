"""The model to share: ``models/all/release``, the adapter trained on every labelled scene with the
cross-validated scores of the same recipe in its card.

The ``all`` model is trained before anything is evaluated, so its adapter's card cannot know how
well the recipe predicts attention; the k-fold (or paper) models of the same study estimate that.
This step copies the adapter folder (hard links where the filesystem allows: no second copy of the
weights) and writes the card again with ``cross_validation``: the evaluation summary's row of the
``finetuned`` source (mean Pearson r over the held-out scenes with its bootstrap CI, and the other
means), the rating scheme and the number of scenes; null when the study has no evaluation.
Sharing this folder is enough to map new scenes elsewhere (``meaningmaps map --model``,
``model.finetuned_model``); the base weights come from the hub or a local copy.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import pandas as pd

from ..atomic import atomic_dir
from ..errors import InputError
from .card import CARD_NAME, read_card, write_card


def cross_validation(summary_csv, scheme: str, source: str = "finetuned") -> dict | None:
    """The summary row of ``source`` as plain JSON values, with the scheme that produced it."""
    if summary_csv is None:
        return None
    frame = pd.read_csv(summary_csv, dtype={"source": str})
    rows = frame[frame["source"] == source]
    if rows.empty:
        return None
    row = {k: (v.item() if hasattr(v, "item") else v) for k, v in rows.iloc[0].to_dict().items()}
    row = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
    return {"scheme": scheme, "measure": "per-scene Pearson r of the held-out scenes' maps with their "
            "attention maps (evaluation/summary.csv)", **row}


def release_model(adapter_dir, out_dir, summary_csv=None, scheme: str = "kfold") -> Path:
    """Write ``out_dir``: the adapter's files (hard-linked or copied) and its card with
    ``cross_validation`` filled in."""
    adapter_dir = Path(adapter_dir)
    card = read_card(adapter_dir)
    if card is None:
        raise InputError(adapter_dir / CARD_NAME, "does not exist.", "train the model again with this version.")
    with atomic_dir(out_dir) as tmp:
        for src in sorted(adapter_dir.rglob("*")):
            dst = Path(tmp) / src.relative_to(adapter_dir)
            if src.is_dir():
                dst.mkdir(parents=True, exist_ok=True)
            elif src.name != CARD_NAME:
                dst.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(src, dst)
                except OSError:  # another filesystem, or links not allowed
                    shutil.copy2(src, dst)
        write_card(tmp, {k: v for k, v in card.items() if k != "format"}
                   | {"cross_validation": cross_validation(summary_csv, scheme)})
    return Path(out_dir)
