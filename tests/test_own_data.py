"""README "Your own data": its config, exactly as printed, run end to end on synthetic data shaped
like a user's (renamed 0-based CSV columns, DeepGaze-like log-density maps, toolkit ratings)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import ndimage

from meaningmaps.config import validate_config
from meaningmaps.data.demo import make_demo_study
from meaningmaps.maps.attention import attention_map

from .conftest import REPO
from .test_workflow import snakemake, write_config


def readme_config() -> dict:
    """The first YAML block of the README section "Your own data"."""
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Your own data\n", 1)[1].split("\n## ", 1)[0]
    return yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.S).group(1))


def user_fixations(demo: Path, cfg: dict) -> pd.DataFrame:
    """The demo's 1-based fixations as the README's CSV: its column names, its origin, numbered."""
    fix = pd.read_csv(demo / "fixations.csv")
    fix["number"] = fix.groupby(["scene", "subject"]).cumcount() + 1
    csv = cfg["dataset"]["fixation_csv"]
    cols, shift = csv["columns"], 1 - csv["origin"]
    images = {p.stem: p.name for p in (demo / "images").iterdir()}
    return fix, pd.DataFrame({cols["scene"]: fix["scene"].map(images), cols["x"]: fix["x"] - shift,
                              cols["y"]: fix["y"] - shift, cols["duration"]: fix["duration"],
                              cols["subject"]: fix["subject"], cols["fix_index"]: fix["number"]})


def log_density(meaning: np.ndarray) -> np.ndarray:
    """A DeepGaze-like map: the log of a smooth density over the scene that sums to 1."""
    d = ndimage.gaussian_filter(meaning.astype(np.float64), 8) + 0.02
    return np.log(d / d.sum())


@pytest.fixture(scope="module")
def own_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("own")
    cfg = readme_config()
    ds = cfg["dataset"]
    demo = root / "demo"
    make_demo_study(demo, n_scenes=3)
    shutil.copytree(demo / "images", root / ds["images"])
    shutil.copytree(demo / "ratings", root / ds["ratings"])
    (root / ds["fixations"]).parent.mkdir(parents=True, exist_ok=True)
    fix, csv = user_fixations(demo, cfg)
    csv.to_csv(root / ds["fixations"], index=False)
    folder = root / ds["maps"]["deepgaze"]["folder"]
    folder.mkdir(parents=True)
    logd = {}
    for truth in sorted((demo / "truth" / "meaning").glob("*.npy")):
        logd[truth.stem] = log_density(np.load(truth))
        np.save(folder / truth.name, logd[truth.stem])
    # the demo's scenes are 512 x 384: its patch grid (the one its raters "rated") and sigma
    demo_cfg = yaml.safe_load((REPO / "demo" / "config.yaml").read_text())
    run_cfg = dict(cfg, patches=demo_cfg["patches"], meaning_map=demo_cfg["meaning_map"])
    proc = snakemake(root, write_config(root / "my_study.yaml", run_cfg))
    return root, cfg, fix, logd, proc


def test_readme_config_is_complete():
    cfg = validate_config(readme_config())
    ds = cfg["dataset"]
    assert ds["images"] and ds["ratings"] and ds["fixations"].endswith(".csv")
    assert ds["fixation_csv"]["origin"] in (0, 1)
    assert set(ds["fixation_csv"]["columns"]) == {"scene", "x", "y", "duration", "subject", "fix_index"}
    assert all(ours != theirs for ours, theirs in ds["fixation_csv"]["columns"].items())  # really renamed
    assert ds["maps"]["deepgaze"]["transform"] == "exp"
    assert cfg["model"]["enabled"] is False


@pytest.mark.slow
def test_own_data_end_to_end(own_run):
    root, cfg, _, logd, _ = own_run
    res = root / cfg["results"]
    assert (res / "evaluation" / "scores.csv").is_file()
    assert "deepgaze" in (res / "evaluation" / "scores.csv").read_text()
    assert (res / "figures" / "comparison.png").stat().st_size > 1000
    assert not (res / "patches").exists()  # the model is off: no patch images are cut
    for scene, m in logd.items():
        got = np.load(res / "maps" / "deepgaze" / f"{scene}.npy")
        assert np.allclose(got, np.exp(m).astype(np.float32), rtol=1e-6, atol=0)  # transform: exp


@pytest.mark.slow
def test_own_attention_maps_use_the_mapped_origin_and_numbers(own_run):
    root, cfg, fix, logd, _ = own_run
    res = root / cfg["results"]
    lo = cfg["attention"]["fixation_numbers"].get("min") or 0
    hi = cfg["attention"]["fixation_numbers"].get("max") or np.inf
    att = {k: v for k, v in cfg.get("attention", {}).items() if k in ("fc", "weight", "wrap")}
    for scene in logd:
        h, w = logd[scene].shape
        g = fix[(fix["scene"] == scene) & (fix["number"] >= lo) & (fix["number"] <= hi)]
        want = attention_map(pd.DataFrame({"scene": scene, "row": g["y"], "col": g["x"], "duration": g["duration"],
                                           "subject": g["subject"]}), h, w, **att)
        got = np.load(res / "attention" / f"{scene}.npy")
        assert np.allclose(got, want.astype(np.float32), rtol=1e-5, atol=1e-6 * want.max())
        # the fixations are selected once for every scene (rule fixation_tables), which logs how
        log = (res / "logs" / "fixation_tables.log").read_text()
        assert f"read {cfg['dataset']['fixation_csv']['origin']}-based" in log
        assert "dataset.fixation_csv.origin" in log and "attention.fixation_numbers" in log
        assert f"scene {scene!r}: kept" in log
