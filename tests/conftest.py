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
