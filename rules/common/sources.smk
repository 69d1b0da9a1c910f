# Map sources: which maps a study makes (every rule file's `source` wildcard), and the wildcard
# constraints every rule shares. Rating sources (human, and the model sources base, finetuned,
# probe, which write per-patch ratings like the human raters) go through the toolkit's map
# builder (rules/maps.smk, rule map_from_ratings); external ones (dataset.maps) are imported.
# Subpackage workflow/: src/meaningmaps/workflow/source_defaults.py (centre-bias sources, reference
# source, semipartial pairs), shards.py (shard names); the config: src/meaningmaps/config.py
from meaningmaps.config import check_source_names
from meaningmaps.data.dataset import SCENE_PATTERN
from meaningmaps.workflow.shards import SHARD_PATTERN
from meaningmaps.workflow.source_defaults import center_sources, reference_source, semipartial_pairs, with_resolved_sources

MODEL = config["model"]
MODEL_SOURCES = list(MODEL["sources"]) if MODEL["enabled"] else []
RATING_SOURCES = (["human"] if DS.get("ratings") else []) + MODEL_SOURCES
EXTERNAL_SOURCES = sorted((DS.get("maps") or {}).keys())
# Centre-bias sources: the Gaussian `center` and `center_empirical` (other scenes' fixations).
# Reference source and semipartial pairs: as set, else defaults among the sources that exist.
CENTER_SOURCES = center_sources(config["evaluation"], bool(DS.get("fixations")))
GBVS_SOURCES = ["gbvs"] if config["gbvs"]["enabled"] and DS.get("images") else []  # GBVS salience (rule gbvs_map)
MAP_SOURCES = RATING_SOURCES + EXTERNAL_SOURCES + GBVS_SOURCES + CENTER_SOURCES
REFERENCE = reference_source(config, MAP_SOURCES)
SEMIPARTIAL = semipartial_pairs(config, MAP_SOURCES, CENTER_SOURCES)
# A source the config names (figures.reference_source, evaluation.semipartial) must exist: a check
# of the config alone, made as soon as the source lists are (like validate_config in the Snakefile).
check_source_names(with_resolved_sources(config, REFERENCE, SEMIPARTIAL), MAP_SOURCES)

# A trained model given by path rates its source: no training, no labels (model.finetuned_model,
# model.probe_model). The sources trained here are the others.
FINETUNED_MODEL = MODEL["finetuned_model"]
PROBE_MODEL = MODEL["probe_model"]
GIVEN_MODELS = {"finetuned": FINETUNED_MODEL, "probe": PROBE_MODEL}
TRAINED_SOURCES = [s for s in MODEL_SOURCES if s in GIVEN_MODELS and not GIVEN_MODELS[s]]


def one_of(names):
    """A wildcard regex matching exactly these names (or nothing)."""
    return "|".join(names) if names else "(?!x)x"


wildcard_constraints:
    scene=SCENE_PATTERN,
    fold=r"fold\d+|paper|all",
    shard=SHARD_PATTERN,
