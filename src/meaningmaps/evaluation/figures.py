"""Figures that show how well meaning maps predict human attention.

Why: numbers alone hide which scenes a map gets right or wrong. These figures
make the comparison inspectable, in the style of Henderson & Hayes (2017):

* :func:`comparison_figure` -- per-scene Pearson r of each map source (e.g.
  human meaning maps, automatic meaning maps, saliency) with the attention map,
  scenes sorted by the reference source's r, its mean drawn as a dashed line.
* :func:`summary_figure` -- the headline result: mean r (and R^2) of each source
  with its scene-bootstrap 95% CI, the noise ceiling as a band, the reference
  source's mean as a line.
* :func:`gallery_figure` -- a grid of scene image | attention map | each map
  with its r, so a reader can see *what* the correlations summarise.
* :func:`save_map_preview` -- an 8-bit PNG preview of a ``<scene>.npy`` map (in a folder of its
  own, ``previews/``: a map folder holds one file per scene); it lives in
  :mod:`meaningmaps.maps.preview`, which the map jobs import without matplotlib.
* :func:`pick_gallery_scenes` -- a small, deterministic set of scenes spread
  from the best to the worst reference correlation, for the gallery.

Every output is written through :func:`meaningmaps.atomic.atomic_path`, so an
interrupted job never leaves a half-written figure under its final name.
Figures are built as :class:`matplotlib.figure.Figure` objects (no pyplot
global state) on the non-interactive Agg backend.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")


import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402
from PIL import Image  # noqa: E402

from ..atomic import atomic_path  # noqa: E402
from ..data.images import load_rgb  # noqa: E402
from ..errors import InputError  # noqa: E402
from ..maps.preview import MAP_CMAP, minmax, save_map_preview  # noqa: E402,F401  (save_map_preview: re-exported)

__all__ = [
    "comparison_figure",
    "draw_comparison",
    "gallery_figure",
    "pick_gallery_scenes",
    "save_map_preview",
    "summary_figure",
]

_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">"]
_REQUIRED = ("scene", "source", "pearson_r")
_MAX_LABEL = 28
_GALLERY_PANEL_IN = 2.4
_GALLERY_MAX_IMAGE_PX = 800


# --------------------------------------------------------------------------- helpers


def _check_scores(scores: pd.DataFrame, where=None) -> pd.DataFrame:
    """Validate ``scores`` and return one mean pearson_r per (scene, source)."""
    if not isinstance(scores, pd.DataFrame):
        raise InputError(where, f"scores must be a pandas DataFrame, got {type(scores).__name__}.")
    missing = [c for c in _REQUIRED if c not in scores.columns]
    if missing:
        raise InputError(
            where,
            f"scores table lacks column(s) {missing}; it has {list(scores.columns)}.",
            "Pass the per-scene scores table (columns scene, source, pearson_r).",
        )
    if scores.empty:
        raise InputError(where, "scores table has no rows.", "Score at least one scene first.")
    frame = scores.loc[:, list(_REQUIRED)].copy()
    frame["scene"] = frame["scene"].astype(str)
    frame["source"] = frame["source"].astype(str)
    frame["pearson_r"] = pd.to_numeric(frame["pearson_r"], errors="coerce").astype(float)
    # sort=False keeps the sources in order of first appearance.
    return frame.groupby(["scene", "source"], sort=False, as_index=False)["pearson_r"].mean()


def _scene_order(frame: pd.DataFrame, reference_source: str) -> list[str]:
    """Scenes by the reference's r (descending, NaN last, ties by name); else by name."""
    scenes = sorted(frame["scene"].unique())
    ref = frame[frame["source"] == reference_source]
    if ref.empty:
        return scenes
    r = ref.set_index("scene")["pearson_r"].reindex(scenes)
    ranked = sorted(
        scenes,
        key=lambda s: (np.isnan(r[s]), -r[s] if not np.isnan(r[s]) else 0.0, s),
    )
    return ranked


def _source_order(frame: pd.DataFrame, reference_source: str) -> list[str]:
    """Reference source first, then the others in order of first appearance."""
    sources = list(dict.fromkeys(frame["source"]))
    if reference_source in sources:
        sources.remove(reference_source)
        sources.insert(0, reference_source)
    return sources


def _short(label: str, limit: int = _MAX_LABEL) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def _check_map(array, what: str, where=None) -> np.ndarray:
    a = np.asarray(array)
    if a.ndim != 2 or a.size == 0:
        raise InputError(where, f"{what} must be a non-empty 2-D array, got shape {a.shape}.")
    return a


