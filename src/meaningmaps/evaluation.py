"""Score predictor maps against human attention maps, per scene, and summarise across scenes.

What: ``score_scene`` correlates every map source of one scene (e.g. "human", "center",
"salience", "base", "finetuned") with that scene's attention map (a smoothed fixation map) and,
for configured (x, control) pairs, computes the squared semipartial correlation of x over the
control. ``summarize`` turns the per-scene table into one row per source (mean r with a
scene-bootstrap CI) and one row per pair of sources (paired t and Wilcoxon tests on r).

Why: the per-scene Pearson r is the evaluation Henderson & Hayes (2017) report; the semipartial
column is their "meaning over salience" unique-variance analysis. Bad maps (wrong shape, NaN,
constant) stop the run with an InputError that names the scene and source, rather than producing
a NaN that would silently drop out of a published mean. All results are deterministic (seeded
bootstrap, sources and scenes sorted before resampling).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from meaningmaps import metrics
from meaningmaps.errors import InputError

SCORE_COLUMNS = ["scene", "source", "pearson_r", "r2", "n_pixels"]
SUMMARY_COLUMNS = ["source", "n_scenes", "mean_r", "ci_low", "ci_high", "sd_r", "mean_r2"]
PAIRWISE_COLUMNS = [
    "source_a",
    "source_b",
    "n",
    "mean_diff_r",
    "t",
    "p_t",
    "w",
    "p_wilcoxon",
    "diff_ci_low",
    "diff_ci_high",
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


def score_scene(
    scene: str,
    attention: np.ndarray,
    maps: dict[str, np.ndarray],
    semipartial_pairs: list[tuple[str, str]] = (),
) -> pd.DataFrame:
    """One row per source in ``maps`` (in dict order): r and r^2 with ``attention``.

    Columns: scene, source, pearson_r, r2, n_pixels, then one ``sr2_over_<control>`` column per
    distinct control named in ``semipartial_pairs`` (always present, so every scene has the same
    columns): for pair (x, control) with both in ``maps`` the row of x holds
    ``semipartial_r2(attention, maps[x], maps[control])``; all other cells are NaN.
    """
    att = _check_map(scene, "attention", attention, None)
    if not maps:
        raise InputError(None, f"scene {scene!r}: no maps to score.")
    checked = {src: _check_map(scene, src, m, att.shape) for src, m in maps.items()}

    pairs: list[tuple[str, str]] = []
    for pair in semipartial_pairs:
        if len(pair) != 2:
            raise InputError(None, f"semipartial pair {pair!r} must be (source, control).")
        x, control = str(pair[0]), str(pair[1])
        if x == control:
            raise InputError(None, f"semipartial pair {pair!r}: source and control are the same.")
        if (x, control) not in pairs:
            pairs.append((x, control))
    sr2_cols = list(dict.fromkeys(SR2_PREFIX + c for _, c in pairs))

    rows = []
    for src, m in checked.items():
        r = metrics.pearson_r(att, m)
        row = {"scene": scene, "source": src, "pearson_r": r, "r2": r * r, "n_pixels": int(att.size)}
        row.update({col: np.nan for col in sr2_cols})
        for x, control in pairs:
            if x == src and control in checked:
                row[SR2_PREFIX + control] = metrics.semipartial_r2(att, m, checked[control])
        rows.append(row)
    return pd.DataFrame(rows, columns=SCORE_COLUMNS + sr2_cols)


def summarize(
    scores: pd.DataFrame, n_boot: int = 10000, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summarise per-scene scores (rows of ``score_scene``, concatenated over scenes).

    Returns (summary, pairwise). summary: one row per source (sorted) with source, n_scenes,
    mean_r, ci_low, ci_high (scene-bootstrap percentile 95% CI of mean r), sd_r (ddof=1), mean_r2,
    and ``mean_sr2_over_<control>`` for every sr2 column (mean over scenes where it is defined).
    pairwise: one row per source pair a < b (alphabetical) over the scenes both have, with
    source_a, source_b, n, mean_diff_r (mean of r_a - r_b), t, p_t, w, p_wilcoxon,
    diff_ci_low, diff_ci_high. Every bootstrap uses ``seed`` on scene-sorted values.
    """
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
    sr2_cols = [c for c in scores.columns if str(c).startswith(SR2_PREFIX)]

    df = scores.assign(scene=scores["scene"].astype(str), source=scores["source"].astype(str))
    df = df.sort_values(["source", "scene"], kind="stable")
    sources = sorted(df["source"].unique())

    summary_rows = []
    for src in sources:
        sub = df[df["source"] == src]
        r = sub["pearson_r"].to_numpy(dtype=np.float64)
        mean_r, lo, hi = metrics.bootstrap_mean_ci(r, n_boot=n_boot, seed=seed)
        row = {
            "source": src,
            "n_scenes": int(r.size),
            "mean_r": mean_r,
            "ci_low": lo,
            "ci_high": hi,
            "sd_r": float(np.std(r, ddof=1)) if r.size > 1 else np.nan,
            "mean_r2": float(sub["r2"].to_numpy(dtype=np.float64).mean()),
        }
        for col in sr2_cols:
            vals = sub[col].to_numpy(dtype=np.float64)
            vals = vals[~np.isnan(vals)]
            row["mean_" + col] = float(vals.mean()) if vals.size else np.nan
        summary_rows.append(row)
    summary = pd.DataFrame(summary_rows, columns=SUMMARY_COLUMNS + ["mean_" + c for c in sr2_cols])

    by_source = {s: df[df["source"] == s].set_index("scene")["pearson_r"] for s in sources}
    pair_rows = []
    for a, b in itertools.combinations(sources, 2):
        shared = sorted(set(by_source[a].index) & set(by_source[b].index))
        row = {"source_a": a, "source_b": b, "n": len(shared)}
        if shared:
            res = metrics.paired_tests(
                by_source[a].loc[shared].to_numpy(dtype=np.float64),
                by_source[b].loc[shared].to_numpy(dtype=np.float64),
                n_boot=n_boot,
                seed=seed,
            )
            row.update({
                "mean_diff_r": res["mean_diff"],
                "t": res["t"],
                "p_t": res["p_t"],
                "w": res["w"],
                "p_wilcoxon": res["p_wilcoxon"],
                "diff_ci_low": res["diff_ci_low"],
                "diff_ci_high": res["diff_ci_high"],
            })
        pair_rows.append(row)
    pairwise = pd.DataFrame(pair_rows, columns=PAIRWISE_COLUMNS)
    return summary, pairwise
