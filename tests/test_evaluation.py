"""Tests for meaningmaps.evaluation on small synthetic scenes with known structure."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from scipy import stats

from meaningmaps import evaluation, metrics
from meaningmaps.errors import InputError

SHAPE = (24, 32)


def _scene_maps(seed: int):
    rng = np.random.default_rng(seed)
    attention = rng.gamma(2.0, size=SHAPE)
    salience = 0.5 * attention + rng.normal(size=SHAPE)
    meaning = 0.5 * attention + 0.5 * salience + rng.normal(size=SHAPE)
    maps = {
        "human": attention.copy(),
        "inverse": -attention,
        "salience": salience,
        "meaning": meaning,
        "center": metrics.center_bias_map(*SHAPE, 0.25),
    }
    return attention, maps


def test_score_scene_known_structure_and_columns():
    attention, maps = _scene_maps(0)
    df = evaluation.score_scene("s01", attention, maps, [("meaning", "salience")])
    assert list(df.columns) == ["scene", "source", "pearson_r", "r2", "n_pixels", "sr2_over_salience"]
    assert list(df["source"]) == list(maps)
    assert (df["scene"] == "s01").all()
    assert (df["n_pixels"] == SHAPE[0] * SHAPE[1]).all()
    by = df.set_index("source")
    assert by.loc["human", "pearson_r"] == pytest.approx(1.0, abs=1e-14)
    assert by.loc["inverse", "pearson_r"] == pytest.approx(-1.0, abs=1e-14)
    for src, m in maps.items():
        r = stats.pearsonr(attention.ravel(), m.ravel())[0]
        assert by.loc[src, "pearson_r"] == pytest.approx(r, abs=1e-13)
        assert by.loc[src, "r2"] == pytest.approx(r * r, abs=1e-13)
    expected = metrics.semipartial_r2(attention, maps["meaning"], maps["salience"])
    assert by.loc["meaning", "sr2_over_salience"] == pytest.approx(expected, abs=1e-15)
    assert expected > 0
    assert by.drop(index="meaning")["sr2_over_salience"].isna().all()


def test_score_scene_pair_with_absent_source_gives_nan_column():
    attention, maps = _scene_maps(1)
    df = evaluation.score_scene("s02", attention, maps, [("finetuned", "salience")])
    assert "sr2_over_salience" in df.columns
    assert df["sr2_over_salience"].isna().all()


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((SHAPE[0], SHAPE[1] + 1)), "shape"),
        (np.full(SHAPE, 0.5), "constant"),
        ("nan", "NaN"),
    ],
)
def test_score_scene_errors_name_scene_and_source(bad, match):
    attention, maps = _scene_maps(2)
    if isinstance(bad, str):
        bad = maps["salience"].copy()
        bad[3, 4] = np.nan
    maps["salience"] = bad
    with pytest.raises(InputError, match=match) as err:
        evaluation.score_scene("kitchen_07", attention, maps, [])
    assert "kitchen_07" in str(err.value) and "salience" in str(err.value)


def test_score_scene_rejects_constant_attention():
    _, maps = _scene_maps(3)
    with pytest.raises(InputError, match="attention") as err:
        evaluation.score_scene("s03", np.ones(SHAPE), maps, [])
    assert "s03" in str(err.value)


def _scores(n_scenes=12):
    return pd.concat(
        [
            evaluation.score_scene(f"s{i:02d}", *_scene_maps(100 + i), [("meaning", "salience")])
            for i in range(n_scenes)
        ],
        ignore_index=True,
    )


def test_summarize_columns_values_and_determinism():
    scores = _scores()
    summary, pairwise = evaluation.summarize(scores, n_boot=2000, seed=5)
    assert list(summary.columns) == [
        "source", "n_scenes", "mean_r", "ci_low", "ci_high", "sd_r", "mean_r2",
        "mean_sr2_over_salience",
    ]
    assert list(pairwise.columns) == [
        "source_a", "source_b", "n", "mean_diff_r", "t", "p_t", "w", "p_wilcoxon",
        "diff_ci_low", "diff_ci_high",
    ]
    assert list(summary["source"]) == sorted(["human", "inverse", "salience", "meaning", "center"])
    s = summary.set_index("source")
    assert (s["n_scenes"] == 12).all()
    assert s.loc["human", "mean_r"] == pytest.approx(1.0, abs=1e-14)
    assert s.loc["inverse", "mean_r"] == pytest.approx(-1.0, abs=1e-14)
    r_meaning = scores.loc[scores["source"] == "meaning", "pearson_r"]
    assert s.loc["meaning", "mean_r"] == pytest.approx(r_meaning.mean(), abs=1e-15)
    assert s.loc["meaning", "sd_r"] == pytest.approx(r_meaning.std(ddof=1), abs=1e-15)
    assert s.loc["meaning", "ci_low"] < s.loc["meaning", "mean_r"] < s.loc["meaning", "ci_high"]
    sr2 = scores.loc[scores["source"] == "meaning", "sr2_over_salience"]
    assert s.loc["meaning", "mean_sr2_over_salience"] == pytest.approx(sr2.mean(), abs=1e-15)
    assert np.isnan(s.loc["salience", "mean_sr2_over_salience"])

    assert len(pairwise) == 10  # 5 choose 2
    assert (pairwise["source_a"] < pairwise["source_b"]).all()
    row = pairwise.set_index(["source_a", "source_b"]).loc[("human", "meaning")]
    ref = stats.ttest_rel(
        scores[scores.source == "human"].sort_values("scene")["pearson_r"],
        scores[scores.source == "meaning"].sort_values("scene")["pearson_r"],
    )
    assert row["n"] == 12 and row["mean_diff_r"] > 0
    assert row["t"] == pytest.approx(ref.statistic, rel=1e-12)
    assert row["p_t"] == pytest.approx(ref.pvalue, rel=1e-12)

    # deterministic, and independent of the row order of the input table
    shuffled = scores.sample(frac=1.0, random_state=0).reset_index(drop=True)
    s2, p2 = evaluation.summarize(shuffled, n_boot=2000, seed=5)
    pd.testing.assert_frame_equal(summary, s2)
    pd.testing.assert_frame_equal(pairwise, p2)


def test_summarize_pairs_use_only_shared_scenes():
    scores = _scores(6)
    scores = scores[~((scores["source"] == "meaning") & scores["scene"].isin(["s00", "s01"]))]
    summary, pairwise = evaluation.summarize(scores, n_boot=500)
    s = summary.set_index("source")
    assert s.loc["meaning", "n_scenes"] == 4 and s.loc["salience", "n_scenes"] == 6
    p = pairwise.set_index(["source_a", "source_b"])
    assert p.loc[("meaning", "salience"), "n"] == 4
    assert p.loc[("human", "salience"), "n"] == 6


def test_summarize_rejects_bad_tables():
    scores = _scores(3)
    with pytest.raises(InputError, match="duplicate"):
        evaluation.summarize(pd.concat([scores, scores.iloc[:1]]), n_boot=100)
    with pytest.raises(InputError, match="pearson_r"):
        evaluation.summarize(scores.drop(columns="pearson_r"), n_boot=100)