def _save(fig: Figure, path, fmt: str, dpi=None) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")


# --------------------------------------------------------------------------- comparison


def draw_comparison(ax, scores: pd.DataFrame, reference_source: str = "human") -> dict:
    """Draw per-scene Pearson r of each source on ``ax``.

    Returns a dict: ``sources`` (source -> PathCollection, one per source, in
    legend order), ``reference_line`` (dashed Line2D at the reference's mean r,
    or None), ``reference_mean`` (float or None), ``zero_line`` (Line2D or None)
    and ``scene_order`` (list of scenes, left to right).
    """
    frame = _check_scores(scores)
    order = _scene_order(frame, reference_source)
    sources = _source_order(frame, reference_source)
    x_of = {scene: i for i, scene in enumerate(order)}
    colours = colormaps["tab10"]
    k = len(sources)
    dodge = 0.12 if k > 1 else 0.0

    artists: dict = {"sources": {}, "reference_line": None, "reference_mean": None,
                     "zero_line": None, "scene_order": order}
    for i, source in enumerate(sources):
        rows = frame[frame["source"] == source]
        x = rows["scene"].map(x_of).to_numpy(dtype=float) + (i - (k - 1) / 2) * dodge
        y = rows["pearson_r"].to_numpy(dtype=float)
        artists["sources"][source] = ax.scatter(
            x, y, s=36, marker=_MARKERS[i % len(_MARKERS)], color=colours(i % 10),
            edgecolors="white", linewidths=0.5, label=source, zorder=3,
        )

    ref = frame.loc[frame["source"] == reference_source, "pearson_r"].dropna()
    if len(ref):
        mean = float(ref.mean())
        label = f"{reference_source} mean r = {mean:.2f}"
        artists["reference_mean"] = mean
        artists["reference_line"] = ax.axhline(
            mean, color="0.45", linestyle="--", linewidth=1.2, label=label, zorder=2)
        ax.text(0.995, mean, label, transform=blended_transform_factory(ax.transAxes, ax.transData),
                ha="right", va="bottom", fontsize=8, color="0.3", zorder=4,
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.7, pad=1))

    values = frame["pearson_r"].dropna()
    if len(values) and values.min() < 0:
        artists["zero_line"] = ax.axhline(0.0, color="0.75", linewidth=0.8, zorder=1)

    ax.set_xticks(range(len(order)))
    ax.set_xticklabels([_short(s) for s in order], rotation=60, ha="right",
                       rotation_mode="anchor", fontsize=8 if len(order) <= 25 else 7)
    ax.set_xlim(-0.6, len(order) - 0.4)
    if len(values):
        lo, hi = float(values.min()), float(values.max())
        pad = max(0.05, 0.08 * (hi - lo))
        ax.set_ylim(max(-1.02, min(0.0, lo) - pad), min(1.02, hi + pad))
    ax.set_ylabel("Pearson r with attention map")
    ax.set_xlabel("scene")
    ax.grid(axis="x", color="0.93", linewidth=0.6, zorder=0)
    ax.grid(axis="y", color="0.88", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    return artists


def comparison_figure(scores: pd.DataFrame, png_path, pdf_path, reference_source: str = "human",
                      title: str | None = None) -> list[str]:
    """Plot per-scene r of each source vs attention; save PNG (dpi 150) and PDF.

    Returns the scene order on the x axis (by the reference's r, descending, or
    alphabetical when the reference source is absent).
    """
    frame = _check_scores(scores, where=png_path)
    n = frame["scene"].nunique()
    fig = Figure(figsize=(max(6.0, 1.8 + 0.28 * n), 4.6), layout="constrained")
    ax = fig.add_subplot()
    artists = draw_comparison(ax, frame, reference_source)
    if title:
        ax.set_title(title)
    _save(fig, png_path, "png", dpi=150)
    _save(fig, pdf_path, "pdf")
    return list(artists["scene_order"])


# --------------------------------------------------------------------------- summary

_SUMMARY_REQUIRED = ("source", "mean_r", "ci_low", "ci_high", "mean_r2", "r2_ci_low", "r2_ci_high")


def _check_summary(summary: pd.DataFrame, where=None) -> pd.DataFrame:
    if not isinstance(summary, pd.DataFrame) or summary.empty:
        raise InputError(where, "summary table is empty or not a DataFrame.", "Run the evaluation first.")
    missing = [c for c in _SUMMARY_REQUIRED if c not in summary.columns]
    if missing:
        raise InputError(where, f"summary table lacks column(s) {missing}.",
                         "Pass evaluation/summary.csv (meaningmaps.evaluation.scores.summarize).")
    frame = summary.copy()
    frame["source"] = frame["source"].astype(str)
    return frame.sort_values(["mean_r", "source"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _ceiling(frame: pd.DataFrame):
    """(mean, low, high) of the noise ceiling, or None when the summary has none."""
    if "mean_ceiling" not in frame.columns:
        return None
    rows = frame.dropna(subset=["mean_ceiling"])
    if rows.empty:
        return None
    first = rows.iloc[0]
    return float(first["mean_ceiling"]), float(first.get("ceiling_ci_low", np.nan)), \
        float(first.get("ceiling_ci_high", np.nan))


def _summary_panel(ax, frame: pd.DataFrame, value: str, low: str, high: str, reference: str | None,
                   ylabel: str) -> dict:
    """Mean of one statistic per source with its CI as error bars; the reference's mean as a line."""
    x = np.arange(len(frame))
    y = frame[value].to_numpy(dtype=float)
    err = np.vstack([y - frame[low].to_numpy(dtype=float), frame[high].to_numpy(dtype=float) - y])
    err = np.where(np.isfinite(err), err, 0.0)
    is_ref = (frame["source"] == reference).to_numpy()
    colours = np.where(is_ref, "C3", "C0")
    ax.errorbar(x, y, yerr=err, fmt="none", ecolor="0.35", elinewidth=1.2, capsize=4, zorder=3)
    ax.scatter(x, y, s=46, c=list(colours), edgecolors="white", linewidths=0.6, zorder=4)
    for xi, yi in zip(x, y, strict=True):
        ax.annotate(f"{yi:.2f}", (xi, yi), xytext=(8, 0), textcoords="offset points", fontsize=7.5,
                    va="center", color="0.2", zorder=5,
                    bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=0.8))
    out = {"reference_line": None}
    if is_ref.any():
        mean = float(y[is_ref][0])
        out["reference_line"] = ax.axhline(mean, color="C3", linestyle="--", linewidth=1.1, zorder=2,
                                           label=f"{reference} mean = {mean:.2f}")
    ax.set_xticks(x)
    ax.set_xticklabels([_short(s) for s in frame["source"]], rotation=35, ha="right", rotation_mode="anchor",
                       fontsize=9)
    ax.set_xlim(-0.6, len(frame) - 0.4)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", color="0.88", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return out


def draw_summary(ax_r, ax_r2, summary: pd.DataFrame, reference_source: str | None = None) -> dict:
    """Mean r (``ax_r``) and mean R^2 (``ax_r2``) per source with bootstrap 95% CIs, sorted by
    mean r; the noise ceiling as a band (its CI) with a line at its mean on the r panel; the
    reference source's mean as a dashed line on both. Returns the artists a test can check."""
    frame = _check_summary(summary)
    out = {"order": list(frame["source"]), "ceiling_band": None, "ceiling_line": None}
    out["r_reference_line"] = _summary_panel(ax_r, frame, "mean_r", "ci_low", "ci_high", reference_source,
                                             "mean Pearson r with attention (95% CI)")["reference_line"]
    out["r2_reference_line"] = _summary_panel(ax_r2, frame, "mean_r2", "r2_ci_low", "r2_ci_high",
                                              reference_source, "mean R\u00b2 (95% CI)")["reference_line"]
    ceiling = _ceiling(frame)
    if ceiling is not None:
        mean, lo, hi = ceiling
        if np.isfinite(lo) and np.isfinite(hi):
            out["ceiling_band"] = ax_r.axhspan(lo, hi, color="0.55", alpha=0.22, linewidth=0, zorder=1)
        out["ceiling_line"] = ax_r.axhline(mean, color="0.35", linewidth=1.0, zorder=1,
                                           label=f"noise ceiling = {mean:.2f}")
    values = [frame[c].to_numpy(dtype=float) for c in ("ci_low", "ci_high", "mean_r")]
    if ceiling is not None:
        values.append(np.array(ceiling))
    finite = np.concatenate(values)
    finite = finite[np.isfinite(finite)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = max(0.03, 0.08 * (hi - lo))
    ax_r.set_ylim(max(-1.02, min(0.0, lo) - pad), min(1.02, hi + pad))
    r2_hi = np.nanmax(frame["r2_ci_high"].to_numpy(dtype=float)) if frame["r2_ci_high"].notna().any() \
        else np.nanmax(frame["mean_r2"].to_numpy(dtype=float))
    ax_r2.set_ylim(0.0, min(1.02, float(r2_hi) * 1.12 + 0.01))
    for ax in (ax_r, ax_r2):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower left", frameon=False, fontsize=8)
    return out


def semipartial_values(summary: pd.DataFrame, pairs) -> list[tuple[str, str, float]]:
    """(source, control, mean squared semipartial r) for each [source, control] pair the summary
    has (``mean_sr2_over_<control>`` of the source's row; NaN where it has no value)."""
    frame = summary.set_index(summary["source"].astype(str))
    out = []
    for source, control in pairs or []:
        col = f"mean_sr2_over_{control}"
        value = frame.at[source, col] if source in frame.index and col in frame.columns else np.nan
        out.append((source, control, float(value)))
    return out


def draw_semipartials(ax, values: list[tuple[str, str, float]]) -> list[str]:
    """Horizontal bars of the mean squared semipartial r of each pair (the attention variance the
    source explains beyond its control): meaning vs salience both ways reads as two bars. Returns
    the bar labels."""
    labels = [f"{_short(s)} beyond {_short(c)}" for s, c, _ in values]
    y = np.arange(len(values))[::-1]
    v = np.array([val for _, _, val in values], dtype=float)
    ax.barh(y, np.where(np.isfinite(v), v, 0.0), color="C0", height=0.6, zorder=3)
    for yi, vi in zip(y, v, strict=True):
        ax.annotate("n/a" if not np.isfinite(vi) else f"{vi:.3f}", (max(vi, 0) if np.isfinite(vi) else 0, yi),
                    xytext=(4, 0), textcoords="offset points", fontsize=7.5, va="center", color="0.2")
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8.5)
    ax.set_xlabel("mean squared semipartial r")
    finite = v[np.isfinite(v)]
    ax.set_xlim(min(0.0, float(finite.min()) * 1.2) if finite.size else 0.0,
                max(0.05, float(finite.max()) * 1.3) if finite.size else 1.0)
    ax.grid(axis="x", color="0.88", linewidth=0.6, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title("unique variance (evaluation.semipartial)", fontsize=9)
    return labels


def summary_figure(summary: pd.DataFrame, png_path, pdf_path, reference_source: str | None = None,
                   semipartial=None) -> list[str]:
    """Save the summary figure (PNG at dpi 150 and PDF); returns the source order (by mean r).
    ``semipartial``: the [source, control] pairs (evaluation.semipartial) drawn in a third panel."""
    frame = _check_summary(summary, where=png_path)
    n = len(frame)
    values = semipartial_values(frame, semipartial)
    extra = bool(values) and any(np.isfinite(v) for _, _, v in values)
    fig = Figure(figsize=(max(7.0, 2.6 + 1.1 * n) + (4.2 if extra else 0.0), 4.4), layout="constrained")
    if extra:
        ax_r, ax_r2, ax_sp = fig.subplots(1, 3, width_ratios=[1.25, 1.0, 1.0])
        draw_semipartials(ax_sp, values)
    else:
        ax_r, ax_r2 = fig.subplots(1, 2, width_ratios=[1.25, 1.0])
    out = draw_summary(ax_r, ax_r2, frame, reference_source)
    scenes = frame["n_scenes"].max() if "n_scenes" in frame.columns else None
    band = " Grey band: noise ceiling (split-half r, Spearman-Brown), 95% CI." if out["ceiling_line"] else ""
    fig.suptitle(f"Map sources against human attention{f' ({int(scenes)} scenes)' if scenes else ''}", fontsize=11)
    fig.get_layout_engine().set(h_pad=0.08)
    fig.text(0.5, 0.0, f"Error bars: scene-bootstrap 95% CI.{band}", ha="center", va="top", fontsize=8, color="0.3")
    _save(fig, png_path, "png", dpi=150)
    _save(fig, pdf_path, "pdf")
    return out["order"]


# --------------------------------------------------------------------------- gallery


def _thumbnail(path) -> np.ndarray:
    """A scene image as a small RGB array for the gallery, read exactly as the patches read it
    (:func:`meaningmaps.data.images.load_rgb`: 16-bit, palette and alpha handled; errors name the file)."""
    im = Image.fromarray(load_rgb(path))
    im.thumbnail((_GALLERY_MAX_IMAGE_PX, _GALLERY_MAX_IMAGE_PX))
    return np.asarray(im)


def _blank(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9, color="0.5",
            transform=ax.transAxes)


GALLERY_NOTE = ("Each map is min-max scaled to its own range (colours are not comparable between "
                "panels); r: Pearson r of the map with the scene's attention map.")


def _panel_r(ax, r) -> None:
    if r is not None and np.isfinite(r):
        ax.text(0.03, 0.04, f"r = {r:.2f}", transform=ax.transAxes, ha="left", va="bottom", fontsize=8,
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.75, pad=1.5))


def gallery_figure(rows: list[dict], png_path, max_rows: int = 6) -> Figure:
    """Grid of scene image | attention map | each map source, one row per scene (no attention
    column when no row has one: a study without fixations).

    Each map is min-max scaled on its own and shown with a perceptual colormap;
    a row's ``r`` (source -> Pearson r with its attention map) is printed on
    each map panel, and a note under the grid says how the maps are scaled.
    A missing image (None) or a map a row lacks leaves a labelled blank panel.
    Returns the figure (already saved).
    """
    rows = list(rows)[: max(0, int(max_rows))]
    if not rows:
        raise InputError(png_path, "gallery has no rows.", "Pass at least one scene (and max_rows >= 1).")
    sources: list[str] = list(dict.fromkeys(s for row in rows for s in row.get("maps", {})))
    with_attention = any(row.get("attention") is not None for row in rows)  # none: a study without fixations
    columns = ["image", *(["attention"] if with_attention else []), *sources]
    shaped = rows[0]["attention"] if with_attention else next(iter(rows[0].get("maps", {}).values()), None)
    if shaped is None:
        raise InputError(png_path, "gallery's first row has neither an attention map nor a map.",
                         "pass each scene's maps.")
    first = _check_map(shaped, f"first map of {rows[0].get('scene')!r}", png_path)
    aspect = float(np.clip(first.shape[0] / first.shape[1], 0.4, 2.0))
    panel_w, panel_h = _GALLERY_PANEL_IN, _GALLERY_PANEL_IN * aspect
    fig = Figure(figsize=(panel_w * len(columns) + 0.4, panel_h * len(rows) + 0.8))
    axes = fig.subplots(len(rows), len(columns), squeeze=False)
    cmap = colormaps[MAP_CMAP]

    for r, row in enumerate(rows):
        scene = str(row.get("scene", f"row {r}"))
        for c, column in enumerate(columns):
            ax = axes[r, c]
            ax.set_axis_off()
            if r == 0:
                ax.set_title(column, fontsize=10)
            if column == "image":
                if row.get("image") is None:
                    _blank(ax, "no image")
                else:
                    ax.imshow(_thumbnail(row["image"]))
                ax.text(-0.04, 0.5, _short(scene, 24), transform=ax.transAxes, rotation=90,
                        ha="right", va="center", fontsize=9)
                continue
            if column == "attention":
                array = row.get("attention")
            else:
                array = row.get("maps", {}).get(column)
            if array is None:
                _blank(ax, "n/a")
                continue
            array = _check_map(array, f"{column} map of {scene!r}", png_path)
            ax.imshow(minmax(array), cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
            if column != "attention":
                _panel_r(ax, (row.get("r") or {}).get(column))
    height = fig.get_figheight()
    note = GALLERY_NOTE if with_attention else GALLERY_NOTE.split(";")[0] + "."
    fig.text(0.5, 0.1 / height, note, ha="center", va="bottom", fontsize=8, color="0.3", wrap=True)
    fig.subplots_adjust(left=0.04, right=0.99, top=1 - 0.35 / height, bottom=0.35 / height,
                        wspace=0.04, hspace=0.06)
    _save(fig, png_path, "png", dpi=100)
    return fig


# --------------------------------------------------------------------------- previews


# --------------------------------------------------------------------------- selection


def pick_gallery_scenes(scores: pd.DataFrame, n: int, reference_source: str = "human") -> list[str]:
    """Pick ``n`` scenes spread evenly from best to worst reference r (deterministic).

    Includes the best and the worst scene when n >= 2. Without the reference
    source, scenes are ranked by their mean r over all sources. Scenes with no
    finite r come last. Returns at most as many scenes as there are.
    """
    n = int(n)
    if n <= 0:
        return []
    frame = _check_scores(scores)
    if (frame["source"] == reference_source).any():
        frame = frame[frame["source"] == reference_source]
    r = frame.groupby("scene")["pearson_r"].mean()
    ranked = sorted(r.index, key=lambda s: (np.isnan(r[s]), -r[s] if not np.isnan(r[s]) else 0.0, s))
    finite = [s for s in ranked if not np.isnan(r[s])]
    rest = [s for s in ranked if np.isnan(r[s])]
    if n >= len(finite):
        return (finite + rest)[:n]
    if n == 1:
        return [finite[0]]
    idx = np.floor(np.linspace(0, len(finite) - 1, n) + 0.5).astype(int)
    return [finite[i] for i in dict.fromkeys(idx.tolist())]
