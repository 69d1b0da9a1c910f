"""Fixation adapters: .mat (Henderson & Hayes 2017 layout) and .csv -> one tidy table; size checks."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io

from meaningmaps.errors import InputError
from meaningmaps.fixations import COLUMNS, check_fixations, load_fixations

HH17 = (Path(__file__).resolve().parents[2] / "shared" / "data" / "hh17"
        / "HendersonHayes17-NHB_eyetracking_data.mat")


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------------------- CSV


def test_csv_maps_x_to_col_and_y_to_row(tmp_path):
    p = write(tmp_path / "fix.csv",
              "scene,x,y,duration,subject\n"
              "kitchen.jpg,10,20,250,s1\n"
              "kitchen,3.5,4.5,,s2\n"
              "street,1000,700,180.5,7\n")
    t = load_fixations(p)
    assert list(t.columns) == list(COLUMNS)
    assert t["scene"].tolist() == ["kitchen", "kitchen", "street"]  # image suffix stripped
    assert t["row"].tolist() == [20.0, 4.5, 700.0]
    assert t["col"].tolist() == [10.0, 3.5, 1000.0]
    assert t["duration"].iloc[0] == 250.0 and np.isnan(t["duration"].iloc[1]) and t["duration"].iloc[2] == 180.5
    assert t["subject"].tolist() == ["s1", "s2", "7"]  # subject ids stay text
    assert t["row"].dtype == np.float64 and t["col"].dtype == np.float64
    assert t.attrs["source"] == str(p)


def test_csv_optional_columns(tmp_path):
    p = write(tmp_path / "fix.csv", "Scene, X ,y\nkitchen,1,2\n")  # header case/space tolerated
    t = load_fixations(p)
    assert t["duration"].isna().all()
    assert t["subject"].tolist() == ["unknown"]
    assert (t["row"].iloc[0], t["col"].iloc[0]) == (2.0, 1.0)


@pytest.mark.parametrize("drop", ["y", "scene"])
def test_csv_missing_column_names_column_and_file(tmp_path, drop):
    cols = [c for c in ("scene", "x", "y", "duration") if c != drop]
    p = write(tmp_path / "fixations_in.csv", ",".join(cols) + "\n" + ",".join(["1"] * len(cols)) + "\n")
    with pytest.raises(InputError) as e:
        load_fixations(p)
    msg = str(e.value)
    assert repr(drop) in msg
    assert str(p) in msg
    assert e.value.fix


def test_csv_non_numeric_coordinate(tmp_path):
    p = write(tmp_path / "fix.csv", "scene,x,y\nkitchen,1,2\nkitchen,abc,3\n")
    with pytest.raises(InputError, match=r"'x'.*line 3"):
        load_fixations(p)


def test_csv_blank_coordinate(tmp_path):
    p = write(tmp_path / "fix.csv", "scene,x,y\nkitchen,1,\n")
    with pytest.raises(InputError, match="'y'"):
        load_fixations(p)


def test_unknown_suffix_and_missing_file(tmp_path):
    p = write(tmp_path / "fix.txt", "scene,x,y\n")
    with pytest.raises(InputError) as e:
        load_fixations(p)
    assert str(p) in str(e.value) and ".mat" in str(e.value) and ".csv" in str(e.value)
    with pytest.raises(InputError, match="not found"):
        load_fixations(tmp_path / "absent.csv")


def test_unreadable_mat(tmp_path):
    p = tmp_path / "broken.mat"
    p.write_bytes(b"this is not a MAT file at all" * 10)
    with pytest.raises(InputError) as e:
        load_fixations(p)
    assert str(p) in str(e.value) and "Henderson & Hayes" in str(e.value)


def test_mat_without_D(tmp_path):
    p = tmp_path / "other.mat"
    scipy.io.savemat(p, {"X": np.zeros(3)})
    with pytest.raises(InputError, match=r"no variable D .*\['X'\]"):
        load_fixations(p)


# ----------------------------------------------------------------------------------------- .mat


def cell(items, shape):
    c = np.empty(shape, dtype=object)
    for i, v in enumerate(items):
        c.flat[i] = v
    return c


def hh17_like(tmp_path) -> Path:
    """Two subjects in the HH17 layout; one with 40x1 cells, one with 1xN cells and an empty cell."""
    dtype = [("sbj", object), ("image", object), ("fixN", object), ("loc", object), ("dur", object)]
    D = np.empty((1, 2), dtype=dtype)
    D[0, 0]["sbj"] = np.array([[31]], dtype=np.uint8)
    D[0, 0]["image"] = cell(["a.jpg", "b.jpg"], (2, 1))
    D[0, 0]["fixN"] = cell([np.array([[2], [3]]), np.array([[2]])], (2, 1))
    D[0, 0]["loc"] = cell([np.array([[700, 1000], [1, 2]], dtype=np.uint16),
                           np.array([[5, 6]], dtype=np.uint16)], (2, 1))
    D[0, 0]["dur"] = cell([np.array([[220], [970]], dtype=np.uint16), np.array([[100]], dtype=np.uint16)], (2, 1))
    D[0, 1]["sbj"] = np.array([[34]], dtype=np.uint8)
    D[0, 1]["image"] = cell(["a.jpg", "b.jpg"], (1, 2))
    D[0, 1]["fixN"] = cell([np.zeros((0, 0)), np.array([[2]])], (1, 2))
    D[0, 1]["loc"] = cell([np.zeros((0, 0)), np.array([[9, 8]], dtype=np.uint16)], (1, 2))
    D[0, 1]["dur"] = cell([np.zeros((0, 0)), np.array([[300]], dtype=np.uint16)], (1, 2))
    p = tmp_path / "hh.mat"
    scipy.io.savemat(p, {"D": D})
    return p


def test_mat_layout(tmp_path):
    t = load_fixations(hh17_like(tmp_path))
    assert list(t.columns) == list(COLUMNS)
    assert t["scene"].tolist() == ["a", "a", "b", "b"]
    assert t["subject"].tolist() == ["31", "31", "31", "34"]
    # loc is [row, col]: row 700 with col 1000 (a col > 768 shows the order was kept)
    assert t["row"].tolist() == [700.0, 1.0, 5.0, 9.0]
    assert t["col"].tolist() == [1000.0, 2.0, 6.0, 8.0]
    assert t["duration"].tolist() == [220.0, 970.0, 100.0, 300.0]
    assert t["row"].dtype == np.float64  # uint16 in the file


def test_mat_scene_names(tmp_path):
    p = hh17_like(tmp_path)
    t = load_fixations(p, scene_names=["b"])
    assert t["scene"].tolist() == ["b", "b"]
    with pytest.raises(InputError) as e:
        load_fixations(p, scene_names=["a", "c"])
    assert "'c'" in str(e.value) and str(p) in str(e.value)


def test_mat_mismatched_lengths(tmp_path):
    dtype = [("sbj", object), ("image", object), ("fixN", object), ("loc", object), ("dur", object)]
    D = np.empty((1, 1), dtype=dtype)
    D[0, 0]["sbj"] = np.array([[1]], dtype=np.uint8)
    D[0, 0]["image"] = cell(["a.jpg"], (1, 1))
    D[0, 0]["fixN"] = cell([np.array([[2], [3]])], (1, 1))
    D[0, 0]["loc"] = cell([np.array([[1, 2], [3, 4]], dtype=np.uint16)], (1, 1))
    D[0, 0]["dur"] = cell([np.array([[5]], dtype=np.uint16)], (1, 1))
    p = tmp_path / "bad.mat"
    scipy.io.savemat(p, {"D": D})
    with pytest.raises(InputError, match="2 fixations but .* 1 durations"):
        load_fixations(p)


# ----------------------------------------------------------------------------------------- checks


def frame(rows, cols, scene="kitchen"):
    return pd.DataFrame({"scene": scene, "row": np.asarray(rows, float), "col": np.asarray(cols, float),
                         "duration": np.nan, "subject": "s"})


def test_check_fixations_edges_follow_matlab_rounding():
    # H=10, W=20: on-image is row in [0.5, 10.5), col in [0.5, 20.5)
    inside = frame([0.5, 10.49, 1, 10], [0.5, 20.49, 20, 1])
    out, n = check_fixations(inside, "kitchen", 10, 20)
    assert n == 0 and len(out) == 4
    for r, c in [(0.49, 1), (10.5, 1), (1, 0.4), (1, 20.5), (-1, 5)]:
        with pytest.raises(InputError):
            check_fixations(frame([r], [c]), "kitchen", 10, 20)


def test_check_fixations_error_message(tmp_path):
    p = write(tmp_path / "fix.csv", "scene,x,y\nkitchen,5,5\nkitchen,21,5\nkitchen,30,2\nother,100,100\n")
    t = load_fixations(p)
    with pytest.raises(InputError) as e:
        check_fixations(t, "kitchen", 10, 20)  # path taken from the table
    msg = str(e.value)
    assert str(p) in msg and "'kitchen'" in msg and "2 of 3" in msg
    assert "col 21" in msg  # an example
    assert "coordinate convention" in msg and "fixations_outside: drop" in msg


def test_check_fixations_drop(tmp_path, caplog):
    t = frame([5, 5, 2, 3], [5, 21, 30, 0.2])
    t = pd.concat([t, frame([1], [1], scene="other")], ignore_index=True)
    with caplog.at_level(logging.WARNING, logger="meaningmaps.fixations"):
        out, n = check_fixations(t, "kitchen", 10, 20, path="f.csv", outside="drop")
    assert n == 3
    assert out["row"].tolist() == [5.0] and out["col"].tolist() == [5.0]
    assert set(out["scene"]) == {"kitchen"}  # only the asked-for scene comes back
    assert "dropped 3 of 4" in caplog.text and "f.csv" in caplog.text


def test_check_fixations_nan_is_error_even_when_dropping():
    t = frame([5, np.nan], [5, 5])
    for outside in ("error", "drop"):
        with pytest.raises(InputError, match="1 fixation"):
            check_fixations(t, "kitchen", 10, 20, path="f.csv", outside=outside)
    with pytest.raises(ValueError):
        check_fixations(frame([5], [5]), "kitchen", 10, 20, outside="ignore")


# ----------------------------------------------------------------------------------------- real data


@pytest.mark.realdata
@pytest.mark.skipif(not HH17.is_file(), reason=f"{HH17} absent")
def test_hh17_file():
    t = load_fixations(HH17)
    assert len(t) == 93_485
    assert t["scene"].nunique() == 40
    assert t["subject"].nunique() == 65
    assert "basketball_net" in set(t["scene"])
    assert t["duration"].notna().all() and (t["duration"] > 0).all()
    assert t["row"].min() >= 1 and t["row"].max() <= 768
    assert t["col"].min() >= 1 and t["col"].max() <= 1024
    assert t["col"].max() > 768  # [row, col] order: columns reach past the image height
    for scene, g in t.groupby("scene"):
        out, n = check_fixations(g, scene, 768, 1024)
        assert n == 0 and len(out) == len(g)
