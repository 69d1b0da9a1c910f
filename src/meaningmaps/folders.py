"""The folders a command reads and writes, checked before its work starts.

Why: ``meaningmaps map`` used to find out that ``--out`` names a file only when it wrote its first
map, after the model had loaded; ``demo`` and ``build-tiny`` ended such a folder with a traceback.
:func:`check_output_folder` refuses, with one line naming the folder and the fix, a folder that
cannot be made or written: it (or a folder on its path) is a file or a link to nothing, or the
nearest folder that exists on its path is not writable (a read-only disk included). It creates
nothing: a command that stops later leaves no folder behind. :func:`check_input_folder` refuses a
folder to read that does not exist, is a file, or cannot be read.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import InputError


def nearest_existing(path: Path) -> Path:
    """``path`` or the nearest folder above it that exists (a link counts, even one to nothing)."""
    path = Path(os.path.abspath(path))
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def check_output_folder(path, flag: str) -> Path:
    """``path`` (given as ``flag``, e.g. ``--out``) can be created and written: refused otherwise."""
    path = Path(path)
    named = f"{path} ({flag})"
    if os.path.lexists(path) and not path.exists():
        raise InputError(named, f"is a link to {os.readlink(path)}, which does not exist.",
                         "remove the link, or give another folder.")
    if path.exists() and not path.is_dir():
        raise InputError(named, "is a file, not a folder.", "give a folder (it is created when missing), not a file.")
    existing = nearest_existing(path)
    if not existing.is_dir():
        raise InputError(named, f"cannot be created: {existing} is a {'link to nothing' if existing.is_symlink() else 'file'}"
                         ", not a folder.", "give a folder whose path holds no file.")
    if not os.access(existing, os.W_OK | os.X_OK):
        where = "it" if existing == Path(os.path.abspath(path)) else f"the folder it would be made in, {existing},"
        raise InputError(named, f"cannot be written: {where} is not writable by this user (or is on a read-only disk).",
                         "give a folder you can write to, or change its permissions.")
    return path


def check_input_folder(path, flag: str, fix: str) -> Path:
    """``path`` (given as ``flag``) is a folder this user can list and read: refused otherwise."""
    path = Path(path)
    named = f"{path} ({flag})"
    if not path.is_dir():
        raise InputError(named, "does not exist." if not os.path.lexists(path) else
                         "is a link to nothing." if not path.exists() else "is a file, not a folder.", fix)
    if not os.access(path, os.R_OK | os.X_OK):
        raise InputError(named, "cannot be read: this user may not list it.", "give a folder you can read, or change "
                         "its permissions.")
    return path
