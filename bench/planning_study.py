"""Studies of N scenes made from the demo, for the planning benchmark (bench/planning.py) and the
scale tests (tests/test_scale.py).

What: ``distinct`` demo scenes (``meaningmaps.data.demo.make_demo_study``, 512 x 384) drawn once and
copied round-robin under the names ``s00001`` ... so that a study of any size costs only the copies.
An evaluation study has images, toolkit rating matrices, one fixation CSV and an external map folder
(``salience``); an images-only study has the images alone. Copies are enough: planning, reruns and
job counts do not depend on what the files hold (the input checks read them, and a copy reads as
fast as its original).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]


def scene_name(i: int) -> str:
    return f"s{i:05d}"


def draw_scenes(root: Path, distinct: int = 4) -> dict:
    """The demo's first ``distinct`` scenes under ``root/drawn`` (made once; reused if present)."""
    from meaningmaps.data.demo import make_demo_study

    drawn = Path(root) / "drawn"
    if not (drawn / "fixations.csv").is_file():
        make_demo_study(drawn, n_scenes=distinct, seed=2017)
    fix = pd.read_csv(drawn / "fixations.csv", dtype={"scene": str, "subject": str})
    scenes = sorted(fix["scene"].unique())
    images = {s: next((drawn / "images").glob(f"{s}.*")) for s in scenes}
    return dict(drawn=drawn, scenes=scenes, images=images, fixations=fix)


def ratings_csvs(src: dict) -> dict:
    """Each drawn scene's ratings as a per-patch ratings CSV (scale, k, rating): the ratings its rating
    matrix holds, recovered exactly (a CSV is read in a fraction of the time a matrix's recovery takes)."""
    from PIL import Image

    from meaningmaps.config import scale_specs
    from meaningmaps.data.human_ratings import human_ratings
    from meaningmaps.maps.patch_grid import PatchGrid

    specs = scale_specs(yaml.safe_load((REPO / "demo" / "config.yaml").read_text()))
    out = {}
    for scene in src["scenes"]:
        path = src["drawn"] / "ratings_csv" / f"{scene}.csv"
        if not path.is_file():
            with Image.open(src["images"][scene]) as im:
                grid = PatchGrid(im.height, im.width, specs)
            path.parent.mkdir(exist_ok=True)
            frame = human_ratings(src["drawn"] / "ratings" / f"{scene}.mat", scene, grid)
            frame[["scale", "k", "rating"]].to_csv(path, index=False)
        out[scene] = path
    return out


def make_study(root: Path, n_scenes: int, *, kind: str = "evaluation", distinct: int = 4,
               ratings: str = "mat") -> Path:
    """Write a study of ``n_scenes`` scenes under ``root/data``; return that folder.

    kind ``evaluation``: images, ratings, fixations.csv, maps/salience; ``images``: images only.
    ratings ``mat``: the demo's rating matrices; ``csv``: the same ratings as per-patch CSVs.
    """
    src = draw_scenes(root, distinct)
    csvs = ratings_csvs(src) if ratings == "csv" else None
    data = Path(root) / "data"
    rows = []
    for i in range(1, n_scenes + 1):
        orig = src["scenes"][(i - 1) % len(src["scenes"])]
        name = scene_name(i)
        image = src["images"][orig]
        files = [("images", image)]
        if kind == "evaluation":
            files += [("ratings", csvs[orig] if csvs else src["drawn"] / "ratings" / f"{orig}.mat"),
                      ("maps/salience", src["drawn"] / "maps" / "salience" / f"{orig}.png")]
            rows.append(src["fixations"][src["fixations"]["scene"] == orig].assign(scene=name))
        for sub, path in files:
            (data / sub).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, data / sub / f"{name}{path.suffix}")
    if rows:
        pd.concat(rows, ignore_index=True).to_csv(data / "fixations.csv", index=False)
    return data


def study_config(root: Path, *, kind: str = "evaluation", model: dict | None = None) -> dict:
    """demo/config.yaml pointed at the study under ``root/data``, results in ``root/results``;
    no model steps unless ``model`` (merged over the demo's model section) is given."""
    cfg = yaml.safe_load((REPO / "demo" / "config.yaml").read_text())
    data = Path(root) / "data"
    cfg["results"] = str(Path(root) / "results")
    ds = cfg["dataset"]
    ds["images"] = str(data / "images")
    if kind == "evaluation":
        ds["ratings"] = str(data / "ratings")
        ds["fixations"] = str(data / "fixations.csv")
        ds["maps"] = {"salience": str(data / "maps" / "salience")}
    else:
        for key in ("ratings", "fixations", "maps", "fixation_csv"):
            ds.pop(key, None)
        cfg["evaluation"].pop("semipartial", None)
        cfg["gbvs"] = {"enabled": False}  # the model's maps only
    if model is None:
        cfg["model"] = {"enabled": False}
    else:
        cfg["model"].update(model)
    return cfg


def write_config(root: Path, cfg: dict) -> Path:
    path = Path(root) / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path
