"""Shared test fixtures: where the real data lives (tests skip when it is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SMM = SHARED_DATA / "scene-meaning-mapping"
HH17 = SHARED_DATA / "hh17" / "HendersonHayes17-NHB_eyetracking_data.mat"


def demo_config(root: Path) -> dict:
    """demo/config.yaml pointed at a demo study in ``root/data`` (``meaningmaps.data.demo.make_demo_study``)
    with results in ``root/results``, and the smaller, faster tiny model and 1 epoch that the workflow
    tests use (the plumbing, not the learning: the demo measures that)."""
    import yaml

    cfg = yaml.safe_load((REPO / "demo" / "config.yaml").read_text())
    cfg["results"] = str(root / "results")
    ds = cfg["dataset"]
    for key in ("images", "ratings", "fixations"):
        ds[key] = str(root / "data" / Path(ds[key]).relative_to("demo/data"))
    ds["maps"] = {"salience": str(root / "data" / "maps" / "salience")}
    cfg["model"]["base"] = str(root / "results" / "models" / "tiny-llava")
    cfg["model"]["finetune"]["epochs"] = 1
    cfg["model"]["build_tiny"].update(image_size=56, vision_hidden=32)
    return cfg


def ratings_csv(results: Path, source: str, scene: str) -> Path:
    """A scene's ratings, where a user finds them for every rating source: ratings/<source>/<scene>.csv."""
    return Path(results) / "ratings" / source / f"{scene}.csv"


@pytest.fixture
def smm_dir():
    if not (SMM / "rating_matrices").is_dir():
        pytest.skip("real data ../shared/data/scene-meaning-mapping is absent")
    return SMM


@pytest.fixture
def hh17_file():
    if not HH17.is_file():
        pytest.skip("real data ../shared/data/hh17 is absent")
    return HH17


@pytest.fixture(scope="session")
def tiny_llava_dir(tmp_path_factory):
    """A tiny random LLaVA on disk (built once per test session; nothing is downloaded)."""
    from meaningmaps.model.tiny_llava import build_tiny_llava

    return build_tiny_llava(tmp_path_factory.mktemp("tiny-llava") / "model", seed=0)


@pytest.fixture(autouse=True, scope="session")
def _offline_hub():
    """Tests never reach a model hub: any attempt fails instead of downloading."""
    import os

    old = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY")}
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1")
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
