"""MATLAB v7.3 (HDF5) .mat files read as their v5 twins: one set of arrays written both ways (v5 with
scipy, v7.3 as MATLAB lays it out: tests/mat73_writer.py), read by every reader (maps, rating
matrices, fixation files, inspect) to equal results."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from meaningmaps.data import mat_files
from meaningmaps.data.external_maps import load_map, map_size
from meaningmaps.data.fixations import load_fixations
from meaningmaps.data.rating_matrix import load_rating_matrix
from meaningmaps.errors import InputError

h5py = pytest.importorskip("h5py")
from .mat73_writer import write_v73  # noqa: E402  (needs h5py)

RNG = np.random.default_rng(3)
H, W = 12, 16


def both(tmp_path, variables: dict, name: str = "x"):
    """The same variables as <name>_v5.mat (scipy.io.savemat) and <name>_v73.mat (MATLAB's v7.3 layout)."""
    v5, v73 = tmp_path / f"{name}_v5.mat", tmp_path / f"{name}_v73.mat"
    scipy.io.savemat(v5, variables)
    write_v73(v73, variables)
    return v5, v73


def cell(items, shape):
    out = np.empty(shape, dtype=object)
    for index, item in zip(np.ndindex(shape), items, strict=True):
        out[index] = item
    return out


def assert_same(a, b, where="value"):
    """Equal as scipy.io.loadmat returns them: types, dtypes, shapes, values, recursively."""
    assert type(a) is type(b), where
    if isinstance(a, np.ndarray):
        assert a.shape == b.shape and a.dtype.names == b.dtype.names, (where, a.shape, b.shape, a.dtype, b.dtype)
        if a.dtype.names:
            for index in np.ndindex(a.shape):
                for field in a.dtype.names:
                    assert_same(a[field][index], b[field][index], f"{where}{index}.{field}")
        elif a.dtype == object:
            for index in np.ndindex(a.shape):
                assert_same(a[index], b[index], f"{where}{{{index}}}")
        else:
            assert a.dtype == b.dtype and np.array_equal(a, b), (where, a.dtype, b.dtype)
    else:
        assert a == b, where


def test_v73_header_is_recognised(tmp_path):
    v5, v73 = both(tmp_path, {"m": np.ones((2, 3))})
    assert not mat_files.is_v73(v5) and mat_files.is_v73(v73)
    assert v73.read_bytes()[512:520] == mat_files.HDF5_SIGNATURE  # the HDF5 file after the user block
    with pytest.raises(NotImplementedError):  # scipy refuses it: what the h5py reading replaces
        scipy.io.loadmat(v73)


def test_every_kind_of_variable_reads_as_scipy_reads_its_v5_twin(tmp_path):
    struct = np.empty((1, 2), dtype=[("sbj", object), ("loc", object)])
    struct[0, 0]["sbj"], struct[0, 0]["loc"] = "s01", np.array([[3.0, 4.0], [5.0, 6.0]])
    struct[0, 1]["sbj"], struct[0, 1]["loc"] = "s02", np.zeros((0, 0))
    scalar = np.empty((1, 1), dtype=[("sigma", object), ("name", object)])
    scalar[0, 0]["sigma"], scalar[0, 0]["name"] = np.array([[10.0]]), "gbvs"
    variables = {
        "map": RNG.random((H, W)),
        "single": RNG.random((H, W)).astype(np.float32),
        "counts": RNG.integers(0, 65535, (3, 5)).astype(np.uint16),
        "volume": RNG.random((4, 3, 2)),  # N-D: MATLAB's dims reversed in the file
        "row": np.arange(5.0),  # 1-D: a 1 x n row
        "text": "kitchen_03.jpg",
        "names": np.array(["ab", "cd"]),  # a 2 x 2 char matrix
        "nothing": np.zeros((0, 0)),
        "cells": cell([np.array([[1.0, 2.0]]), "a.jpg", np.zeros((0, 0)), np.array([[7]], dtype=np.uint8)], (2, 2)),
        "D": struct,
        "settings": scalar,
    }
    v5, v73 = both(tmp_path, variables)
    want, got = scipy.io.loadmat(v5), mat_files.loadmat(v73)
    assert sorted(got) == sorted(variables)
    for name in variables:
        assert_same(got[name], want[name], name)
    assert sorted(mat_files.whosmat(v73)) == sorted(scipy.io.whosmat(str(v5)))
    only = mat_files.loadmat(v73, variable_names=["map"])
    assert list(only) == ["map"]


def test_logical_reads_as_bool():
    """MATLAB's logical: uint8 in the file, bool when read (as scipy reads a v5 logical)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "l.mat"
        flags = np.array([[True, False, True]])
        write_v73(path, {"flags": flags})
        with h5py.File(path) as f:
            assert f["flags"].dtype == np.uint8 and f["flags"].attrs["MATLAB_class"] == b"logical"
        got = mat_files.loadmat(path)["flags"]
        assert got.dtype == bool and np.array_equal(got, flags)


def test_map_v73_reads_as_v5(tmp_path):
    m = RNG.random((H, W))
    v5, v73 = both(tmp_path, {"map": m, "sigma": 3.0})
    np.testing.assert_array_equal(load_map(v73, (H, W)), load_map(v5, (H, W)))
    assert map_size(v73) == map_size(v5) == (H, W)
    v5, v73 = both(tmp_path, {"gbvs": m, "itti": m + 1}, name="two")
    with pytest.raises(InputError, match="holds 2 2-D numeric variables"):
        load_map(v73, source="sal")
    np.testing.assert_array_equal(load_map(v73, variable="itti"), load_map(v5, variable="itti"))


def test_rating_matrix_v73_reads_as_v5(tmp_path):
    """A toolkit rating matrix: an H x W x 2 cell array of each pixel's ratings (rows and columns,
    some pixels with none)."""
    items = []
    for index in np.ndindex(H, W, 2):
        n = int(RNG.integers(0, 4))
        values = RNG.integers(1, 7, n).astype(np.float64)
        items.append(values.reshape(1, -1) if index[0] % 2 else values.reshape(-1, 1))
    v5, v73 = both(tmp_path, {"rating_matrix": cell(items, (H, W, 2))}, name="ratings")
    want, got = load_rating_matrix(v5), load_rating_matrix(v73)
    assert len(got) == 2
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a.lengths, b.lengths)
        np.testing.assert_array_equal(a.values, b.values)


def test_fixation_file_v73_reads_as_v5(tmp_path):
    """The Henderson & Hayes layout: struct array D (sbj, image, fixN, loc, dur), cells per image."""
    D = np.empty((1, 2), dtype=[(f, object) for f in ("sbj", "image", "fixN", "loc", "dur")])
    D[0, 0]["sbj"] = np.array([[31]], dtype=np.uint8)
    D[0, 0]["image"] = cell(["a.jpg", "b.jpg"], (2, 1))
    D[0, 0]["fixN"] = cell([np.array([[2], [3]]), np.array([[2]])], (2, 1))
    D[0, 0]["loc"] = cell([np.array([[700, 1000], [1, 2]], dtype=np.uint16), np.array([[5, 6]], dtype=np.uint16)],
                          (2, 1))
    D[0, 0]["dur"] = cell([np.array([[220], [970]], dtype=np.uint16), np.array([[100]], dtype=np.uint16)], (2, 1))
    D[0, 1]["sbj"] = "s34"
    D[0, 1]["image"] = cell(["a.jpg", "b.jpg"], (1, 2))
    D[0, 1]["fixN"] = cell([np.zeros((0, 0)), np.array([[2]])], (1, 2))
    D[0, 1]["loc"] = cell([np.zeros((0, 0)), np.array([[9, 8]], dtype=np.uint16)], (1, 2))
    D[0, 1]["dur"] = cell([np.zeros((0, 0)), np.array([[300]], dtype=np.uint16)], (1, 2))
    v5, v73 = both(tmp_path, {"D": D}, name="fix")
    want, got = load_fixations(v5), load_fixations(v73)
    assert len(got) == 4 and got["row"].tolist() == [700.0, 1.0, 5.0, 9.0]
    assert got["subject"].tolist() == ["31", "31", "31", "s34"]
    import pandas as pd

    pd.testing.assert_frame_equal(got, want)


def test_inspect_lists_a_v73_file_as_its_v5_twin(tmp_path):
    from meaningmaps.data.inspection import _mat_entry

    v5, v73 = both(tmp_path, {"map": RNG.random((H, W))})
    a, b = _mat_entry(v5, v5.relative_to(tmp_path)), _mat_entry(v73, v73.relative_to(tmp_path))
    assert (a.kind, a.detail, a.size) == (b.kind, b.detail, b.size) == ("array", f"map {H}x{W} double", (H, W))


def test_a_broken_v73_file_is_named(tmp_path):
    path = tmp_path / "v73.mat"
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    path.write_bytes(text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02IM" + b"\x00" * 384 + b"\x89HDF\r\n\x1a\n")
    for call in (load_map, map_size):
        with pytest.raises(InputError, match=r"v73\.mat: has a MATLAB v7\.3 header but cannot be read as HDF5.*Fix: "):
            call(path)
