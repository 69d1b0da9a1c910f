"""A scene's patch views made from its image in a temporary folder: what a rating job reads when no
step of the run needs the patch and view files themselves.

The workflow writes each scene's patches (rule patches: ``maps.patch_files.write_scene_patches``)
and views (rule patch_views: ``qa_jsonl.write_scene_views``) as files of their own when a step
reads them (a model trained here, the probe's features); otherwise the rating jobs and ``meaningmaps
map`` make them here, with the same functions and settings, so the views, hence the ratings, are
the same bytes, and a study of images that a model maps has two jobs per scene fewer (Snakemake's
planning and scheduling cost grows with the number of jobs).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ..maps.patch_files import write_scene_patches
from ..maps.patch_grid import ScaleSpec
from .qa_jsonl import resolve_pad_fill, write_scene_views


class SceneViews(NamedTuple):
    """The views folder and the patch index that :func:`meaningmaps.model.ratings.rate_scene` reads."""

    views: Path
    index_csv: Path
    index: pd.DataFrame  # the patch index (patch_files), one row per patch


def view_fill(aspect: str, pad_fill, found_json=None) -> tuple[tuple[int, int, int] | None, str]:
    """The pad fill of the views and where it comes from: under ``model.pad_fill: processor`` the
    base model's processor mean as rule pad_fill wrote it (``found_json``), else ``model.pad_fill``
    itself (None under crop)."""
    if found_json:
        found = json.loads(Path(found_json).read_text())
        return tuple(found["fill"]), f"the image processor mean of {found['model']}"
    return resolve_pad_fill(aspect, pad_fill), "model.pad_fill"


@contextmanager
def temporary_views(image, specs, compress_level: int, background: str, *, aspect: str, fill,
                    dir=None) -> Iterator[SceneViews]:
    """Cut ``image`` into its patches (``specs``: ScaleSpec or their dicts; ``compress_level``:
    patches.png_compress_level) and make their views (``background``, ``aspect``, ``fill`` as rule
    patch_views makes them) in a temporary folder under ``dir``, removed on leaving the block."""
    specs = [s if isinstance(s, ScaleSpec) else ScaleSpec(**s) for s in specs]
    with tempfile.TemporaryDirectory(prefix=f".views-{Path(image).stem}.", dir=dir) as tmp:
        patches, views = Path(tmp) / "patches", Path(tmp) / "views"
        index = write_scene_patches(image, patches, specs, compress_level)
        write_scene_views(patches, views, background, aspect=aspect, fill=fill)
        yield SceneViews(views, patches / "index.csv", index)
