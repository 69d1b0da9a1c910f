"""Facts about input files (content digests, image sizes) remembered by the files' identity, across
runs: a study of 100,000 scenes is not read again at every start of the workflow.

What: :func:`remembered` returns a fact about a file (``kind``: "sha256", "image_size", ...) from
memory when the file's identity is unchanged, and computes it otherwise. The identity is git's
index test: absolute path, size, modification time, change time (ctime) and inode. A file replaced
by another (``cp -p``, ``rsync -a``, unzip, an editor's save) always gets a new ctime, which no
user-level tool can set back, so a changed file is never taken for the old one, even when the copy
kept the old modification time and size. :func:`use_store` makes the memory persistent: the
workflow's main process loads ``<results>/.cache/file_facts.json`` at start-up and saves it at exit;
its jobs (local or SLURM) load it and never write it.

Why: the workflow plans with every scene's size (image headers) and reruns a job whose input's
content changed (digests among the params, meaningmaps.atomic.content_digest); without memory,
every start reads every image's header and every study file in full (about 30 GB for 100,000
JPEGs), and every SLURM job repeats the header scan.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
from pathlib import Path

_FACTS: dict[str, dict[str, object]] = {}  # "kind\0path" -> {"id": identity, "value": fact}
_STORE = {"path": None, "dirty": False}


def identity(path) -> list:
    """[size, mtime_ns, ctime_ns, inode] of a file: what changes whenever its content can have."""
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def remembered(kind: str, path, compute):
    """``compute()`` for this file, or the value remembered for the file's unchanged identity."""
    key = f"{kind}\0{Path(path).absolute()}"
    ident = identity(path)
    entry = _FACTS.get(key)
    if entry is not None and entry["id"] == ident:
        return entry["value"]
    value = compute()
    _FACTS[key] = {"id": ident, "value": value}
    _STORE["dirty"] = True
    return value


def use_store(path, *, write: bool) -> None:
    """Remember across processes in the JSON file ``path`` (loaded now when it exists; written at
    exit when ``write`` and something new was learnt). An unreadable store is ignored (it is a
    cache): the facts are computed again."""
    path = Path(path)
    try:
        loaded = json.loads(path.read_text())
        if isinstance(loaded, dict):
            _FACTS.update({k: v for k, v in loaded.items() if isinstance(v, dict) and "id" in v and "value" in v})
    except (OSError, ValueError):
        pass
    if write and _STORE["path"] is None:
        atexit.register(_save)
    if write:
        _STORE["path"] = path


def _save() -> None:
    """Write the store under a temporary name of this process's own, then rename it into place, so a
    reader never sees half of it. (Not with :mod:`meaningmaps.atomic`, which sits above this module:
    its content digests are remembered here. Its messages would be dropped anyway: a failure only
    means the facts are computed again.)"""
    path = _STORE["path"]
    if path is None or not _STORE["dirty"]:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(_FACTS))
        os.replace(tmp, path)
        _STORE["dirty"] = False
    except OSError:  # a read-only results folder, a full disk: the cache is only a cache
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
