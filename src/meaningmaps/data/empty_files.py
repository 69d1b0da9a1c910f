"""Paths that cannot hold a data file: a folder named like one (``scene_01.jpg/``), an empty file.

The loaders name these for what they are, rather than passing on a parser's complaint about them
("cannot identify image file", "No columns to parse from file").
"""

from __future__ import annotations

from pathlib import Path


def not_a_data_file(path) -> str | None:
    """Why ``path`` holds no data ("is a folder, not a file", "is empty (0 bytes)"), or None."""
    path = Path(path)
    try:
        if path.is_dir():
            return "is a folder, not a file"
        if path.is_file() and path.stat().st_size == 0:
            return "is empty (0 bytes)"
    except OSError:
        return None
    return None
