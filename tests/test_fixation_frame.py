"""Units and frames (issue 21 §2): fractions of the image and screen offsets converted exactly, the
span test and the dropped share refusing coordinates that cannot be right, maps resized only at
their aspect ratio, and one sign test for the input check and scoring. The cases as a user meets
them (messages, through snakemake) are in tests/test_bad_input.py."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from meaningmaps.data import fixation_frame as frame
from meaningmaps.data.external_maps import bilinear_resize, imported_map, map_source_settings, same_aspect
from meaningmaps.data.fixation_tables import dropped_summary
from meaningmaps.data.fixations import load_fixations, scene_fixations
from meaningmaps.data.input_checks import check_fixation_file, check_scene_files
from meaningmaps.errors import InputError
from meaningmaps.evaluation.saliency_metrics import has_negative_values, kl_divergence
from meaningmaps.matlab import matlab_round


def _csv(path, x, y, scene="s"):
    pd.DataFrame({"scene": scene, "x": x, "y": y, "subject": "p1"}).to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- units: fraction


def test_fractions_become_pixels_exactly(tmp_path):
    """col = 0.5 + x W, row = 0.5 + y H: the centre of every pixel (c - 0.5) / W lands on pixel c,
    0 on the left edge (pixel 1); the same values as the formula, bit for bit."""
    h, w = 768, 1024
    cols = np.arange(1, w + 1, dtype=np.float64)
    rows = np.resize(np.arange(1, h + 1, dtype=np.float64), w)
    x, y = (cols - 0.5) / w, (rows - 0.5) / h
    x[0], y[0] = 0.0, 0.0  # the top-left corner: on pixel (1, 1)
    path = _csv(tmp_path / "f.csv", x, y)
    table, dropped = scene_fixations(path, "s", h, w, settings={"units": "fraction"})
    assert dropped == 0 and table.attrs["origin"] is None
    back = load_fixations(path)  # x, y as the CSV parser reads them
    assert np.array_equal(table["col"].to_numpy(), 0.5 + back["col"].to_numpy() * w)
    assert np.array_equal(table["row"].to_numpy(), 0.5 + back["row"].to_numpy() * h)
    assert np.array_equal(matlab_round(table["col"].to_numpy())[1:], cols[1:])
    assert np.array_equal(matlab_round(table["row"].to_numpy())[1:], rows[1:])
    assert table["col"].iloc[0] == 0.5 and matlab_round(np.array([0.5]))[0] == 1


def test_fraction_one_is_the_right_edge_off_the_image(tmp_path):
    path = _csv(tmp_path / "f.csv", [0.5, 1.0], [0.5, 0.5])
    with pytest.raises(InputError, match=r"1 of 2 fixation\(s\) fall outside"):
        scene_fixations(path, "s", 10, 20, settings={"units": "fraction"})


def test_fraction_and_pixel_readings_give_the_same_table(tmp_path):
    """Fractions of dyadic pixel positions (exact in decimal) give the 1-based table of the pixels."""
    rng = np.random.default_rng(0)
    col = np.round(rng.uniform(1, 512, 60) * 8) / 8
    row = np.round(rng.uniform(1, 384, 60) * 8) / 8
    pixels, _ = scene_fixations(_csv(tmp_path / "p.csv", col, row), "s", 384, 512, settings={"origin": 1})
    fractions, _ = scene_fixations(_csv(tmp_path / "f.csv", (col - 0.5) / 512, (row - 0.5) / 384), "s", 384, 512,
                                   settings={"units": "fraction"})
    pd.testing.assert_frame_equal(fractions, pixels, check_exact=True)


# --------------------------------------------------------------------------- offset


@pytest.mark.parametrize("origin", [0, 1])
def test_offset_is_subtracted_before_the_origin(tmp_path, origin):
    rng = np.random.default_rng(1)  # eighths of a pixel: x + 448 - 448 is x again in floating point
    col, row = np.round(rng.uniform(1, 500, 40) * 8) / 8, np.round(rng.uniform(1, 380, 40) * 8) / 8
    own, _ = scene_fixations(_csv(tmp_path / "i.csv", col, row), "s", 384, 512, settings={"origin": origin})
    screen = _csv(tmp_path / "s.csv", col + 448, row + 156)
    shifted, _ = scene_fixations(screen, "s", 384, 512, settings={"origin": origin, "offset": [448, 156]})
    assert np.array_equal(shifted["col"].to_numpy(), own["col"].to_numpy())
    assert np.array_equal(shifted["row"].to_numpy(), own["row"].to_numpy())


def test_offset_takes_part_in_deciding_the_origin(tmp_path):
    """Unset origin: the offset coordinates prove it (x = 448 on screen is x = 0 on the image: 0-based)."""
    from meaningmaps.config import validate_config
    from meaningmaps.data.fixations import resolve_settings

    path = _csv(tmp_path / "s.csv", [448.0, 600.0], [200.0, 250.0])
    cfg = validate_config({"dataset": {"fixations": str(path), "fixation_csv": {"offset": [448, 156]}}})
    settings = resolve_settings(cfg, path, load_fixations(path), {"s": (384, 512)})
    assert settings["origin"] == 0 and "x = 0" in settings["origin_evidence"]


@pytest.mark.parametrize("keys,says", [
    ({"units": "fraction", "offset": [1, 2]}, r"units: is fraction and dataset.fixation_csv.offset is set"),
    ({"units": "inches"}, r"units: must be pixels or fraction"),
    ({"offset": [1]}, r"offset: must be \[x, y\]"),
])
def test_keys_that_cannot_go_together(keys, says):
    with pytest.raises(InputError, match=says):
        frame.check_frame_keys(keys.get("units"), keys.get("offset"), keys.get("origin"))


def test_mat_file_takes_neither_units_nor_offset(hh17_file):
    for settings in ({"units": "fraction"}, {"offset": [1, 1]}, {"units": "pixels"}):
        with pytest.raises(InputError, match=r"is set, but this is a .mat file"):
            scene_fixations(hh17_file, "basketball_net", 768, 1024, settings=settings)


# --------------------------------------------------------------------------- the span test


def _box(n, x0, y0, dx, dy):
    rng = np.random.default_rng(n)
    return x0 + rng.uniform(0, 1, n) * dx, y0 + rng.uniform(0, 1, n) * dy


def test_span_refuses_ten_fixations_in_a_tiny_box_and_no_fewer(tmp_path):
    x, y = _box(10, 200, 100, 30, 20)  # within 30 x 20 px of a 1024 x 768 image: under 5% of both
    with pytest.raises(InputError, match=r"its 10 fixations lie within x 2\d\d.* under 5% of the width"):
        scene_fixations(_csv(tmp_path / "a.csv", x, y), "s", 768, 1024, settings={"origin": 1})
    scene_fixations(_csv(tmp_path / "b.csv", x[:9], y[:9]), "s", 768, 1024, settings={"origin": 1})  # too few to tell
    table, _ = scene_fixations(tmp_path / "a.csv", "s", 768, 1024, settings={"origin": 1, "units": "pixels"})
    assert len(table) == 10  # said to be pixels: not tested


def test_span_of_five_percent_in_one_axis_passes(tmp_path):
    x, y = _box(50, 200, 100, 50, 1)
    x[0], x[1] = 200, 250  # exactly 5% of the 1000 px width
    scene_fixations(_csv(tmp_path / "a.csv", x, y), "s", 800, 1000, settings={"origin": 1})
    x[1] = 249.99
    with pytest.raises(InputError, match="under 5%"):
        scene_fixations(_csv(tmp_path / "a.csv", x, y), "s", 800, 1000, settings={"origin": 1})


def test_span_is_made_on_a_mat_file_too(tmp_path):
    from meaningmaps.data.fixations import select_scene_fixations

    rows = pd.DataFrame({"scene": "s", "row": np.linspace(1, 2, 12), "col": np.linspace(1, 2, 12), "duration": np.nan,
                         "subject": "p", "fix_index": np.nan})
    with pytest.raises(InputError, match=r"lie within col 1 to 2 and row 1 to 2.*Henderson & Hayes .mat layout"):
        select_scene_fixations({"s": rows, None: rows.iloc[:0]}, tmp_path / "e.mat", "s", 768, 1024)


def test_real_and_demo_fixations_pass_the_frame_checks(hh17_file, tmp_path):
    """Henderson & Hayes (2017): 40 scenes, 93,485 fixations, every scene's checked as the input check
    does; none refused (their boxes span 79.6% of the width and 70.6% of the height at the least)."""
    from meaningmaps.data.demo import make_demo_study

    fix = load_fixations(hh17_file)
    sizes = {s: (768, 1024) for s in fix["scene"].unique()}
    report = check_fixation_file(hh17_file, sizes, "drop", {"origin": 1, "outside_max": 0.05})
    assert len(report["checked"]) == 40 and not [c for c in report["checked"] if c["problem"]]
    assert report["fixations"].endswith("93485 fixations kept in 40 scene(s)")
    for _, g in fix.groupby("scene"):
        assert np.ptp(g["col"]) >= 0.79 * 1024 and np.ptp(g["row"]) >= 0.70 * 768
    make_demo_study(tmp_path / "demo", n_scenes=8)
    path = tmp_path / "demo" / "fixations.csv"
    report = check_fixation_file(path, {f"scene_{i:02d}": (384, 512) for i in range(1, 9)}, "error", {"origin": 1})
    assert not [c for c in report["checked"] if c["problem"]]


# --------------------------------------------------------------------------- the dropped share


def test_dropped_share_up_to_the_maximum_is_dropped_beyond_it_refused(tmp_path):
    x, y = np.linspace(10, 500, 20), np.linspace(10, 370, 20)
    x[0] = 600  # 1 of 20 off the 512-wide image: 5%
    path = _csv(tmp_path / "a.csv", x, y)
    table, dropped = scene_fixations(path, "s", 384, 512, outside="drop", settings={"origin": 1, "outside_max": 0.05})
    assert (len(table), dropped) == (19, 1)
    x[1] = 700  # 2 of 20: 10%
    path = _csv(tmp_path / "a.csv", x, y)
    with pytest.raises(InputError, match=r"2 of 20 fixations \(10\.0%\) fall outside .*dataset\.fixations_outside_max \(0\.05\)"):
        scene_fixations(path, "s", 384, 512, outside="drop", settings={"origin": 1, "outside_max": 0.05})
    table, dropped = scene_fixations(path, "s", 384, 512, outside="drop", settings={"origin": 1})  # no limit set
    assert (len(table), dropped) == (18, 2)


def test_config_default_share_is_the_schemas():
    from meaningmaps.config import validate_config
    from meaningmaps.data.fixations import fixation_settings

    assert fixation_settings(validate_config({}))["outside_max"] == frame.OUTSIDE_MAX_DEFAULT == 0.05
    cfg = validate_config({"dataset": {"fixations_outside_max": 0.5}})
    assert fixation_settings(cfg)["outside_max"] == 0.5


def test_study_summary_of_kept_and_dropped():
    assert dropped_summary({"a": (10, 0), "b": (9, 1)}) == ("19 fixations kept in 2 scene(s); 1 (5.0%) dropped as "
                                                            "outside their image (dataset.fixations_outside: drop), "
                                                            "in 1 scene(s): b 1")


def test_to_console_writes_the_original_stderr_inside_a_log(tmp_path, capfd):
    from types import SimpleNamespace

    from meaningmaps.workflow.rule_support import logged, to_console

    log = tmp_path / "job.log"
    job = SimpleNamespace(log=[str(log)], threads=1, resources={})
    old = sys.__stderr__
    try:
        sys.__stderr__ = sys.stderr  # capfd's stderr stands for the terminal
        with logged(job):
            to_console("12 fixations kept")
    finally:
        sys.__stderr__ = old
    assert "12 fixations kept" in log.read_text() and "12 fixations kept" in capfd.readouterr().err


# --------------------------------------------------------------------------- maps: aspect ratio


@pytest.mark.parametrize("shape,size,same", [
    ((192, 256), (384, 512), True), ((256, 192), (384, 512), False), ((384, 512), (384, 512), True),
    ((256, 341), (768, 1024), True), ((256, 342), (768, 1024), True), ((256, 345), (768, 1024), False),
    ((24, 32), (768, 1024), True), ((23, 32), (768, 1024), True), ((20, 32), (768, 1024), False),
])
def test_same_aspect_to_within_a_pixel(shape, size, same):
    assert same_aspect(shape, size) is same


def test_resize_true_of_the_same_aspect_is_the_bilinear_resize_bit_for_bit(tmp_path):
    m = np.random.default_rng(3).random((192, 256)) + 0.1
    np.save(tmp_path / "m.npy", m)
    got = imported_map(tmp_path / "m.npy", (384, 512), source="s", resize=True)
    assert np.array_equal(got, bilinear_resize(m, (384, 512)))


def test_resize_stretch_takes_another_aspect(tmp_path):
    m = np.random.default_rng(4).random((512, 384)) + 0.1  # the scene's map stored transposed
    np.save(tmp_path / "m.npy", m)
    with pytest.raises(InputError, match=r"aspect ratios differ.*resize: stretch"):
        imported_map(tmp_path / "m.npy", (384, 512), source="s", resize=True)
    got = imported_map(tmp_path / "m.npy", (384, 512), source="s", resize="stretch")
    assert np.array_equal(got, bilinear_resize(m, (384, 512)))
    report = check_scene_files("a", (384, 512), [], maps={"s": (str(tmp_path / "m.npy"), None, "stretch")})
    assert report["checked"][0]["problem"] is None


def test_resize_setting_is_false_true_or_stretch():
    assert map_source_settings({"a": {"folder": "f", "resize": "stretch"}})["a"]["resize"] == "stretch"
    assert map_source_settings({"a": "f"})["a"]["resize"] is False
    with pytest.raises(InputError, match=r"dataset.maps.a.resize: must be false, true or stretch"):
        map_source_settings({"a": {"folder": "f", "resize": "yes please"}})


# --------------------------------------------------------------------------- maps: one sign test


@pytest.mark.parametrize("low", [-1e-17, -1e-3, -2.0])
def test_input_check_and_kl_divergence_refuse_the_same_maps(tmp_path, low):
    """FFT-rounding negatives pass both; real ones stop both (the input check before any map is made)."""
    m = np.random.default_rng(5).random((30, 40))
    m[0, 0] = low
    np.save(tmp_path / "m.npy", m)
    ref = np.random.default_rng(6).random((30, 40))
    refused = has_negative_values(m)
    assert refused is (low < -1e-9)
    if refused:
        with pytest.raises(InputError, match="both signs"):
            imported_map(tmp_path / "m.npy", (30, 40), source="s")
        with pytest.raises(ValueError, match="negative values"):
            kl_divergence(m, ref)
    else:
        imported_map(tmp_path / "m.npy", (30, 40), source="s")
        kl_divergence(m, ref)


def test_cli_score_keeps_the_dropped_share_of_its_configfile():
    from meaningmaps.config import validate_config
    from meaningmaps.evaluation.score_folders import study_config

    cfg = validate_config({"dataset": {"fixations_outside": "drop", "fixations_outside_max": 0.3}})
    assert study_config(cfg, ["m=maps"], "fix.csv")["dataset"]["fixations_outside_max"] == 0.3
