"""Which map sources the evaluation and figures compare when the config leaves it open.

What: the centre-bias sources a study gets (``center``, the Gaussian; ``center_empirical``, the
other scenes' fixations), the reference source (``figures.reference_source``; null: ``human`` if
the study has human ratings, else its first map source) and the semipartial pairs
(``evaluation.semipartial``; null: the reference source over each centre source, and, when the
study has the ``gbvs`` salience source, the reference over ``gbvs`` and ``gbvs`` over the reference,
as Henderson & Hayes (2017) compare meaning and salience).

Why: a study without human ratings used to lose its reference line and semipartial columns until
two keys were set by hand. Defaults now name only sources that exist; a source the user names
explicitly is still checked (``config.check_source_names``), so a misspelling stops the run.
"""

from __future__ import annotations

import copy

CENTER_SOURCES = ("center", "center_empirical")


def center_sources(evaluation: dict, has_fixations: bool) -> list[str]:
    """The centre-bias sources: ``center`` if ``center_bias``; ``center_empirical`` if enabled. Both
    are baselines of the evaluation, so a study without fixations (no evaluation) has neither."""
    if not has_fixations:
        return []
    out = ["center"] if evaluation["center_bias"] else []
    if evaluation.get("center_empirical", False) and has_fixations:
        out.append("center_empirical")
    return out


def reference_source(config: dict, map_sources: list[str]) -> str | None:
    """``figures.reference_source`` when set; else ``human`` if present, else the first source
    (None when the study has no map source)."""
    explicit = config["figures"].get("reference_source")
    if explicit is not None:
        return explicit
    if "human" in map_sources:
        return "human"
    return map_sources[0] if map_sources else None


def semipartial_pairs(config: dict, map_sources: list[str], centers: list[str]) -> list[list[str]]:
    """``evaluation.semipartial`` when set; else [reference, c] for each centre source c that is not
    the reference itself."""
    explicit = config["evaluation"].get("semipartial")
    if explicit is not None:
        return [list(pair) for pair in explicit]
    ref = reference_source(config, map_sources)
    if ref is None:
        return []
    pairs = [[ref, c] for c in centers if c != ref]
    if "gbvs" in map_sources and ref != "gbvs":  # meaning vs salience both ways (Henderson & Hayes 2017)
        pairs += [[ref, "gbvs"], ["gbvs", ref]]
    return pairs


def with_resolved_sources(config: dict, reference: str | None, pairs: list[list[str]]) -> dict:
    """A copy of ``config`` with the resolved reference and pairs, for ``check_source_names``
    (defaults name existing sources; with no source at all the reference is the reserved human)."""
    out = copy.deepcopy(config)
    out["figures"]["reference_source"] = reference if reference is not None else "human"
    out["evaluation"]["semipartial"] = pairs
    return out
