"""The loss curves of a fine-tuning run: a CSV table and a PNG plot.

The rows come from the HF Trainer's ``state.log_history``: one per logging step (``loss``,
``learning_rate``, ``grad_norm``) and one per held-out evaluation (``eval_loss``, after every epoch and
at the last step), merged by step; the final summary entry (``train_loss``) is left out. A resumed
run's history includes the entries up to its checkpoint, so the curves span the whole run. The plot
also draws the loss of a model that knows only the training label frequencies (see
:func:`reference_losses`): a curve above it has learned nothing of the images.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pandas as pd

from ...atomic import atomic_path, save_csv
from ..answer_scoring import answer_token_ids
from ..prompting import CATEGORIES

COLUMNS = ("step", "epoch", "loss", "learning_rate", "grad_norm", "eval_loss")


def loss_rows(log_history) -> list[dict]:
    """One dict per logged step (columns :data:`COLUMNS`; missing values are NaN), by step."""
    rows: dict[int, dict] = {}
    for entry in log_history:
        if "step" not in entry or not ("loss" in entry or "eval_loss" in entry):
            continue
        step = int(entry["step"])
        row = rows.setdefault(step, {c: math.nan for c in COLUMNS})
        row["step"] = step
        for c in COLUMNS[1:]:
            if c in entry:
                row[c] = _num(entry[c])
    return [rows[k] for k in sorted(rows)]


def _num(v) -> float:
    if v is None:
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def write_loss_csv(rows, path) -> Path:
    frame = pd.DataFrame(list(rows), columns=list(COLUMNS))
    save_csv(path, frame)
    return Path(path)


def plot_loss(rows, path, references: dict | None = None,
              title: str = "fine-tuning loss per answer token") -> Path:
    """Training and held-out loss against step, the label-frequency references as dashed lines, and
    the learning rate on a second axis when logged; a PNG."""
    import matplotlib  # heavy, and the backend is chosen only when a plot is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(rows)
    fig, ax = plt.subplots(figsize=(6.5, 3.8), dpi=120)
    train = [(r["step"], r["loss"]) for r in rows if not math.isnan(r["loss"])]
    held = [(r["step"], r["eval_loss"]) for r in rows if not math.isnan(r["eval_loss"])]
    if train:
        ax.plot(*zip(*train), color="C0", marker="." if len(train) < 50 else None, lw=1, label="training")
    if held:
        ax.plot(*zip(*held), color="C3", marker="o", lw=1.2, label="held-out scenes")
    for key, colour, what in (("train", "C0", "training"), ("heldout", "C3", "held-out")):
        value = (references or {}).get(key)
        if value is not None and math.isfinite(value):
            ax.axhline(value, color=colour, ls="--", lw=0.8, alpha=0.8,
                       label=f"label frequencies only ({what}): {value:.3f}")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    lrs = [(r["step"], r["learning_rate"]) for r in rows if not math.isnan(r["learning_rate"])]
    if lrs:
        ax2 = ax.twinx()
        ax2.plot(*zip(*lrs), color="C1", lw=0.8, alpha=0.5)
        ax2.set_ylabel("learning rate (LoRA)", color="C1")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return Path(path)


def write_loss_curve(log_history, csv_path, png_path, references: dict | None = None) -> tuple[Path, Path]:
    """``loss.csv`` and ``loss.png`` from a Trainer's log history."""
    rows = loss_rows(log_history)
    return write_loss_csv(rows, csv_path), plot_loss(rows, png_path, references)


def reference_losses(processor, prompt: str, train_answers, heldout_answers=()) -> dict:
    """The loss per supervised token of a model that knows only the training label frequencies: it
    puts probability f(c) on each whole answer c (its tokens and ``</s>``), so the loss is
    ``sum_i -log f(c_i) / sum_i n_tokens(c_i)``, on the training rows and on the held-out rows (with
    the training frequencies; infinite if a held-out label never occurs in training)."""
    n_tokens = {c: len(ids) for c, ids in zip(CATEGORIES, answer_token_ids(processor, prompt, append_eos=True),
                                             strict=True)}
    counts = Counter(train_answers)
    total = sum(counts.values())

    def loss(answers):
        answers = list(answers)
        if not answers or not total:
            return None
        nll = sum(-math.log(counts[a] / total) if counts[a] else math.inf for a in answers)
        return nll / sum(n_tokens[a] for a in answers)

    return {"train": loss(train_answers), "heldout": loss(heldout_answers),
            "frequencies": {c: counts[c] / total for c in CATEGORIES} if total else {}}
