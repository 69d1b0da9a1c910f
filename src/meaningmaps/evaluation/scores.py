"""Score predictor maps against human attention maps, per scene, and summarise across scenes.

What: ``score_scene`` correlates every map source of one scene (e.g. "human", "center",
"center_empirical", "salience", "base", "finetuned") with that scene's attention map (a smoothed
fixation map), adds the saliency benchmark's metrics (CC, NSS, AUC-Judd, shuffled AUC, SIM, KL,
information gain over the empirical centre bias) and, for configured (x, control) pairs, the
squared semipartial correlation of x over the control. ``summarize`` turns the per-scene table
into one row per source (mean r and R^2 with scene-bootstrap CIs, the mean of every metric, the
mean noise ceiling) and one row per pair of sources (paired t and Wilcoxon tests on r and on R^2,
with Holm-adjusted p values).

Why: the per-scene Pearson r is the evaluation Henderson & Hayes (2017) report; the semipartial
column is their "meaning over salience" unique-variance analysis; the benchmark metrics let the
numbers stand next to saliency-benchmark results. Bad maps (wrong shape, NaN, constant) stop the
run with an InputError that names the scene and source, rather than producing a NaN that would
silently drop out of a published mean. All results are deterministic (seeded bootstrap and
shuffled-AUC draws, sources and scenes sorted before resampling).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from ..errors import InputError
from . import metrics
from .noise_ceiling import CEILING_COLUMNS

SCORE_COLUMNS = ["scene", "source", "pearson_r", "r2", "n_pixels", "n_fixated"]
# The saliency benchmark's metrics (saliency_metrics.py), in scores.csv beside r.
BENCHMARK_COLUMNS = ["cc", "nss", "auc_judd", "auc_shuffled", "similarity", "kl_divergence",
                     "information_gain"]
SUMMARY_COLUMNS = ["source", "n_scenes", "mean_r", "ci_low", "ci_high", "sd_r", "mean_r2",
                   "r2_ci_low", "r2_ci_high"]
CEILING_SUMMARY = ["mean_ceiling", "ceiling_ci_low", "ceiling_ci_high"]
PAIRWISE_COLUMNS = [
    "source_a", "source_b", "n",
    "mean_diff_r", "t", "p_t", "p_t_holm", "w", "p_wilcoxon", "p_wilcoxon_holm",
    "diff_ci_low", "diff_ci_high",
    "mean_diff_r2", "t_r2", "p_t_r2", "p_t_r2_holm", "w_r2", "p_wilcoxon_r2", "p_wilcoxon_r2_holm",
    "diff_r2_ci_low", "diff_r2_ci_high",
]
SR2_PREFIX = "sr2_over_"


def _check_map(scene: str, source: str, m, shape: tuple | None) -> np.ndarray:
    """Return ``m`` as float64 after checking it is 2-D, of ``shape``, finite and not constant."""
    a = np.asarray(m, dtype=np.float64)
    where = f"scene {scene!r}, source {source!r}"
    if a.ndim != 2:
        raise InputError(None, f"{where}: expected a 2-D map, got shape {a.shape}.")
    if shape is not None and a.shape != shape:
        raise InputError(
            None,
            f"{where}: map shape {a.shape} does not match the attention map shape {shape}.",
            fix="resize the map to the scene image size before scoring.",
        )
    if not np.all(np.isfinite(a)):
        bad = int(np.count_nonzero(~np.isfinite(a)))
        raise InputError(None, f"{where}: map contains {bad} NaN or infinite pixel(s).")
    if a.min() == a.max():
        raise InputError(
            None,
            f"{where}: map is constant (every pixel = {a.flat[0]!r}); its correlation is undefined.",
            fix="check how this map was produced (an empty fixation set or a failed model run).",
        )
    return a


def _checked_pairs(semipartial_pairs) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for pair in semipartial_pairs:
        if len(pair) != 2:
            raise InputError(None, f"semipartial pair {pair!r} must be (source, control).")
        x, control = str(pair[0]), str(pair[1])
        if x == control:
            raise InputError(None, f"semipartial pair {pair!r}: source and control are the same.")
        if (x, control) not in pairs:
            pairs.append((x, control))
    return pairs


def _fixation_input(scene: str, what: str, m, shape: tuple) -> np.ndarray:
    """A binary fixated-pixel map of the attention map's shape."""
    a = np.asarray(m, dtype=np.float64)
    if a.shape != shape:
        raise InputError(None, f"scene {scene!r}: {what} has shape {a.shape}, the attention map {shape}.")
    if not np.isfinite(a).all() or (a < 0).any():
        raise InputError(None, f"scene {scene!r}: {what} must be a finite, non-negative map.")
    return a


