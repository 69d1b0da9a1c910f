"""The training loss curve of a fine-tuning run: a CSV table and a PNG plot.

The rows come from the HF Trainer's ``state.log_history`` (one entry per logging step; the final
summary entry, which has ``train_loss`` rather than ``loss``, is left out). A resumed run's history
includes the entries up to its checkpoint, so the curve spans the whole run.
"""

from __future__ import annotations

import math
from pathlib import Path

from .atomic import atomic_path, save_csv

COLUMNS = ("step", "epoch", "loss", "learning_rate", "grad_norm")


def loss_rows(log_history) -> list[dict]:
    """One dict per logged training step (columns :data:`COLUMNS`; missing values are NaN), by step."""
    rows = {}
    for entry in log_history:
        if "loss" not in entry or "step" not in entry:
            continue
        rows[int(entry["step"])] = {c: _num(entry.get(c)) for c in COLUMNS}
        rows[int(entry["step"])]["step"] = int(entry["step"])
    return [rows[k] for k in sorted(rows)]


def _num(v) -> float:
    if v is None:
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def write_loss_csv(rows, path) -> Path:
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=list(COLUMNS))
    save_csv(path, frame)
    return Path(path)


def plot_loss(rows, path, title: str = "fine-tuning loss (answer tokens)") -> Path:
    """Loss against step (and the learning rate on a second axis when logged), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(rows)
    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    ax.plot(steps, [r["loss"] for r in rows], color="C0", marker="." if len(rows) < 50 else None, lw=1)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss", color="C0")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    lrs = [r["learning_rate"] for r in rows]
    if any(not math.isnan(v) for v in lrs):
        ax2 = ax.twinx()
        ax2.plot(steps, lrs, color="C1", lw=0.8, alpha=0.7)
        ax2.set_ylabel("learning rate (LoRA)", color="C1")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return Path(path)


def write_loss_curve(log_history, csv_path, png_path) -> tuple[Path, Path]:
    """``loss.csv`` and ``loss.png`` from a Trainer's log history."""
    rows = loss_rows(log_history)
    return write_loss_csv(rows, csv_path), plot_loss(rows, png_path)
