"""The noise ceiling: how well one group of viewers' attention map predicts another's.

What: for one scene, its viewers (the subjects with a fixation on it) sorted by subject id are
split by alternating rank (1st, 3rd, ... vs 2nd, 4th, ...); each half's attention map is made
exactly as the full one (``attention.attention_map``, same fc/weight/wrap); ``split_half_r`` is
Pearson r between the halves, and ``ceiling`` its Spearman-Brown correction to the full group,
2r / (1 + r). Optional extra random splits (seeded per scene) are averaged with it: split_half_r
is the mean r over all splits and ceiling = 2 split_half_r / (1 + split_half_r).

Why: a map source's r with the attention map means little without the r that the viewers
themselves reach: the ceiling says how much of the attention map is predictable at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..maps.attention import attention_map
from . import metrics

CEILING_COLUMNS = ["scene", "n_subjects", "split_half_r", "ceiling"]


def subject_order(subjects) -> list[str]:
    """Distinct subject ids sorted: numerically when every id is an integer ("31" < "113"), else
    as text."""
    ids = sorted({str(s) for s in subjects})
    try:
        return sorted(ids, key=lambda s: (int(s), s))
    except ValueError:
        return ids


def alternating_halves(subjects: list[str]) -> tuple[list[str], list[str]]:
    """(1st, 3rd, 5th, ...) and (2nd, 4th, ...) of an ordered subject list."""
    return list(subjects[0::2]), list(subjects[1::2])


def spearman_brown(r: float) -> float:
    """Reliability of the full group from the split-half r: 2r / (1 + r) (NaN for r = -1)."""
    return 2.0 * r / (1.0 + r) if r > -1.0 else float("nan")


def split_r(fix: pd.DataFrame, first: list[str], second: list[str], height: int, width: int,
            **attention) -> float:
    """Pearson r between the attention maps of two groups of subjects."""
    subject = fix["subject"].astype(str)
    a = attention_map(fix[subject.isin(first)], height, width, **attention)
    b = attention_map(fix[subject.isin(second)], height, width, **attention)
    return metrics.pearson_r(a, b)


def scene_ceiling(fix: pd.DataFrame, scene: str, height: int, width: int, fc: float = 6.0,
                  weight: str = "count", wrap: bool = True, random_splits: int = 0,
                  seed: int = 0) -> dict:
    """One row of ``ceiling.csv`` for a scene's fixation table (``fixations.scene_fixations``).

    Fewer than two subjects: split_half_r and ceiling are NaN (there is nothing to split).
    """
    if "subject" not in fix.columns:
        raise InputError(fix.attrs.get("source"), "the fixation table has no subject column.")
    subjects = subject_order(fix["subject"])
    row = {"scene": scene, "n_subjects": len(subjects), "split_half_r": np.nan, "ceiling": np.nan}
    if len(subjects) < 2:
        return row
    params = dict(fc=fc, weight=weight, wrap=wrap)
    rs = [split_r(fix, *alternating_halves(subjects), height, width, **params)]
    rng = np.random.default_rng(metrics.scene_seed(seed, scene))
    for _ in range(int(random_splits)):
        shuffled = [subjects[i] for i in rng.permutation(len(subjects))]
        rs.append(split_r(fix, *alternating_halves(shuffled), height, width, **params))
    r = float(np.mean(rs))
    row.update(split_half_r=r, ceiling=spearman_brown(r))
    return row
