"""The CSV format the loaders read, and how a CSV's cells are shown in messages.

A CSV here is separated by commas, with '.' as the decimal point (fixation and rating CSVs). A file
saved with another separator (';', as spreadsheet programs write it where the decimal mark is ',';
a tab; '|') reads as one column; it is refused, naming its separator (:func:`refuse_other_separator`),
and not read with it: in such a file ``1.234`` may mean 1234 (a thousands separator) and ``12,5``
12.5, and the file cannot tell which, so reading it would guess numbers (fixation coordinates).

Cells are shown as :func:`cell_text` writes them: an empty cell as "an empty cell", never ``nan``.
"""

from __future__ import annotations

import csv
import math

import pandas as pd

from ..errors import InputError

#: Separators a CSV saved by another program may use instead of commas, as messages name them.
OTHER_SEPARATORS = {";": "semicolons (';')", "\t": "tabs", "|": "vertical bars ('|')"}
#: Characters of a line shown in a message.
SHOWN_CHARS = 120


def first_lines(path, n: int = 2) -> list[str]:
    """The first ``n`` lines of a text file (a UTF-8 BOM removed, undecodable bytes replaced), without
    reading more of the file."""
    lines = []
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        for line in fh:
            lines.append(line.rstrip("\r\n"))
            if len(lines) == n:
                break
    return lines


def other_separator(path) -> str | None:
    """The separator of a CSV whose header line is one comma-separated column that holds ';', a tab
    or '|' (the one it holds most); None for any other file (also one that cannot be read)."""
    try:
        lines = first_lines(path, 1)
    except OSError:
        return None
    if not lines or not lines[0].strip():
        return None
    cells = next(csv.reader([lines[0]]), [])
    if len(cells) != 1:
        return None
    counts = {sep: cells[0].count(sep) for sep in OTHER_SEPARATORS}
    sep = max(counts, key=counts.get)
    return sep if counts[sep] else None


def refuse_other_separator(path, columns: str) -> None:
    """Refuse a CSV separated by ';', tabs or '|' (module docstring), naming the separator, its header
    split at it and its first row; ``columns``: the columns the file should have, for the fix."""
    sep = other_separator(path)
    if sep is None:
        return
    lines = first_lines(path, 2)
    names = [c.strip() for c in lines[0].split(sep)]
    row = f"; its first row is {_line(lines[1])}" if len(lines) > 1 and lines[1].strip() else ""
    raise InputError(path, f"is separated by {OTHER_SEPARATORS[sep]}, not commas: its header {_line(lines[0])} reads "
                     f"as one column (split at {sep!r}: {', '.join(names[:8])}{', ...' if len(names) > 8 else ''})"
                     f"{row}.",
                     f"save it as a comma-separated CSV with '.' as the decimal point ({columns}), e.g. in Python "
                     f"pandas.read_csv(path, sep={sep!r}, decimal=',').to_csv(path, index=False) if its decimal mark "
                     "is ','. It is not read as it is: whether 1.234 means 1.234 or 1234 depends on the program "
                     "that wrote it.")


def _line(text: str) -> str:
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "...")


def is_empty_cell(value) -> bool:
    """An empty cell as the readers give it: None, NaN (pandas' empty cell) or blank text."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NA:
        return True
    return isinstance(value, str) and not value.strip()


def cell_text(value) -> str:
    """A cell as a message shows it: "an empty cell" for an empty one, a number as written (no
    numpy repr), anything else quoted."""
    if is_empty_cell(value):
        return "an empty cell"
    if isinstance(value, (int, float)) or type(value).__module__ == "numpy":
        try:
            return f"{float(value):g}"
        except (TypeError, ValueError):
            pass
    return repr(str(value))

