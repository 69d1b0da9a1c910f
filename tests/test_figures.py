"""Tests for meaningmaps.evaluation.figures: comparison plot, gallery, map previews, scene picking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from meaningmaps.errors import InputError
from meaningmaps.evaluation import figures

HUMAN_R = {"a_kitchen": 0.55, "b_street": 0.81, "c_office": 0.32, "d_park": 0.67, "e_bath": 0.12}


def make_scores(with_reference: bool = True) -> pd.DataFrame:
    rows = []
    for i, (scene, r) in enumerate(HUMAN_R.items()):
        if with_reference:
            rows.append({"scene": scene, "source": "human", "pearson_r": r, "r2": r * r})
        rows.append({"scene": scene, "source": "auto", "pearson_r": r - 0.1, "r2": (r - 0.1) ** 2})
        rows.append({"scene": scene, "source": "saliency", "pearson_r": 0.2 - 0.1 * i,
                     "r2": (0.2 - 0.1 * i) ** 2})
    return pd.DataFrame(rows)


def expected_order() -> list[str]:
    return sorted(HUMAN_R, key=HUMAN_R.get, reverse=True)


# ------------------------------------------------------------------ comparison_figure


def test_comparison_figure_writes_png_and_pdf_sorted_by_reference(tmp_path):
    png, pdf = tmp_path / "out" / "cmp.png", tmp_path / "out" / "cmp.pdf"
    order = figures.comparison_figure(make_scores(), png, pdf, title="test")
    assert order == expected_order()
    assert png.stat().st_size > 1000 and pdf.stat().st_size > 1000
    assert pdf.read_bytes().startswith(b"%PDF")
    with Image.open(png) as im:
        im.load()
        assert im.format == "PNG" and im.width > 300 and im.height > 200
    # Atomic writes leave no temporary files behind.
    assert sorted(p.name for p in png.parent.iterdir()) == ["cmp.pdf", "cmp.png"]


def test_comparison_figure_without_reference_is_alphabetical(tmp_path):
    png, pdf = tmp_path / "cmp.png", tmp_path / "cmp.pdf"
    order = figures.comparison_figure(make_scores(with_reference=False), png, pdf)
    assert order == sorted(HUMAN_R)
    assert png.stat().st_size > 0 and pdf.stat().st_size > 0


def test_comparison_figure_width_grows_with_scene_count(tmp_path):
    def width(n_scenes):
        scores = pd.DataFrame({"scene": [f"s{i:02d}" for i in range(n_scenes)], "source": "human",
                               "pearson_r": np.linspace(0.9, 0.1, n_scenes)})
        png = tmp_path / f"w{n_scenes}.png"
        figures.comparison_figure(scores, png, tmp_path / f"w{n_scenes}.pdf")
        with Image.open(png) as im:
            return im.width

    assert width(40) > width(8) * 1.5


def test_comparison_figure_rejects_missing_columns(tmp_path):
    with pytest.raises(InputError, match="pearson_r"):
        figures.comparison_figure(pd.DataFrame({"scene": ["a"], "source": ["human"]}),
                                  tmp_path / "x.png", tmp_path / "x.pdf")
    assert not (tmp_path / "x.png").exists()


# ------------------------------------------------------------------ draw_comparison


def test_draw_comparison_one_marker_set_per_source_and_reference_mean():
    scores = make_scores()
    ax = Figure().add_subplot()
    artists = figures.draw_comparison(ax, scores, "human")

    assert list(artists["sources"]) == ["human", "auto", "saliency"]
    collections = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(collections) == 3
    for source, coll in artists["sources"].items():
        assert coll in collections
        assert coll.get_label() == source
        y = np.asarray(coll.get_offsets())[:, 1]
        assert len(y) == len(HUMAN_R)
        expected = scores.loc[scores["source"] == source, "pearson_r"].to_numpy()
        assert np.allclose(np.sort(y), np.sort(expected))
    # Distinct marker shapes and colours per source.
    paths = [tuple(map(tuple, c.get_paths()[0].vertices.round(3))) for c in collections]
    assert len(set(paths)) == 3
    colours = {tuple(np.round(c.get_facecolor()[0], 3)) for c in collections}
    assert len(colours) == 3

    # Human markers are left-to-right in descending r.
    human = np.asarray(artists["sources"]["human"].get_offsets())
    assert np.all(np.diff(human[np.argsort(human[:, 0]), 1]) < 0)

    line = artists["reference_line"]
    mean = np.mean(list(HUMAN_R.values()))
    assert isinstance(line, Line2D) and line in ax.lines
    assert line.get_linestyle() == "--"
    assert np.allclose(line.get_ydata(), mean)
    assert artists["reference_mean"] == pytest.approx(mean)
    assert line.get_label() == f"human mean r = {mean:.2f}"
    legend_texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend_texts == ["human", "auto", "saliency", f"human mean r = {mean:.2f}"]

    assert artists["scene_order"] == expected_order()
    assert [t.get_text() for t in ax.get_xticklabels()] == expected_order()
    assert ax.get_ylabel() == "Pearson r with attention map"
    assert all(t.get_rotation() > 0 for t in ax.get_xticklabels())


def test_draw_comparison_without_reference_has_no_dashed_line():
    ax = Figure().add_subplot()
    artists = figures.draw_comparison(ax, make_scores(with_reference=False), "human")
    assert artists["reference_line"] is None and artists["reference_mean"] is None
    assert not [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert list(artists["sources"]) == ["auto", "saliency"]


def test_draw_comparison_reference_mean_ignores_nan():
    scores = make_scores()
    scores.loc[(scores["scene"] == "e_bath") & (scores["source"] == "human"), "pearson_r"] = np.nan
    artists = figures.draw_comparison(Figure().add_subplot(), scores, "human")
    finite = [r for s, r in HUMAN_R.items() if s != "e_bath"]
    assert artists["reference_mean"] == pytest.approx(np.mean(finite))
    assert artists["scene_order"][-1] == "e_bath"  # NaN reference r sorts last


# ------------------------------------------------------------------ gallery_figure


def _gallery_rows(tmp_path, n_sources, image_kinds=("RGB", "L")):
    rng = np.random.default_rng(0)
    rows = []
    for k, kind in enumerate(image_kinds):
        if kind is None:
            image = None
        else:
            image = tmp_path / f"scene{k}_{kind}.png"
            channels = {"RGB": 3, "RGBA": 4}.get(kind)
            shape = (48, 64, channels) if channels else (48, 64)
            Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8), mode=kind).save(image)
        maps = {f"src{j}": rng.random((24, 32)) for j in range(n_sources)}
        rows.append({"scene": f"scene{k}", "image": image, "attention": rng.random((24, 32)),
                     "maps": maps})
    return rows


def test_gallery_figure_size_grows_with_columns(tmp_path):
    sizes = {}
    for n_sources in (1, 2):
        png = tmp_path / f"gallery{n_sources}.png"
        figures.gallery_figure(_gallery_rows(tmp_path, n_sources), png)
        with Image.open(png) as im:
            im.load()
            sizes[n_sources] = im.size
    assert sizes[2][0] > sizes[1][0] * 1.1   # one more column -> wider
    assert abs(sizes[2][1] - sizes[1][1]) < 0.1 * sizes[1][1]  # same number of rows


def test_gallery_figure_handles_greyscale_rgba_and_missing_image(tmp_path):
    png = tmp_path / "gallery.png"
    rows = _gallery_rows(tmp_path, 2, image_kinds=("L", "RGBA", None))
    figures.gallery_figure(rows, png)
    with Image.open(png) as im:
        im.load()
        assert im.format == "PNG" and im.width > 100


def test_gallery_figure_respects_max_rows(tmp_path):
    heights = []
    for max_rows in (1, 3):
        png = tmp_path / f"g{max_rows}.png"
        figures.gallery_figure(_gallery_rows(tmp_path, 1, ("RGB", "L", None)), png, max_rows=max_rows)
        with Image.open(png) as im:
            heights.append(im.height)
    assert heights[1] > heights[0] * 2


def test_gallery_figure_rejects_non_2d_map(tmp_path):
    rows = _gallery_rows(tmp_path, 1, ("L",))
    rows[0]["maps"]["src0"] = np.zeros((4, 4, 3))
    with pytest.raises(InputError, match="2-D"):
        figures.gallery_figure(rows, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


# ------------------------------------------------------------------ save_map_preview


def test_save_map_preview_constant_map(tmp_path):
    png = tmp_path / "const.png"
    with np.errstate(all="raise"):
        figures.save_map_preview(np.full((30, 45), 3.5), png)
    with Image.open(png) as im:
        assert im.size == (45, 30) and im.mode == "RGB"
        pixels = np.asarray(im)
    assert pixels.dtype == np.uint8
    assert (pixels == pixels[0, 0]).all()


def test_save_map_preview_spans_colormap(tmp_path):
    png = tmp_path / "ramp.png"
    array = np.tile(np.linspace(-2.0, 5.0, 40), (10, 1))
    figures.save_map_preview(array, png)
    with Image.open(png) as im:
        pixels = np.asarray(im).astype(int)
    assert pixels.shape == (10, 40, 3)
    # Low end dark, high end bright (inferno), different colours along the ramp.
    assert pixels[0, 0].sum() < pixels[0, -1].sum()
    assert len({tuple(p) for p in pixels[0]}) > 20


# ------------------------------------------------------------------ pick_gallery_scenes


def test_pick_gallery_scenes_spread_includes_best_and_worst():
    scenes = [f"s{i:02d}" for i in range(20)]
    rng = np.random.default_rng(1)
    r = rng.uniform(-0.2, 0.9, len(scenes))
    scores = pd.concat([
        pd.DataFrame({"scene": scenes, "source": "human", "pearson_r": r}),
        pd.DataFrame({"scene": scenes, "source": "auto", "pearson_r": r[::-1]}),
    ])
    picked = figures.pick_gallery_scenes(scores, 5)
    assert len(picked) == 5 and len(set(picked)) == 5
    best, worst = scenes[int(np.argmax(r))], scenes[int(np.argmin(r))]
    assert picked[0] == best and picked[-1] == worst
    picked_r = [r[scenes.index(s)] for s in picked]
    assert picked_r == sorted(picked_r, reverse=True)
    assert picked == figures.pick_gallery_scenes(scores.sample(frac=1, random_state=3), 5)


def test_pick_gallery_scenes_edge_counts():
    scores = make_scores()
    assert figures.pick_gallery_scenes(scores, 0) == []
    assert figures.pick_gallery_scenes(scores, 1) == [expected_order()[0]]
    assert figures.pick_gallery_scenes(scores, 10) == expected_order()
    assert figures.pick_gallery_scenes(scores, 2) == [expected_order()[0], expected_order()[-1]]


# ------------------------------------------------------------------ gallery r, summary figure


def test_gallery_prints_each_panels_r_and_the_scaling_note(tmp_path):
    rows = _gallery_rows(tmp_path, 2, ("L",))
    rows[0]["r"] = {"src0": 0.534, "src1": float("nan")}
    fig = figures.gallery_figure(rows, tmp_path / "g.png")
    texts = [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]
    assert "r = 0.53" in texts
    assert not any(t.startswith("r = nan") for t in texts)
    assert figures.GALLERY_NOTE in texts and "own range" in figures.GALLERY_NOTE


def make_summary(ceiling: bool = True) -> pd.DataFrame:
    rows = []
    for source, r in (("center", 0.45), ("human", 0.62), ("salience", 0.38)):
        rows.append({"source": source, "n_scenes": 5, "mean_r": r, "ci_low": r - 0.05, "ci_high": r + 0.04,
                     "mean_r2": r * r, "r2_ci_low": r * r - 0.03, "r2_ci_high": r * r + 0.03,
                     "mean_ceiling": 0.8 if ceiling else np.nan, "ceiling_ci_low": 0.76 if ceiling else np.nan,
                     "ceiling_ci_high": 0.83 if ceiling else np.nan})
    return pd.DataFrame(rows)


def test_draw_summary_sorts_by_mean_r_with_ceiling_band_and_reference_lines():
    fig = Figure()
    ax_r, ax_r2 = fig.subplots(1, 2)
    out = figures.draw_summary(ax_r, ax_r2, make_summary(), reference_source="human")
    assert out["order"] == ["human", "center", "salience"]
    assert [t.get_text() for t in ax_r.get_xticklabels()] == out["order"]
    assert out["r_reference_line"].get_ydata()[0] == pytest.approx(0.62)
    assert out["r2_reference_line"].get_ydata()[0] == pytest.approx(0.62**2)
    assert out["ceiling_line"].get_ydata()[0] == pytest.approx(0.8)
    band = out["ceiling_band"]  # axhspan: a rectangle from the CI's low to high end (data y)
    assert band.get_y() == pytest.approx(0.76) and band.get_y() + band.get_height() == pytest.approx(0.83)
    assert ax_r.get_ylim()[1] >= 0.83
    labels = ax_r.get_legend_handles_labels()[1]
    assert "human mean = 0.62" in labels and "noise ceiling = 0.80" in labels


def test_draw_summary_without_ceiling_or_reference():
    fig = Figure()
    ax_r, ax_r2 = fig.subplots(1, 2)
    out = figures.draw_summary(ax_r, ax_r2, make_summary(ceiling=False), reference_source="absent")
    assert out["ceiling_line"] is None and out["ceiling_band"] is None
    assert out["r_reference_line"] is None and out["r2_reference_line"] is None
    fig2 = Figure()
    out2 = figures.draw_summary(*fig2.subplots(1, 2), make_summary().drop(columns=["mean_ceiling"]))
    assert out2["ceiling_line"] is None


def test_summary_figure_writes_png_and_pdf(tmp_path):
    order = figures.summary_figure(make_summary(), tmp_path / "s.png", tmp_path / "s.pdf", "human")
    assert order == ["human", "center", "salience"]
    assert (tmp_path / "s.png").stat().st_size > 1000 and (tmp_path / "s.pdf").stat().st_size > 1000
    with pytest.raises(InputError, match="lacks column"):
        figures.summary_figure(make_summary().drop(columns="mean_r2"), tmp_path / "x.png", tmp_path / "x.pdf")
