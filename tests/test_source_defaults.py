"""Which sources the evaluation compares when the config leaves it open (source_defaults), and the
schema's reserved source names."""

from __future__ import annotations

import pytest

from meaningmaps.config import check_source_names, validate_config
from meaningmaps.errors import InputError
from meaningmaps.workflow.source_defaults import (
    center_sources,
    reference_source,
    semipartial_pairs,
    with_resolved_sources,
)


def test_center_sources():
    ev = validate_config({})["evaluation"]
    assert center_sources(ev, has_fixations=True) == ["center", "center_empirical"]
    assert center_sources(ev, has_fixations=False) == []  # no fixations: no evaluation, no baselines
    assert center_sources(dict(ev, center_bias=False, center_empirical=False), True) == []


def test_defaults_name_existing_sources():
    cfg = validate_config({})
    with_human = ["human", "salience", "center", "center_empirical"]
    assert reference_source(cfg, with_human) == "human"
    assert semipartial_pairs(cfg, with_human, ["center", "center_empirical"]) == [
        ["human", "center"], ["human", "center_empirical"]]
    without = ["salience", "center", "center_empirical"]
    assert reference_source(cfg, without) == "salience"
    assert semipartial_pairs(cfg, without, ["center", "center_empirical"]) == [
        ["salience", "center"], ["salience", "center_empirical"]]
    only_centres = ["center", "center_empirical"]
    assert semipartial_pairs(cfg, only_centres, only_centres) == [["center", "center_empirical"]]
    assert reference_source(cfg, []) is None and semipartial_pairs(cfg, [], []) == []
    for sources in (with_human, without, only_centres, []):
        ref = reference_source(cfg, sources)
        check_source_names(with_resolved_sources(cfg, ref, semipartial_pairs(cfg, sources, only_centres)), sources)


def test_explicit_settings_win_and_misspellings_are_refused():
    cfg = validate_config({"figures": {"reference_source": "salince"},
                           "evaluation": {"semipartial": [["salience", "center"]]}})
    sources = ["salience", "center"]
    assert reference_source(cfg, sources) == "salince"
    assert semipartial_pairs(cfg, sources, ["center"]) == [["salience", "center"]]
    with pytest.raises(InputError, match=r"\['salince'\]"):
        check_source_names(with_resolved_sources(cfg, "salince", [["salience", "center"]]), sources)
    explicit_empty = validate_config({"evaluation": {"semipartial": []}})
    assert semipartial_pairs(explicit_empty, sources, ["center"]) == []


def test_center_empirical_is_not_a_user_map_name():
    with pytest.raises(InputError, match="center_empirical"):
        validate_config({"dataset": {"maps": {"center_empirical": "maps/x"}}})
    validate_config({"dataset": {"maps": {"center_emp": "maps/x"}}})
