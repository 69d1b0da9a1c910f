"""One scene's selected fixations, stored once per scene for every map made from fixations.

What: the table :func:`meaningmaps.data.fixations.scene_fixations` returns for a scene (the rows its
attention map is made from: checked against the image size, selected by the study's fixation
settings) written as ``fixations/<scene>.csv`` and read back unchanged (float64 coordinates
round-trip exactly; scene and subject stay text).

Why: the attention map, the noise ceiling, the empirical centre bias and the shuffled AUC's
negatives all need the same selected fixations; one job (rule fixation_tables) reads the study's
fixation file ONCE and writes every scene's table into one folder (``fixations/scenes/``), so no
per-scene job reads the whole file (a study of N scenes would read it N times per rule: N x N).
That job also prints the study's summary of dropped fixations.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..atomic import atomic_dir, save_csv
from ..errors import InputError
from .fixations import study_fixations

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


def scene_table_path(folder, scene: str) -> Path:
    """Where rule fixation_tables puts a scene's table: ``<folder>/<scene>.csv``."""
    return Path(folder) / f"{scene}.csv"


def scene_table(folder, scene: str) -> pd.DataFrame:
    """One scene's table from the folder rule fixation_tables wrote."""
    return read_fixation_table(scene_table_path(folder, scene))


def read_scene_tables(folder, scenes) -> dict[str, pd.DataFrame]:
    """{scene: table} of ``scenes``, in that order."""
    return {s: scene_table(folder, s) for s in scenes}


def write_scene_tables(folder, fixations, sizes: dict, *, outside: str = "error",
                       settings: dict | None = None) -> str:
    """Every scene's table (``sizes``: {scene: (height, width)}) from one read of the study's
    fixation file (:func:`meaningmaps.data.fixations.study_fixations`), into ``folder``, which is
    made whole or not at all; returns the study's summary of what was kept and dropped."""
    counts = {}
    with atomic_dir(folder) as tmp:
        for scene, table, dropped in study_fixations(fixations, sizes, outside=outside, settings=settings):
            save_fixation_table(scene_table_path(tmp, scene), table)
            counts[scene] = (len(table), dropped)
    return dropped_summary(counts)


def dropped_summary(counts: dict) -> str:
    """The study's summary of kept and dropped fixations, from {scene: (kept, dropped)}: what rule
    fixation_tables logs and the input check prints on the console."""
    kept = sum(k for k, _ in counts.values())
    dropped_total = sum(d for _, d in counts.values())
    dropped_scenes = [f"{scene} {d}" for scene, (_, d) in counts.items() if d]
    summary = f"{kept} fixations kept in {len(counts)} scene(s)"
    if dropped_total:
        share = dropped_total / (kept + dropped_total)
        summary += (f"; {dropped_total} ({share:.1%}) dropped as outside their image (dataset.fixations_outside: "
                    f"drop), in {len(dropped_scenes)} scene(s): {', '.join(dropped_scenes[:10])}"
                    f"{' ...' if len(dropped_scenes) > 10 else ''}")
    return summary