def benchmark_scores(scene: str, source: str, m: np.ndarray, attention: np.ndarray,
                     fixated: np.ndarray | None, other: np.ndarray | None = None,
                     baseline: np.ndarray | None = None, auc_splits: int = 100,
                     auc_step: float = 0.1, seed: int = 0) -> dict:
    """The saliency benchmark's metrics of one map (``BENCHMARK_COLUMNS``).

    CC, similarity and KL compare the map with the (continuous) attention map; NSS, AUC-Judd,
    shuffled AUC and information gain with the scene's fixated pixels (``fixated``, binary).
    The shuffled AUC's negatives come from ``other`` (other scenes' fixated pixels; NaN without),
    information gain is over ``baseline`` (NaN without). The shuffled AUC draws with
    ``metrics.scene_seed(seed, scene)``: every source of a scene gets the same negatives.
    """
    out = {c: np.nan for c in BENCHMARK_COLUMNS}
    if fixated is None:
        return out

    def run(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValueError as exc:
            raise InputError(None, f"scene {scene!r}, source {source!r}: {fn.__name__}: {exc}") from exc

    out.update(
        cc=run(metrics.cc, m, attention),
        nss=run(metrics.nss, m, fixated),
        auc_judd=run(metrics.auc_judd, m, fixated),
        similarity=run(metrics.similarity, m, attention),
        kl_divergence=run(metrics.kl_divergence, m, attention),
    )
    if other is not None:
        out["auc_shuffled"] = run(metrics.auc_shuffled, m, fixated, other, n_splits=auc_splits,
                                  step=auc_step, seed=metrics.scene_seed(seed, scene))
    if baseline is not None:
        out["information_gain"] = run(metrics.information_gain, m, fixated, baseline)
    return out


def score_scene(
    scene: str,
    attention: np.ndarray,
    maps: dict[str, np.ndarray],
    semipartial_pairs: list[tuple[str, str]] = (),
    fixated: np.ndarray | None = None,
    other: np.ndarray | None = None,
    baseline: np.ndarray | None = None,
    auc_splits: int = 100,
    auc_step: float = 0.1,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per source in ``maps`` (in dict order): r and r^2 with ``attention``, and the
    saliency benchmark's metrics (:func:`benchmark_scores`; NaN when ``fixated`` is None).

    Columns: scene, source, pearson_r, r2, n_pixels, n_fixated (fixated pixels; 0 without
    ``fixated``), ``BENCHMARK_COLUMNS``, then one ``sr2_over_<control>`` column per distinct control
    named in ``semipartial_pairs`` (always present, so every scene has the same columns): for pair
    (x, control) with both in ``maps`` the row of x holds
    ``semipartial_r2(attention, maps[x], maps[control])``; all other cells are NaN.
    """
    att = _check_map(scene, "attention", attention, None)
    if not maps:
        raise InputError(None, f"scene {scene!r}: no maps to score.")
    checked = {src: _check_map(scene, src, m, att.shape) for src, m in maps.items()}
    if fixated is not None:
        fixated = _fixation_input(scene, "the fixated-pixel map", fixated, att.shape)
    if other is not None:
        other = _fixation_input(scene, "the other scenes' fixated-pixel map", other, att.shape)
    if baseline is not None:
        baseline = _check_map(scene, "center_empirical (information-gain baseline)", baseline, att.shape)
    pairs = _checked_pairs(semipartial_pairs)
    sr2_cols = list(dict.fromkeys(SR2_PREFIX + c for _, c in pairs))
    n_fixated = int(np.count_nonzero(fixated)) if fixated is not None else 0

    rows = []
    for src, m in checked.items():
        r = metrics.pearson_r(att, m)
        row = {"scene": scene, "source": src, "pearson_r": r, "r2": r * r, "n_pixels": int(att.size),
               "n_fixated": n_fixated}
        row.update(benchmark_scores(scene, src, m, att, fixated, other, baseline, auc_splits, auc_step, seed))
        row.update({col: np.nan for col in sr2_cols})
        for x, control in pairs:
            if x == src and control in checked:
                row[SR2_PREFIX + control] = metrics.semipartial_r2(att, m, checked[control])
        rows.append(row)
    return pd.DataFrame(rows, columns=SCORE_COLUMNS + BENCHMARK_COLUMNS + sr2_cols)


def ceiling_table(rows) -> pd.DataFrame:
    """Per-scene noise-ceiling rows (dicts or one-row frames) as one table sorted by scene."""
    frames = [r if isinstance(r, pd.DataFrame) else pd.DataFrame([r]) for r in rows]
    if not frames:
        return pd.DataFrame(columns=CEILING_COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    missing = [c for c in CEILING_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(None, f"noise-ceiling rows lack column(s) {missing}.")
    table = table.loc[:, CEILING_COLUMNS].assign(scene=lambda t: t["scene"].astype(str))
    repeated = table.loc[table["scene"].duplicated(), "scene"]
    if len(repeated):
        raise InputError(None, f"noise-ceiling rows repeat scene {repeated.iloc[0]!r}.")
    return table.sort_values("scene", kind="stable").reset_index(drop=True)


def _check_scores(scores: pd.DataFrame) -> None:
    missing = [c for c in ("scene", "source", "pearson_r", "r2") if c not in scores.columns]
    if missing:
        raise InputError(None, f"scores table lacks column(s) {missing}.",
                         fix="pass the concatenated output of score_scene.")
    dup = scores.duplicated(["scene", "source"])
    if dup.any():
        first = scores.loc[dup, ["scene", "source"]].iloc[0].tolist()
        raise InputError(None, f"scores table has duplicate rows for scene/source {first}.")
    bad = ~np.isfinite(scores["pearson_r"].to_numpy(dtype=np.float64))
    if bad.any():
        first = scores.loc[bad, ["scene", "source"]].iloc[0].tolist()
        raise InputError(None, f"scores table has a missing or non-finite pearson_r for {first}.")


def _finite_mean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else np.nan


def _summary_row(src: str, sub: pd.DataFrame, ceiling: pd.Series | None, extra_cols: list[str],
                 n_boot: int, seed: int) -> dict:
    r = sub["pearson_r"].to_numpy(dtype=np.float64)
    r2 = sub["r2"].to_numpy(dtype=np.float64)
    mean_r, lo, hi = metrics.bootstrap_mean_ci(r, n_boot=n_boot, seed=seed)
    mean_r2, lo2, hi2 = metrics.bootstrap_mean_ci(r2, n_boot=n_boot, seed=seed)
    row = {"source": src, "n_scenes": int(r.size), "mean_r": mean_r, "ci_low": lo, "ci_high": hi,
           "sd_r": float(np.std(r, ddof=1)) if r.size > 1 else np.nan, "mean_r2": mean_r2,
           "r2_ci_low": lo2, "r2_ci_high": hi2}
    for col in extra_cols:
        row["mean_" + col] = _finite_mean(sub[col].to_numpy(dtype=np.float64))
    row.update(dict.fromkeys(CEILING_SUMMARY, np.nan))
    if ceiling is not None:
        c = ceiling.reindex(sub["scene"]).to_numpy(dtype=np.float64)
        c = c[np.isfinite(c)]
        if c.size:
            row.update(zip(CEILING_SUMMARY, metrics.bootstrap_mean_ci(c, n_boot=n_boot, seed=seed), strict=True))
    return row


def _pair_tests(a: pd.Series, b: pd.Series, suffix: str, n_boot: int, seed: int) -> dict:
    res = metrics.paired_tests(a.to_numpy(dtype=np.float64), b.to_numpy(dtype=np.float64),
                               n_boot=n_boot, seed=seed)
    tag = "_r2" if suffix == "r2" else ""
    ci = "diff_r2_ci" if suffix == "r2" else "diff_ci"
    return {f"mean_diff_{suffix}": res["mean_diff"], f"t{tag}": res["t"], f"p_t{tag}": res["p_t"],
            f"w{tag}": res["w"], f"p_wilcoxon{tag}": res["p_wilcoxon"],
            f"{ci}_low": res["diff_ci_low"], f"{ci}_high": res["diff_ci_high"]}


def _pairwise(df: pd.DataFrame, sources: list[str], n_boot: int, seed: int) -> pd.DataFrame:
    """Paired tests on r and on R^2 for every pair of sources, with Holm-adjusted p values."""
    by_source = {s: df[df["source"] == s].set_index("scene") for s in sources}
    rows = []
    for a, b in itertools.combinations(sources, 2):
        shared = sorted(set(by_source[a].index) & set(by_source[b].index))
        row = {"source_a": a, "source_b": b, "n": len(shared)}
        if shared:
            for value in ("r", "r2"):
                column = "pearson_r" if value == "r" else "r2"
                row.update(_pair_tests(by_source[a].loc[shared, column], by_source[b].loc[shared, column],
                                       value, n_boot, seed))
        rows.append(row)
    pairwise = pd.DataFrame(rows, columns=PAIRWISE_COLUMNS)
    for p in ("p_t", "p_wilcoxon", "p_t_r2", "p_wilcoxon_r2"):
        pairwise[p + "_holm"] = metrics.holm(pairwise[p].to_numpy(dtype=np.float64))
    return pairwise


def summarize(
    scores: pd.DataFrame, n_boot: int = 10000, seed: int = 0, ceiling: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summarise per-scene scores (rows of ``score_scene``, concatenated over scenes).

    Returns (summary, pairwise). summary: one row per source (sorted) with source, n_scenes,
    mean_r, ci_low, ci_high (scene-bootstrap percentile 95% CI of mean r), sd_r (ddof=1), mean_r2,
    r2_ci_low, r2_ci_high, ``mean_<metric>`` for each benchmark column present (over the scenes
    where it is defined), mean_ceiling, ceiling_ci_low, ceiling_ci_high (the noise ceiling of
    ``ceiling`` over the source's scenes; NaN without), and ``mean_sr2_over_<control>`` for every
    sr2 column. pairwise: one row per source pair a < b (alphabetical) over the scenes both have:
    paired t and Wilcoxon tests on r (mean_diff_r, t, p_t, w, p_wilcoxon, diff_ci_low/high) and on
    R^2 (the same with ``_r2``), each p with its Holm adjustment (``_holm``) over the family of all
    pairs for that test. Every bootstrap uses ``seed`` on scene-sorted values.
    """
    _check_scores(scores)
    sr2_cols = [c for c in scores.columns if str(c).startswith(SR2_PREFIX)]
    bench_cols = [c for c in BENCHMARK_COLUMNS if c in scores.columns]
    df = scores.assign(scene=scores["scene"].astype(str), source=scores["source"].astype(str))
    df = df.sort_values(["source", "scene"], kind="stable")
    sources = sorted(df["source"].unique())
    ceil = None
    if ceiling is not None:
        ceil = ceiling_table([ceiling]).set_index("scene")["ceiling"].astype(np.float64)

    summary = pd.DataFrame(
        [_summary_row(src, df[df["source"] == src], ceil, bench_cols + sr2_cols, n_boot, seed)
         for src in sources],
        columns=SUMMARY_COLUMNS + ["mean_" + c for c in bench_cols] + CEILING_SUMMARY
        + ["mean_" + c for c in sr2_cols],
    )
    return summary, _pairwise(df, sources, n_boot, seed)
