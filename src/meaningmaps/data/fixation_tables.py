"""One scene's selected fixations, stored once per scene for every map made from fixations.

What: the table :func:`meaningmaps.data.fixations.scene_fixations` returns for a scene (the rows its
attention map is made from: checked against the image size, selected by the study's fixation
settings) written as ``fixations/<scene>.csv`` and read back unchanged (float64 coordinates
round-trip exactly; scene and subject stay text).

Why: the empirical centre bias, the shuffled AUC's negatives and the noise ceiling need the
fixations of many scenes; reading each scene's table here keeps them identical to the attention
maps' fixations without reloading the study's fixation file once per scene and job.
"""

from __future__ import annotations

import pandas as pd

from ..atomic import save_csv
from ..errors import InputError

TEXT_COLUMNS = ("scene", "subject")


def save_fixation_table(path, table: pd.DataFrame) -> None:
    """Write one scene's fixation table (all its columns) as CSV, atomically."""
    save_csv(path, table)


def read_fixation_table(path) -> pd.DataFrame:
    """Read a table written by :func:`save_fixation_table`; ``attrs['source']`` names the file."""
    try:
        table = pd.read_csv(path, dtype={c: str for c in TEXT_COLUMNS}, keep_default_na=False,
                            na_values=[""])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"cannot read this fixation table ({exc}).",
                         "delete it so the workflow writes it again.") from exc
    missing = [c for c in ("row", "col", "subject") if c not in table.columns]
    if missing:
        raise InputError(path, f"fixation table lacks column(s) {missing}.",
                         "delete it so the workflow writes it again.")
    table.attrs["source"] = str(path)
    return table
