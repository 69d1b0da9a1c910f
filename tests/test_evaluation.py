"""Tests for meaningmaps.evaluation.scores on small synthetic scenes with known structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from meaningmaps.errors import InputError
from meaningmaps.evaluation import metrics
from meaningmaps.evaluation import scores as evaluation
from meaningmaps.maps.center_bias import center_bias_map

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
        "center": center_bias_map(*SHAPE, 0.25),
    }
    return attention, maps


def test_score_scene_known_structure_and_columns():
    attention, maps = _scene_maps(0)
    df = evaluation.score_scene("s01", attention, maps, [("meaning", "salience")])
    assert list(df.columns) == ["scene", "source", "pearson_r", "r2", "n_pixels", "n_fixated", "cc", "nss",
                                "auc_judd", "auc_shuffled", "similarity", "kl_divergence", "information_gain",
                                "sr2_over_salience"]
    assert df[evaluation.BENCHMARK_COLUMNS].isna().all().all()  # no fixations given
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
        "source", "n_scenes", "mean_r", "ci_low", "ci_high", "sd_r", "mean_r2", "r2_ci_low", "r2_ci_high",
        "mean_cc", "mean_nss", "mean_auc_judd", "mean_auc_shuffled", "mean_similarity",
        "mean_kl_divergence", "mean_information_gain", "mean_ceiling", "ceiling_ci_low", "ceiling_ci_high",
        "mean_sr2_over_salience",
    ]
    assert list(pairwise.columns) == [
        "source_a", "source_b", "n", "mean_diff_r", "t", "p_t", "p_t_holm", "w", "p_wilcoxon",
        "p_wilcoxon_holm", "diff_ci_low", "diff_ci_high", "mean_diff_r2", "t_r2", "p_t_r2", "p_t_r2_holm",
        "w_r2", "p_wilcoxon_r2", "p_wilcoxon_r2_holm", "diff_r2_ci_low", "diff_r2_ci_high",
    ]
    assert summary["mean_ceiling"].isna().all()
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


# ---------------------------------------------------------------- benchmark metrics, ceiling, Holm


def _fixated(seed: int, shape=SHAPE, p=0.05):
    rng = np.random.default_rng(seed)
    return (rng.random(shape) < p).astype(float)


def test_score_scene_benchmark_metrics_are_the_metric_functions():
    attention, maps = _scene_maps(4)
    maps = {k: v - v.min() for k, v in maps.items()}  # KL needs non-negative maps
    fixated, other, baseline = _fixated(1), _fixated(2, p=0.3), center_bias_map(*SHAPE, 0.3)
    df = evaluation.score_scene("kitchen", attention, maps, [], fixated=fixated, other=other, baseline=baseline,
                                auc_splits=20, seed=7)
    by = df.set_index("source")
    assert (by["n_fixated"] == int(fixated.sum())).all()
    m = maps["salience"]
    row = by.loc["salience"]
    assert row["cc"] == metrics.cc(m, attention)
    assert row["nss"] == metrics.nss(m, fixated)
    assert row["auc_judd"] == metrics.auc_judd(m, fixated)
    assert row["similarity"] == metrics.similarity(m, attention)
    assert row["information_gain"] == metrics.information_gain(m, fixated, baseline)
    assert row["auc_shuffled"] == metrics.auc_shuffled(m, fixated, other, n_splits=20,
                                                       seed=metrics.scene_seed(7, "kitchen"))
    # every source of a scene is scored on the same negatives
    same = evaluation.score_scene("kitchen", attention, {"a": m, "b": m.copy()}, [], fixated=fixated,
                                  other=other, baseline=baseline, auc_splits=20, seed=7)
    assert same["auc_shuffled"].nunique() == 1
    assert np.isnan(evaluation.score_scene("k", attention, maps, [], fixated=fixated)["auc_shuffled"]).all()


def test_score_scene_metric_failure_names_scene_and_source():
    attention, maps = _scene_maps(5)  # "inverse" is negative: KL needs non-negative maps
    with pytest.raises(InputError, match="scene 'hall', source 'inverse': kl_divergence"):
        evaluation.score_scene("hall", attention, maps, [], fixated=_fixated(3))
    with pytest.raises(InputError, match="fixated-pixel map has shape"):
        evaluation.score_scene("hall", attention, {"human": attention}, [], fixated=np.ones((2, 2)))


def test_summarize_ceiling_r2_ci_and_metric_means():
    scores = _scores(8)
    ceiling = pd.DataFrame({"scene": [f"s{i:02d}" for i in range(8)], "n_subjects": 10,
                            "split_half_r": np.linspace(0.5, 0.8, 8)})
    ceiling["ceiling"] = 2 * ceiling["split_half_r"] / (1 + ceiling["split_half_r"])
    ceiling.loc[7, ["split_half_r", "ceiling"]] = np.nan  # one scene without a ceiling
    summary, _ = evaluation.summarize(scores, n_boot=500, seed=1, ceiling=ceiling.iloc[::-1])
    s = summary.set_index("source")
    expected = metrics.bootstrap_mean_ci(ceiling["ceiling"].to_numpy()[:7], n_boot=500, seed=1)
    assert tuple(s.loc["meaning", ["mean_ceiling", "ceiling_ci_low", "ceiling_ci_high"]]) == expected
    r2 = scores[scores.source == "salience"].sort_values("scene")["r2"].to_numpy()
    assert tuple(s.loc["salience", ["mean_r2", "r2_ci_low", "r2_ci_high"]]) == metrics.bootstrap_mean_ci(
        r2, n_boot=500, seed=1)


def test_pairwise_holm_and_r2_tests():
    _, pairwise = evaluation.summarize(_scores(10), n_boot=300)
    for p in ("p_t", "p_wilcoxon", "p_t_r2", "p_wilcoxon_r2"):
        np.testing.assert_array_equal(pairwise[p + "_holm"], metrics.holm(pairwise[p]))
        defined = pairwise[p].notna()
        assert (pairwise.loc[defined, p + "_holm"] >= pairwise.loc[defined, p]).all()
    scores = _scores(10)
    row = pairwise.set_index(["source_a", "source_b"]).loc[("meaning", "salience")]
    a = scores[scores.source == "meaning"].sort_values("scene")["r2"]
    b = scores[scores.source == "salience"].sort_values("scene")["r2"]
    ref = stats.ttest_rel(a, b)
    assert row["t_r2"] == pytest.approx(ref.statistic, rel=1e-12)
    assert row["p_t_r2"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert row["mean_diff_r2"] == pytest.approx(np.mean(a.to_numpy() - b.to_numpy()), abs=1e-15)


def test_ceiling_table_sorts_and_refuses_repeats():
    rows = [{"scene": "b", "n_subjects": 2, "split_half_r": 0.5, "ceiling": 2 / 3},
            {"scene": "a", "n_subjects": 3, "split_half_r": 0.2, "ceiling": 0.4 / 1.2}]
    table = evaluation.ceiling_table(rows)
    assert list(table.columns) == ["scene", "n_subjects", "split_half_r", "ceiling"]
    assert list(table.scene) == ["a", "b"]
    with pytest.raises(InputError, match="repeat"):
        evaluation.ceiling_table(rows + rows[:1])
