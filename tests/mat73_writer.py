"""Writes MATLAB v7.3 .mat files laid out as MATLAB's save(..., '-v7.3') writes them, for the tests
(no MATLAB here). Written from the layout, independently of the package's reader:

* a 512-byte HDF5 user block whose first 128 bytes are MATLAB's header: the text
  "MATLAB 7.3 MAT-file, Platform: ..., Created on: ... HDF5 schema 1.00 ." padded with spaces to
  116 bytes, an 8-byte subsystem offset, version 0x0200 and the endian indicator "IM";
* each variable a dataset at the root with the attribute MATLAB_class (fixed-length ASCII);
* arrays transposed (MATLAB is column-major: an m x n matrix is an n x m dataset), at least 2-D;
* char as uint16 character codes with MATLAB_int_decode = 2;
* logical as uint8 with MATLAB_class logical;
* an empty array as a uint64 dataset of its dimensions with MATLAB_empty = 1;
* a cell as a dataset of object references (h5py.ref_dtype) into the group #refs#, whose first entry
  "a" is MATLAB's canonical empty; the referenced values are named b, c, ... as MATLAB names them;
* a struct array as a group (MATLAB_class struct, MATLAB_fields: the field names as variable-length
  arrays of single characters) whose fields are datasets of references, one per element, with no
  MATLAB_class; a 1 x 1 struct as a group holding its fields directly.
"""

from __future__ import annotations

import string

import h5py
import numpy as np

HEADER = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Dec  3 09:00:00 2026 HDF5 schema 1.00 ."


def _ascii(text: str):
    return np.bytes_(text.encode("ascii"))


class _Refs:
    """The #refs# group: values referenced by cells and struct arrays, named a, b, ..., z, ba, ..."""

    def __init__(self, f: h5py.File):
        self.group = f.create_group("#refs#")
        self.count = 0
        canonical = self.group.create_dataset(self._name(), data=np.array([0, 0], dtype=np.uint64))
        canonical.attrs["MATLAB_class"] = _ascii("canonical empty")
        canonical.attrs["MATLAB_empty"] = np.uint8(1)

    def _name(self) -> str:
        """MATLAB's names: the count in base 26 with digits a-z (a, ..., z, ba, bb, ...)."""
        n, letters = self.count, string.ascii_lowercase
        self.count += 1
        name = letters[n % 26]
        while n >= 26:
            n //= 26
            name = letters[n % 26] + name
        return name

    def add(self, value):
        name = self._name()
        node = _write(self.group, name, value, self)
        return node.ref


def _write(parent, name: str, value, refs: _Refs):
    if isinstance(value, str):
        value = np.array([value])
    if isinstance(value, np.ndarray) and value.dtype.names:  # a struct (record array of objects)
        return _write_struct(parent, name, value, refs)
    a = np.asarray(value)
    if a.dtype.kind == "U":  # char: one row per string, as MATLAB's char matrix
        width = max((len(s) for s in a.reshape(-1)), default=0)
        codes = np.array([[ord(c) for c in s.ljust(width)] for s in a.reshape(-1)], dtype=np.uint16)
        codes = codes.reshape(len(a.reshape(-1)), width)
        if codes.size == 0:
            return _empty(parent, name, (0, 0), "char")
        ds = parent.create_dataset(name, data=codes.T)
        ds.attrs["MATLAB_class"] = _ascii("char")
        ds.attrs["MATLAB_int_decode"] = np.int32(2)
        return ds
    if a.dtype == object:  # a cell
        a = a.reshape(1, -1) if a.ndim == 1 else a
        if a.size == 0:
            return _empty(parent, name, a.shape, "cell")
        data = np.empty(a.T.shape, dtype=h5py.ref_dtype)
        for index in sorted(np.ndindex(a.shape), key=lambda ix: ix[::-1]):  # column-major, as MATLAB
            data[index[::-1]] = refs.add(a[index])
        ds = parent.create_dataset(name, data=data)
        ds.attrs["MATLAB_class"] = _ascii("cell")
        return ds
    cls = {"f8": "double", "f4": "single", "i1": "int8", "u1": "uint8", "i2": "int16", "u2": "uint16",
           "i4": "int32", "u4": "uint32", "i8": "int64", "u8": "uint64", "b1": "logical"}[a.dtype.str[1:]]
    a = a.reshape(1, -1) if a.ndim < 2 else a
    if a.size == 0:
        return _empty(parent, name, a.shape, cls)
    ds = parent.create_dataset(name, data=a.T.astype(np.uint8) if cls == "logical" else a.T)
    ds.attrs["MATLAB_class"] = _ascii(cls)
    return ds


def _empty(parent, name, shape, cls):
    ds = parent.create_dataset(name, data=np.array(shape, dtype=np.uint64))
    ds.attrs["MATLAB_class"] = _ascii(cls)
    ds.attrs["MATLAB_empty"] = np.uint8(1)
    return ds


def _write_struct(parent, name, value: np.ndarray, refs: _Refs):
    group = parent.create_group(name)
    group.attrs["MATLAB_class"] = _ascii("struct")
    names = list(value.dtype.names)
    vlen = h5py.vlen_dtype(np.dtype("S1"))
    fields = np.empty(len(names), dtype=object)
    for i, field in enumerate(names):
        fields[i] = np.array([c.encode() for c in field], dtype="S1")
    group.attrs.create("MATLAB_fields", fields, dtype=vlen)
    value = value.reshape(1, -1) if value.ndim < 2 else value
    if value.size == 1:
        for field in names:
            _write(group, field, value.reshape(-1)[0][field], refs)
        return group
    for field in names:
        data = np.empty(value.T.shape, dtype=h5py.ref_dtype)
        for index in sorted(np.ndindex(value.shape), key=lambda ix: ix[::-1]):
            data[index[::-1]] = refs.add(value[index][field])
        group.create_dataset(field, data=data)
    return group


def write_v73(path, variables: dict) -> None:
    """Write ``variables`` (name -> numeric array, str, object array (cell) or record array of
    objects (struct), as for scipy.io.savemat) as a MATLAB v7.3 file."""
    with h5py.File(path, "w", userblock_size=512) as f:
        refs = _Refs(f)
        for name, value in variables.items():
            _write(f, name, value, refs)
    header = HEADER.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
    with open(path, "r+b") as fh:
        fh.write(header)
