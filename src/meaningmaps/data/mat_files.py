"""MATLAB .mat files of either kind, read into what ``scipy.io.loadmat`` returns.

v4-v7 files are read by scipy; a v7.3 file (what ``save(..., '-v7.3')`` writes, and MATLAB's default
where a variable is over 2 GB) is an HDF5 file, which scipy refuses: it is read here with h5py, into
the structures scipy would have returned for the same variables saved as v7, so that every reader
(maps, rating matrices, fixation files) handles both the same way (``tests/test_mat_files.py``
writes one array both ways and compares). How MATLAB lays out v7.3 (and this reader undoes):

* every array is stored transposed (HDF5 is row-major, MATLAB column-major): an m x n matrix is an
  n x m dataset; each variable carries ``MATLAB_class`` (``double``, ``char``, ``cell``, ...);
* ``char`` is uint16 character codes (``MATLAB_int_decode`` 2); scipy returns an m x n char array
  as m strings (``chars_as_strings``);
* ``logical`` is uint8 (read as bool, as scipy does);
* an empty array is a dataset holding its dimensions, with ``MATLAB_empty`` set;
* a ``cell`` is a dataset of object references into the ``#refs#`` group (read as a numpy object
  array, as scipy does);
* a scalar ``struct`` is a group of its fields; a struct array is a group whose fields are
  datasets of references (one per element) with no ``MATLAB_class``; both are read as numpy record
  arrays of objects (scipy's ``struct_as_record``), fields in ``MATLAB_fields`` order.

Sparse, complex, function-handle and object variables are refused with the file named.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError

NUMERIC = {"double": np.float64, "single": np.float32, "int8": np.int8, "uint8": np.uint8,
           "int16": np.int16, "uint16": np.uint16, "int32": np.int32, "uint32": np.uint32,
           "int64": np.int64, "uint64": np.uint64, "logical": np.bool_}
#: the first bytes of an HDF5 file's superblock (at byte 512 of a v7.3 .mat, after MATLAB's header)
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def is_v73(path) -> bool:
    """Whether ``path`` is a MATLAB v7.3 (HDF5) file: version 0x0200 in its header (scipy's test)."""
    with open(path, "rb") as fh:
        head = fh.read(128)
    if len(head) < 128:
        return False
    major_at = 1 if head[126] == ord("I") else 0  # the endian indicator: "IM" little-endian, "MI" big
    return head[124 + major_at] == 2


def loadmat(path, variable_names=None) -> dict:
    """``scipy.io.loadmat(path, variable_names=...)`` for v4-v7 files; the same structures from a
    v7.3 file (h5py). Only the named variables are read (all without ``variable_names``)."""
    path = Path(path)
    if not is_v73(path):
        import scipy.io

        return scipy.io.loadmat(str(path), variable_names=variable_names)
    h5py = _h5py(path)
    with _open(h5py, path) as f:
        names = [n for n in f if not n.startswith("#")]
        if variable_names is not None:
            names = [n for n in names if n in set(variable_names)]
        return {name: _read(h5py, f, f[name], path, name) for name in names}


def whosmat(path) -> list[tuple[str, tuple[int, ...], str]]:
    """``scipy.io.whosmat``: (name, shape, MATLAB class) of each variable, from headers only."""
    path = Path(path)
    if not is_v73(path):
        import scipy.io

        return scipy.io.whosmat(str(path))
    h5py = _h5py(path)
    out = []
    with _open(h5py, path) as f:
        for name in f:
            if name.startswith("#"):
                continue
            node = f[name]
            cls = _class(node)
            if isinstance(node, h5py.Group):
                shape = _struct_shape(h5py, node) if cls == "struct" else (1, 1)
            elif "MATLAB_empty" in node.attrs and node.attrs["MATLAB_empty"]:
                shape = _empty_dims(node)
            else:
                shape = tuple(int(v) for v in node.shape[::-1])
            if cls == "char":  # scipy reports a char array's shape as its strings' (the last dim dropped)
                shape = shape[:-1]
            out.append((name, shape, cls))
    return out


def _h5py(path):
    try:
        import h5py
    except ImportError as exc:  # a dependency; only an incomplete installation lacks it
        raise InputError(path, "is a MATLAB v7.3 (HDF5) .mat file, and h5py, which reads it, is not installed.",
                         "pip install h5py (a dependency of meaningmaps), or re-save the file in MATLAB with "
                         "save(path, ..., '-v7').") from exc
    return h5py


def _open(h5py, path):
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise InputError(path, f"has a MATLAB v7.3 header but cannot be read as HDF5 ({exc}).",
                         "re-copy the file (it may be truncated), or re-save it in MATLAB with save(path, ..., "
                         "'-v7').") from exc


def _class(node) -> str:
    value = node.attrs.get("MATLAB_class")
    return value.decode() if isinstance(value, bytes) else (str(value) if value is not None else "")


def _empty_dims(ds) -> tuple[int, ...]:
    """An empty array's MATLAB dimensions (the dataset holds them)."""
    dims = np.asarray(ds[()]).reshape(-1)
    return tuple(int(v) for v in dims)


def _struct_shape(h5py, group) -> tuple[int, ...]:
    for key in group:
        child = group[key]
        if isinstance(child, h5py.Dataset) and not _class(child) and child.dtype == h5py.ref_dtype:
            return tuple(int(v) for v in child.shape[::-1])
    return (1, 1)


#: HDF5 types whose MATLAB class they alone decide (double, single, int*, uint32): read without
#: touching attributes, the slow part of reading the many small datasets of a cell array
#: (uint8/uint16/uint64 may be logical, char or an empty array's dimensions: their class is read).
_PLAIN = {"f8": np.float64, "f4": np.float32, "i1": np.int8, "i2": np.int16, "i4": np.int32, "i8": np.int64,
          "u4": np.uint32}


def _read(h5py, f, node, path, where: str):
    """One MATLAB value (a dataset or a struct group) as scipy.io.loadmat returns it."""
    if isinstance(node, h5py.Dataset):
        plain = _PLAIN.get(node.dtype.str[1:])
        if plain is not None:
            return np.asarray(node[()], dtype=plain).T
    cls = _class(node)
    if isinstance(node, h5py.Group):
        if "MATLAB_sparse" in node.attrs:
            raise InputError(path, f"{where} is a sparse matrix, which cannot be read.", _FIX)
        if cls != "struct":
            raise InputError(path, f"{where} is a MATLAB {cls or 'object'}, which cannot be read.", _FIX)
        return _read_struct(h5py, f, node, path, where)
    if "MATLAB_empty" in node.attrs and node.attrs["MATLAB_empty"]:
        dims = _empty_dims(node)
        if cls == "char":
            return np.array([""] * dims[0] if dims and dims[0] else [], dtype="<U1")
        if cls == "cell":
            return np.empty(dims, dtype=object)
        return np.zeros(dims, dtype=NUMERIC.get(cls, np.float64))
    if cls == "cell" or (not cls and node.dtype == h5py.ref_dtype):
        refs = node[()].T
        out = np.empty(refs.shape, dtype=object)
        for index in np.ndindex(refs.shape):
            out[index] = _read(h5py, f, f[refs[index]], path, f"{where}{{{', '.join(str(i + 1) for i in index)}}}")
        return out
    if cls == "char":
        codes = np.atleast_2d(node[()].T)
        return np.array(["".join(map(chr, row)) for row in codes])
    if cls in NUMERIC:
        if node.dtype.names:  # complex: a compound of real and imag
            raise InputError(path, f"{where} is a complex {cls} array, which cannot be read.", _FIX)
        return np.asarray(node[()], dtype=NUMERIC[cls]).T
    raise InputError(path, f"{where} is a MATLAB {cls or 'value of unknown class'}, which cannot be read.", _FIX)


def _read_struct(h5py, f, group, path, where: str):
    """A struct (scalar or array) as a record array of objects, scipy's struct_as_record layout."""
    fields = group.attrs.get("MATLAB_fields")
    names = ["".join(c.decode() for c in np.asarray(field).reshape(-1)) for field in fields] if fields is not None \
        else list(group)
    shape = _struct_shape(h5py, group)
    out = np.empty(shape, dtype=[(n, object) for n in names])
    array = any(isinstance(group[n], h5py.Dataset) and not _class(group[n]) and group[n].dtype == h5py.ref_dtype
                for n in names if n in group)
    for name in names:
        if name not in group:
            raise InputError(path, f"{where}.{name} is listed in MATLAB_fields but absent.", _FIX)
        child = group[name]
        if array:
            refs = child[()].T
            for index in np.ndindex(shape):
                out[name][index] = _read(h5py, f, f[refs[index]], path,
                                         f"{where}({', '.join(str(i + 1) for i in index)}).{name}")
        else:
            out[name][(0,) * len(shape)] = _read(h5py, f, child, path, f"{where}.{name}")
    return out


_FIX = ("save the variable as a numeric matrix, char array, cell array or struct (MATLAB save(path, ..., "
        "'-v7') gives a file scipy reads), or export it as a .npy/.csv file.")
