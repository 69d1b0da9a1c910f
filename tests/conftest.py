"""Shared test fixtures: where the real data lives (tests skip when it is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SMM = SHARED_DATA / "scene-meaning-mapping"
HH17 = SHARED_DATA / "hh17" / "HendersonHayes17-NHB_eyetracking_data.mat"


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
    from meaningmaps.tiny_llava import build_tiny_llava

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
