"""The noise ceiling (meaningmaps.evaluation.noise_ceiling): subject order, alternating split, Spearman-Brown,
random splits, and the ceiling of a real scene."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from meaningmaps.evaluation import metrics
from meaningmaps.evaluation.noise_ceiling import (
    alternating_halves,
    scene_ceiling,
    spearman_brown,
    subject_order,
)
from meaningmaps.maps.attention import attention_map

H, W = 48, 64


def _fixations(subjects, per_subject=15, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for s in subjects:
        rows.append(pd.DataFrame({
            "scene": "s", "row": rng.normal(24, 8, per_subject).clip(1, H),
            "col": rng.normal(32, 10, per_subject).clip(1, W), "duration": 200.0, "subject": str(s)}))
    return pd.concat(rows, ignore_index=True)


def test_subject_order_numeric_when_all_ids_are_integers():
    assert subject_order(["31", "113", "2", "31"]) == ["2", "31", "113"]
    assert subject_order(["s10", "s02", "s1"]) == ["s02", "s1", "s10"]
    assert alternating_halves(["a", "b", "c", "d", "e"]) == (["a", "c", "e"], ["b", "d"])


def test_spearman_brown_by_hand():
    assert spearman_brown(0.5) == pytest.approx(2 / 3)  # 2 * .5 / 1.5
    assert spearman_brown(0.0) == 0.0
    assert spearman_brown(1.0) == 1.0
    assert np.isnan(spearman_brown(-1.0))


def test_scene_ceiling_is_the_alternating_split_of_sorted_subjects():
    fix = _fixations(["113", "2", "31", "10", "7"])
    row = scene_ceiling(fix, "s", H, W, fc=6, weight="count", wrap=True)
    # sorted 2, 7, 10, 31, 113 -> (2, 10, 113) vs (7, 31)
    a = attention_map(fix[fix.subject.isin(["2", "10", "113"])], H, W, fc=6)
    b = attention_map(fix[fix.subject.isin(["7", "31"])], H, W, fc=6)
    r = metrics.pearson_r(a, b)
    assert row == {"scene": "s", "n_subjects": 5, "split_half_r": r, "ceiling": 2 * r / (1 + r)}
    assert 0 < r < 1


def test_scene_ceiling_uses_the_attention_parameters():
    fix = _fixations(["1", "2", "3", "4"], seed=3)
    base = scene_ceiling(fix, "s", H, W, fc=6)
    assert scene_ceiling(fix, "s", H, W, fc=12)["split_half_r"] != base["split_half_r"]
    assert scene_ceiling(fix, "s", H, W, fc=6, wrap=False)["split_half_r"] != base["split_half_r"]
    fix2 = fix.assign(duration=np.arange(len(fix), dtype=float) + 1)
    assert scene_ceiling(fix2, "s", H, W, weight="duration")["split_half_r"] != base["split_half_r"]


def test_random_splits_are_seeded_and_averaged():
    fix = _fixations([str(i) for i in range(1, 9)], seed=4)
    alt = scene_ceiling(fix, "s", H, W)
    more = scene_ceiling(fix, "s", H, W, random_splits=5, seed=1)
    assert more == scene_ceiling(fix, "s", H, W, random_splits=5, seed=1)
    assert more["split_half_r"] != scene_ceiling(fix, "s", H, W, random_splits=5, seed=2)["split_half_r"]
    assert more["split_half_r"] != alt["split_half_r"]
    assert more["ceiling"] == pytest.approx(spearman_brown(more["split_half_r"]), abs=1e-15)


def test_one_subject_has_no_ceiling():
    row = scene_ceiling(_fixations(["unknown"]), "s", H, W)
    assert row["n_subjects"] == 1 and np.isnan(row["split_half_r"]) and np.isnan(row["ceiling"])


@pytest.mark.realdata
def test_hh17_scene_ceiling(hh17_file):
    from meaningmaps.data.fixations import scene_fixations

    fix, dropped = scene_fixations(hh17_file, "basketball_net", 768, 1024)
    row = scene_ceiling(fix, "basketball_net", 768, 1024)
    assert dropped == 0 and row["n_subjects"] == 65
    assert 0.5 < row["split_half_r"] < row["ceiling"] < 1.0
