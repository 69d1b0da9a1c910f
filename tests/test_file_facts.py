"""Facts about input files remembered by the files' identity (meaningmaps.file_facts): a file copied in
with the old size and modification time is still seen as changed (its ctime moved), and the
workflow's store carries the facts across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from meaningmaps import file_facts
from meaningmaps.atomic import content_digest

from .conftest import REPO


def test_replaced_file_with_old_size_and_mtime_gets_a_new_digest(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("a,b\n1,2\n")
    first = content_digest(path)
    st = path.stat()
    time.sleep(0.01)
    other = tmp_path / "corrected.csv"
    other.write_text("a,b\n1,3\n")  # same size
    os.replace(other, path)  # as cp -p or rsync -a put a corrected copy in place...
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # ... with the old modification time
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    assert content_digest(path) != first


def test_unchanged_file_is_not_read_again(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"123")
    calls = []
    assert file_facts.remembered("t", path, lambda: calls.append(1) or 7) == 7
    assert file_facts.remembered("t", path, lambda: calls.append(1) or 8) == 7
    assert calls == [1]


def test_store_carries_facts_to_another_process(tmp_path):
    """The workflow's main process writes the store at exit; a job's process reads it and does not
    compute the digest again (its compute would fail: the fact comes from the store)."""
    data, store = tmp_path / "image.jpg", tmp_path / "cache" / "file_facts.json"
    data.write_bytes(b"not really a jpeg")
    src = str(REPO / "src")
    write = (f"import sys; sys.path.insert(0, {src!r}); from meaningmaps import file_facts; "
             f"from meaningmaps.atomic import content_digest; file_facts.use_store({str(store)!r}, write=True); "
             f"print(content_digest({str(data)!r}))")
    digest = subprocess.run([sys.executable, "-c", write], capture_output=True, text=True, check=True).stdout.strip()
    assert store.is_file() and any(k.startswith("sha256") for k in json.loads(store.read_text()))
    read = (f"import sys; sys.path.insert(0, {src!r}); from meaningmaps import file_facts; "
            f"file_facts.use_store({str(store)!r}, write=False); "
            f"print(file_facts.remembered('sha256', {str(data)!r}, lambda: 1 / 0))")
    again = subprocess.run([sys.executable, "-c", read], capture_output=True, text=True, check=True).stdout.strip()
    assert again == digest
    before = store.stat().st_mtime_ns
    subprocess.run([sys.executable, "-c", read], capture_output=True, text=True, check=True)
    assert store.stat().st_mtime_ns == before  # a job never writes the store


def test_unreadable_store_is_ignored(tmp_path):
    store = tmp_path / "file_facts.json"
    store.write_text("{not json")
    file_facts.use_store(store, write=False)  # no error: the facts are computed again
    path = tmp_path / "f"
    path.write_text("x")
    assert len(content_digest(path)) == 16
