"""Fixation adapters: .mat (Henderson & Hayes 2017 layout) and .csv -> one tidy table; size checks."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io

from meaningmaps.data.fixations import (
    COLUMNS,
    check_fixations,
    load_fixations,
    resolve_origin,
    scene_fixations,
    select_numbers,
)
from meaningmaps.errors import InputError

from .conftest import HH17


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
    with caplog.at_level(logging.WARNING, logger="meaningmaps.data.fixations"):
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


# ----------------------------------------------------------------------------------------- issue 11
# scene_fixations: column mapping, coordinate origin, selection by fixation number.


def origin_csv(tmp_path, xs, ys, name="fix.csv", scene="kitchen"):
    rows = "".join(f"{scene},{x},{y},s{i % 2}\n" for i, (x, y) in enumerate(zip(xs, ys, strict=True)))
    return write(tmp_path / name, "scene,x,y,subject\n" + rows)


def test_mat_reads_fixation_numbers(tmp_path):
    t = load_fixations(hh17_like(tmp_path))
    assert t["fix_index"].tolist() == [2.0, 3.0, 2.0, 2.0]


def test_zero_proves_zero_based(tmp_path):
    # H=10, W=20: x = 0 is off a 1-based image; 0-based it is pixel 1
    p = origin_csv(tmp_path, [0, 5, 19], [3, 9, 0])
    out, n = scene_fixations(p, "kitchen", 10, 20)
    assert out.attrs["origin"] == 0 and n == 0
    assert out["col"].tolist() == [1.0, 6.0, 20.0] and out["row"].tolist() == [4.0, 10.0, 1.0]


def test_size_proves_one_based(tmp_path):
    p = origin_csv(tmp_path, [20, 5], [3, 10])  # x = W is off a 0-based image
    out, _ = scene_fixations(p, "kitchen", 10, 20)
    assert out.attrs["origin"] == 1
    assert out["col"].tolist() == [20.0, 5.0] and out["row"].tolist() == [3.0, 10.0]


@pytest.mark.parametrize("outside", ["error", "drop"])
def test_ambiguous_coordinates_are_refused_naming_origin(tmp_path, outside):
    p = origin_csv(tmp_path, [3, 5, 19.4], [1, 9, 2])  # on the image either way
    with pytest.raises(InputError) as e:
        scene_fixations(p, "kitchen", 10, 20, outside=outside)
    assert str(p) in str(e.value) and "dataset.fixation_csv.origin" in str(e.value)
    if outside == "drop":
        assert "fixations_outside: drop" in str(e.value)
    for origin, shift in ((0, 1.0), (1, 0.0)):
        out, _ = scene_fixations(p, "kitchen", 10, 20, outside=outside, settings={"origin": origin})
        assert out["col"].tolist() == [3 + shift, 5 + shift, 19.4 + shift]
        assert out.attrs["origin"] == origin


def test_origin_set_against_the_data_stops_at_the_off_image_fixation(tmp_path):
    p = origin_csv(tmp_path, [0, 5], [3, 9])
    with pytest.raises(InputError, match=r"1 of 2 fixation\(s\) fall outside.*dataset.fixation_csv.origin"):
        scene_fixations(p, "kitchen", 10, 20, settings={"origin": 1})


def test_neither_origin_fits_is_refused(tmp_path):
    p = origin_csv(tmp_path, [0, 20], [3, 9])  # 0 is off 1-based, 20 off 0-based
    with pytest.raises(InputError,
                       match=r"no origin puts every fixation.*x = 20.*x = 0.*Fix: set dataset.fixation_csv.origin"):
        scene_fixations(p, "kitchen", 10, 20)


def test_origin_is_decided_over_every_scene(tmp_path):
    p = write(tmp_path / "fix.csv", "scene,x,y\na,3,3\nb,20,3\n")
    fix = load_fixations(p)
    assert resolve_origin(fix, {"a": (10, 20), "b": (10, 20)}, p)[0] == 1  # scene b proves it for a
    with pytest.raises(InputError, match="cannot tell"):
        resolve_origin(fix, {"a": (10, 20)}, p)  # scene a alone cannot
    with pytest.raises(InputError, match="no origin"):
        resolve_origin(load_fixations(write(tmp_path / "g.csv", "scene,x,y\na,0,3\nb,20,3\n")),
                       {"a": (10, 20), "b": (10, 20)}, p)


def test_column_mapping(tmp_path):
    p = write(tmp_path / "gaze.csv", "Image ,GazeX,gaze_y,dur_ms,participant,fixation,x\n"
                                     "kitchen.jpg,20,3,250,p1,1,999\nkitchen.jpg,5,10,100,p2,2,999\n")
    columns = {"scene": "image", "x": "gazex", "y": "Gaze_Y", "duration": "dur_ms", "subject": "participant",
               "fix_index": "fixation"}
    with pytest.raises(InputError, match="has a column 'x' and dataset.fixation_csv.columns.x names 'gazex'"):
        load_fixations(p, columns=columns)
    p = write(tmp_path / "gaze.csv", "Image ,GazeX,gaze_y,dur_ms,participant,fixation\n"
                                     "kitchen.jpg,20,3,250,p1,1\nkitchen.jpg,5,10,100,p2,2\n")
    t = load_fixations(p, columns=columns)
    assert list(t.columns) == list(COLUMNS)
    assert t["scene"].tolist() == ["kitchen", "kitchen"] and t["col"].tolist() == [20.0, 5.0]
    assert t["row"].tolist() == [3.0, 10.0] and t["duration"].tolist() == [250.0, 100.0]
    assert t["subject"].tolist() == ["p1", "p2"] and t["fix_index"].tolist() == [1.0, 2.0]
    out, _ = scene_fixations(p, "kitchen", 10, 20, settings={"columns": columns})
    assert out.attrs["origin"] == 1 and len(out) == 2
    with pytest.raises(InputError, match=r"gaze.csv: has no column 'img' \(dataset.fixation_csv.columns.scene\)"):
        load_fixations(p, columns={"scene": "img"})
    with pytest.raises(InputError, match="maps several of our columns"):
        load_fixations(p, columns={"x": "gazex", "y": "gazex"})
    swapped = load_fixations(p, columns={"scene": "image", "x": "gaze_y", "y": "gazex"})  # a swap is fine
    assert swapped["col"].tolist() == [3.0, 10.0]


def numbered_csv(tmp_path, numbers):
    rows = "".join(f"kitchen,{3 + i},{4 + i},s1,{k}\n" for i, k in enumerate(numbers))
    return write(tmp_path / "num.csv", "scene,x,y,subject,fix_index\n" + rows)


def test_select_by_number_csv(tmp_path, caplog):
    p = numbered_csv(tmp_path, [1, 2, 3, 4, 5])
    s = {"origin": 1}
    assert len(scene_fixations(p, "kitchen", 10, 20, settings=s)[0]) == 5  # default: all
    with caplog.at_level(logging.INFO, logger="meaningmaps.data.fixations"):
        first3, _ = scene_fixations(p, "kitchen", 10, 20, settings=dict(s, numbers={"min": None, "max": 3}))
    assert first3["fix_index"].tolist() == [1.0, 2.0, 3.0] and first3["col"].tolist() == [3.0, 4.0, 5.0]
    assert "kept 3 of 5 fixations numbered -inf..3" in caplog.text and "numbers in the file: 1..5" in caplog.text
    rest, _ = scene_fixations(p, "kitchen", 10, 20, settings=dict(s, numbers={"min": 2}))
    assert rest["fix_index"].tolist() == [2.0, 3.0, 4.0, 5.0]
    with pytest.raises(InputError, match=r"no fixation is numbered 7..9 \(its numbers: 1..5\)"):
        scene_fixations(p, "kitchen", 10, 20, settings=dict(s, numbers={"min": 7, "max": 9}))


def test_select_needs_every_number(tmp_path):
    p = write(tmp_path / "n.csv", "scene,x,y,fix_index\nkitchen,3,3,1\nkitchen,4,4,\n")
    with pytest.raises(InputError,
                       match=r"1 of 2 fixation\(s\) have no whole fixation number.*attention.fixation_numbers"):
        scene_fixations(p, "kitchen", 10, 20, settings={"origin": 1, "numbers": {"max": 3}})
    p = write(tmp_path / "m.csv", "scene,x,y\nkitchen,3,3\n")
    with pytest.raises(InputError, match="fix_index"):
        scene_fixations(p, "kitchen", 10, 20, settings={"origin": 1, "numbers": {"min": 1}})


def test_select_by_number_mat(tmp_path):
    p = hh17_like(tmp_path)
    a, _ = scene_fixations(p, "a", 768, 1024, settings={"numbers": {"min": 3}})
    assert a["fix_index"].tolist() == [3.0] and a["row"].tolist() == [1.0]
    b, _ = scene_fixations(p, "b", 768, 1024, settings={"numbers": {"max": 2}})
    assert b["subject"].tolist() == ["31", "34"]
    t = load_fixations(p)
    with pytest.raises(InputError, match=r"the .mat field fixN"):
        select_numbers(t.assign(fix_index=np.nan), {"min": 2}, p, "a")
    with pytest.raises(InputError, match="fixation_csv.origin is 0, but this is a .mat file"):
        scene_fixations(p, "a", 768, 1024, settings={"origin": 0})


@pytest.mark.realdata
def test_hh17_select_first_three(hh17_file):
    t = load_fixations(hh17_file)
    assert t["fix_index"].min() == 2  # the first fixation is already dropped
    scene = "basketball_net"
    g = t[t["scene"] == scene]
    early, _ = scene_fixations(hh17_file, scene, 768, 1024, settings={"numbers": {"min": 2, "max": 4}})
    assert set(early["fix_index"]) <= {2, 3, 4}
    # per subject: the first three recorded fixations of the trial, positions as in the file
    for subject, rows in g.groupby("subject"):
        want = rows[rows["fix_index"] <= 4]
        got = early[early["subject"] == subject]
        assert got["fix_index"].tolist() == want["fix_index"].tolist()
        assert got["row"].tolist() == want["row"].tolist() and got["col"].tolist() == want["col"].tolist()
    later, _ = scene_fixations(hh17_file, scene, 768, 1024, settings={"numbers": {"min": 3}})
    assert len(later) == len(g) - int((g["fix_index"] == 2).sum())
    all_, _ = scene_fixations(hh17_file, scene, 768, 1024)
    assert len(all_) == len(g)


@pytest.mark.realdata
def test_hh17_as_a_renamed_csv(hh17_file, tmp_path):
    """The HH17 fixations exported to a CSV with other names (1-based, as the file): the same table."""
    t = load_fixations(hh17_file)
    t = t[t["scene"].isin(["basketball_net", "gnome"])]
    csv = tmp_path / "hh.csv"
    pd.DataFrame({"img": t["scene"] + ".jpg", "c": t["col"], "r": t["row"], "ms": t["duration"],
                  "sbj": t["subject"], "n": t["fix_index"].astype(int)}).to_csv(csv, index=False)
    columns = {"scene": "img", "x": "c", "y": "r", "duration": "ms", "subject": "sbj", "fix_index": "n"}
    sizes = {"basketball_net": (768, 1024), "gnome": (768, 1024)}
    assert resolve_origin(load_fixations(csv, columns=columns), sizes, csv)[0] == 1  # edge values prove it
    for scene in sizes:
        a, _ = scene_fixations(hh17_file, scene, 768, 1024, settings={"numbers": {"max": 4}})
        b, _ = scene_fixations(csv, scene, 768, 1024, settings={"columns": columns, "origin": 1,
                                                                  "numbers": {"max": 4}})
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_like=False)


# ----------------------------------------------------------------------------------------- scene names


def test_folder_prefixes_are_removed_like_the_extension(tmp_path):
    """stimuli/a.jpg (PsychoPy), stimuli\\b.png (Windows) and plain names: each row keeps its own scene,
    in file order; the same folder with another extension is one scene, as before."""
    csv = tmp_path / "fix.csv"
    csv.write_text("scene,x,y\nstimuli/a.jpg,1,2\nC:\\exp\\stimuli\\b.png,3,4\n stimuli/a.JPG ,5,6\nc,7,8\n"
                   "stimuli/a.png,9,10\n")
    t = load_fixations(csv)
    assert t["scene"].tolist() == ["a", "b", "a", "c", "a"]
    assert t["col"].tolist() == [1, 3, 5, 7, 9] and t["row"].tolist() == [2, 4, 6, 8, 10]


@pytest.mark.parametrize("names", [["set1/a.jpg", "set2/a.jpg"], ["a.jpg", "stimuli/a.jpg"],
                                   ["stimuli/a.jpg", "Stimuli/a.jpg"]])
def test_one_scene_from_two_folders_is_refused_naming_both(tmp_path, names):
    csv = tmp_path / "fix.csv"
    csv.write_text("scene,x,y\n" + "".join(f"{n},1,2\nb,3,4\n" for n in names))
    with pytest.raises(InputError) as info:
        load_fixations(csv)
    message = str(info.value)
    assert f"{names[0]!r} (line 2), {names[1]!r} (line 4) both are scene 'a'" in message, message
    assert "Fix: if they are one image" in message


def test_mat_image_names_lose_their_folder_and_clash_as_in_a_csv(tmp_path):
    dtype = [("sbj", object), ("image", object), ("loc", object), ("dur", object)]
    D = np.empty((1, 1), dtype=dtype)
    D[0, 0]["sbj"] = np.array([[1]])
    D[0, 0]["image"] = cell(["stim/a.jpg", "stim\\b.jpg"], (2, 1))
    D[0, 0]["loc"] = cell([np.array([[10.0, 20.0]]), np.array([[30.0, 40.0]])], (2, 1))
    D[0, 0]["dur"] = cell([np.array([[200.0]]), np.array([[250.0]])], (2, 1))
    scipy.io.savemat(tmp_path / "hh.mat", {"D": D})
    t = load_fixations(tmp_path / "hh.mat")
    assert t["scene"].tolist() == ["a", "b"] and t["row"].tolist() == [10, 30]
    D[0, 0]["image"] = cell(["stim/a.jpg", "practice/a.jpg"], (2, 1))
    scipy.io.savemat(tmp_path / "hh.mat", {"D": D})
    with pytest.raises(InputError, match=r"'stim/a\.jpg' \(D\(1\)\.image\{1\} \(subject 1\)\), 'practice/a\.jpg' "
                                         r"\(D\(1\)\.image\{2\} \(subject 1\)\) both are scene 'a'"):
        load_fixations(tmp_path / "hh.mat")
