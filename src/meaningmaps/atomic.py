"""Atomic file writes: an interrupted job never leaves a file under its final name.

Every temporary name is unique per job (``.<name>.<pid>-<random>``, beside the final name), so two
jobs writing the same output never share a temporary, and each cleans up only its own. Two runs
of the workflow on one results folder (Snakemake locks only its own working directory) are caught
when they write the same output at the same time: the final name changed under the writer
(:class:`WriteCollision`). A full disk (``ENOSPC``, a quota, or numpy's "N requested and M
written" short write) is reported as :class:`DiskFull`, naming the folder and its free space.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .errors import InputError
from .file_facts import remembered

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")


class WriteError(InputError):
    """A write that failed for a reason outside the data: it names the folder and the fix."""


class DiskFull(WriteError):
    """No space (or quota) left where an output is written."""


class WriteCollision(WriteError):
    """Another process wrote the same output while this one was writing it."""


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    before = _identity(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}-", suffix=suffix if suffix is not None else "".join(path.suffixes),
        dir=path.parent,
    )
    os.close(fd)
    tmp = Path(tmp)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are shared with the group
    try:
        with _disk_full_named(path):
            yield tmp
        check_not_written_meanwhile(path, before)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_dir(path):
    """Yield a new, uniquely named folder beside ``path``; on success move it onto ``path``
    (:func:`replace_dir`), on failure remove it (only it: another job's temporary is left alone)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    before = _identity(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
    try:
        with _disk_full_named(path):
            yield tmp
        check_not_written_meanwhile(path, before)
        replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _identity(path: Path):
    """(device, inode) of ``path``, or None when it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def check_not_written_meanwhile(path, before) -> None:
    """Raise :class:`WriteCollision` if ``path`` appeared or was replaced since ``before``
    (its :func:`_identity` when this writer started)."""
    path = Path(path)
    now = _identity(path)
    if now is not None and now != before:
        raise WriteCollision(path, "was written by another process while this job was writing it: two runs of the "
                             "workflow (e.g. from different working directories; Snakemake locks only its own) "
                             "are writing the same results folder.",
                             "run one workflow at a time on a results folder, or give each run its own `results:` "
                             "folder; then rerun this one.")


@contextlib.contextmanager
def _disk_full_named(path: Path):
    """Turn a full disk's OSError into :class:`DiskFull`, naming the folder and its free space."""
    try:
        yield
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        folder = path.parent
        raise DiskFull(folder, f"the disk is full: writing {path.name} failed ({exc}); {_free(folder)} free there now.",
                       "free space on that disk (or your quota), or point `results` at a disk with room; then "
                       "rerun (the half-written output was removed).") from exc


def is_disk_full(exc: BaseException) -> bool:
    """True for a write that failed for want of space: ENOSPC, a quota, or numpy's short write."""
    return isinstance(exc, OSError) and (exc.errno in _FULL_ERRNOS or bool(_SHORT_WRITE.search(str(exc))))


def _free(folder: Path) -> str:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return "an unknown amount"
    for unit in ("bytes", "KB", "MB", "GB"):
        if free < 1024 or unit == "GB":
            return f"{free:.0f} {unit}" if unit == "bytes" else f"{free:.1f} {unit}"
        free /= 1024
    return f"{free:.1f} TB"


def content_digest(path) -> str:
    """The first 16 hex digits of the sha256 of a file's content, for a rule's ``params``.

    Why: Snakemake reruns a job when an input is newer than its outputs, so a corrected input
    copied in with an older modification time (``cp -p``, ``rsync -a``, unzip) is never picked up;
    it also reruns a job whose params changed, so a digest among the params reruns exactly the
    jobs whose file's content changed (a copy of the same content reruns nothing). Remembered by
    the file's identity (path, size, mtime, ctime, inode; :mod:`meaningmaps.file_facts`): within a
    process, and across runs when the workflow keeps its store.
    """
    def sha256() -> str:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()[:16]

    return remembered("sha256", path, sha256)


def save_npy(path, array) -> None:
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, array)


def save_npz(path, **arrays) -> None:
    """Several arrays in one compressed .npz, atomically."""
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)


def save_csv(path, frame) -> None:
    with atomic_path(path, suffix=".csv") as tmp:
        frame.to_csv(tmp, index=False)


def save_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def replace_dir(src, dst) -> None:
    """Rename the finished folder ``src`` onto ``dst``; an existing ``dst`` is moved aside (to a
    name unique to this call) first and removed after, so ``dst`` is never a half-written folder.
    If another process puts a ``dst`` back in between, :class:`WriteCollision` says so."""
    src, dst = Path(src), Path(dst)
    old = None
    if dst.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dst.name}.{os.getpid()}-", suffix=".old", dir=dst.parent))
        os.replace(dst, old)  # renames over the empty folder mkdtemp made
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        check_not_written_meanwhile(dst, None)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
