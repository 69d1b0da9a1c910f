"""Workflow configuration: validation against the schema (:mod:`meaningmaps.schema`), defaults, and
derived settings.

The Snakefile validates with ``snakemake.utils.validate`` against the same schema file; this module
does the same for code and tests that run outside Snakemake.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import jsonschema
import yaml

from .errors import InputError
from .maps.patch_grid import SCALES, ScaleSpec, paper_specs
from .matlab import matlab_round
from .schema import SCHEMA_PATH, apply_recipe, load_schema  # noqa: F401 (SCHEMA_PATH: the Snakefile imports it from here)


def _fill_defaults(instance: dict, schema: dict, root: dict) -> None:
    """Fill ``default`` values of object properties, recursively (resolving local $ref)."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    for key, sub in schema.get("properties", {}).items():
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if isinstance(instance.get(key), dict):
            _fill_defaults(instance[key], sub, root)


def apply_finetune_recipe(config: dict) -> dict:
    """In place: the ``model.finetune.recipe`` values for the keys the config leaves unset. Must run
    before the schema's defaults are filled (else every key looks set). Returns ``config``."""
    model = config.get("model") if isinstance(config, dict) else None
    if isinstance(model, dict) and isinstance(model.get("finetune"), dict):
        model["finetune"] = apply_recipe(model["finetune"])
    return config


def config_source(source=None) -> str | None:
    """How messages name the config: a path as given; for Snakemake's ``workflow.config_settings``
    the config file(s) it was given (config.yaml when none: the Snakefile then loads that), plus
    the keys set with ``--config``."""
    if not hasattr(source, "configfiles"):
        return None if source is None else str(source)
    files = ", ".join(str(f) for f in source.configfiles) or "config.yaml"
    overrides = sorted(getattr(source, "config", None) or {})
    return f"{files} (with --config {', '.join(overrides)})" if overrides else files


def validate_config(config: dict, source=None) -> dict:
    """Validate ``config`` against the schema, fill defaults, and check cross-key rules. ``source``
    names the config in messages: a path, or Snakemake's ``workflow.config_settings``
    (:func:`config_source`)."""
    source = config_source(source)
    schema = load_schema()
    config = apply_finetune_recipe(copy.deepcopy(config or {}))
    _fill_defaults(config, schema, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = ".".join(str(p) for p in e.absolute_path) or "(top level)"
        fix = (f"set {where} within its range (the key's description in src/meaningmaps/config.schema.yaml)."
               if e.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
               else "see the config keys in README.md (unknown keys are not allowed).")
        raise InputError(source, f"config key {where}: {e.message}.", fix)
    check_cross_keys(config, source)
    return config


def check_cross_keys(config: dict, source=None) -> None:
    """Rules a JSON schema cannot say well."""
    check_output_folders(config, source)
    ppd = config["patches"].get("pixels_per_degree")
    for scale in SCALES:
        spec = config["patches"][scale]
        if "diameter_deg" in spec and not ppd:
            raise InputError(source, f"patches.{scale}.diameter_deg needs patches.pixels_per_degree.",
                             "set patches.pixels_per_degree, or give patches.<scale>.diameter_px.")
    if config["gbvs"]["enabled"] and "gbvs" in (config["dataset"].get("maps") or {}):
        raise InputError(source, "dataset.maps names a source `gbvs`, and gbvs.enabled makes the `gbvs` source "
                         "from the scene images.", "rename the imported maps' source, or set gbvs.enabled: false.")
    check_model_keys(config, source)


#: Config keys of folders the workflow writes into.
OUTPUT_FOLDER_KEYS = (("results",), ("download", "dest"))


def check_output_folders(config: dict, source=None) -> None:
    """Refuse a written folder that is empty or the filesystem root (the outputs would be planned at
    /patches, /maps, ...), or that starts with '~' or '$' (Snakemake expands neither: a folder named
    '~' would be made in the working directory). '~' is refused rather than expanded so that the
    folder is the same for every job, wherever and as whoever it runs."""
    for keys in OUTPUT_FOLDER_KEYS:
        value = config
        for k in keys:
            value = value.get(k) if isinstance(value, dict) else None
        if value is None:
            continue
        key, text = ".".join(keys), str(value)
        problem = output_folder_problem(text)
        if problem:
            raise InputError(source, f"config key {key}: {text!r} {problem}",
                             f"set {key} to a folder of its own, as an absolute path (/data/me/meaningmaps) or "
                             "relative to the working directory (results).")


def output_folder_problem(text: str) -> str | None:
    """Why ``text`` cannot be a folder to write into, or None."""
    if not text.strip():
        return "is empty: the outputs would be written at the filesystem root (/patches, /maps, ...)."
    if os.path.normpath(text.strip()) == "/" or text.strip().rstrip("/") == "":
        return "is the filesystem root."
    if text.startswith("~"):
        return ("starts with '~', which neither Snakemake nor this workflow expands: a folder named '~' would be "
                "made in the working directory.")
    if text.startswith("$"):
        return "starts with '$': environment variables are not expanded here, a folder of that name would be made."
    return None


def check_model_keys(config: dict, source=None) -> None:
    """The model steps need scene images, and labels from human ratings or an existing map source."""
    model, ds = config["model"], config["dataset"]
    if not model["enabled"]:
        return
    if not ds.get("images"):
        raise InputError(source, "model.enabled needs scene images (dataset.images): the model rates patches.",
                         "set dataset.images, or model.enabled: false.")
    trained = [s for s in ("finetuned", "probe") if s in model["sources"] and not model[f"{s}_model"]]
    if not trained:  # the base model, or trained models given by path: no labels needed
        return
    src = model["labels"]["from"]
    if model["labels"]["rule"] == "paper" and src not in (ds.get("maps") or {}):
        raise InputError(source, f"model.labels.rule: paper reads the grey levels of meaning-map images, but "
                         f"model.labels.from: {src!r} is not a dataset.maps source ({sorted(ds.get('maps') or {})}).",
                         "set model.labels.from to a dataset.maps source of 8-bit greyscale map images (the paper's "
                         "PNG human meaning maps), or use model.labels.rule: nearest with human ratings.")
    if config["patches"]["grid"] == "paper" and model["labels"]["rule"] != "paper" and (
            src == "human" and ds.get("ratings")):
        raise InputError(source, "patches.grid: paper cuts patches no rater rated, so labels cannot come from the "
                         "per-patch human ratings (model.labels.from: human with dataset.ratings).",
                         "take labels from map images (model.labels.rule: paper, model.labels.from: a dataset.maps "
                         "source) as the paper did, or use patches.grid: toolkit.")
    if config["patches"]["grid"] == "paper" and "probe" in trained:
        raise InputError(source, "patches.grid: paper cuts patches no rater rated, but the probe is fitted to the "
                         "per-patch human ratings.",
                         "drop probe from model.sources, give a fitted one (model.probe_model), or use "
                         "patches.grid: toolkit.")
    if src == "human" and not ds.get("ratings") and "human" not in (ds.get("maps") or {}):
        raise InputError(source, f"the {' and '.join(trained)} source(s) are trained here and need labels: "
                         "model.labels.from: human needs per-patch human ratings (dataset.ratings) or the human "
                         "meaning maps (dataset.maps.human).",
                         "set dataset.ratings or dataset.maps.human, take labels from another map (model.labels."
                         "from: <a dataset.maps key>), or rate with trained models: model.finetuned_model / "
                         "model.probe_model.")
    if src != "human" and src not in (ds.get("maps") or {}):
        raise InputError(source, f"model.labels.from: {src!r} is neither 'human' nor a dataset.maps source "
                         f"({sorted(ds.get('maps') or {})}).", "use human or one of the dataset.maps keys.")


RESERVED_SOURCES = ("human", "center", "center_empirical", "base", "finetuned", "probe")


def check_source_names(config: dict, map_sources: list[str], source="config") -> None:
    """A source named in evaluation.semipartial or figures.reference_source must be a source this
    study has or a reserved one (absent sources just give NaN columns; a typo is an error)."""
    known = set(map_sources) | set(RESERVED_SOURCES) | {"gbvs"}  # gbvs: the GBVS source (config key gbvs)
    named = [s for pair in (config["evaluation"]["semipartial"] or []) for s in pair]  # null: the defaults
    if config["figures"]["reference_source"] is not None:
        named.append(config["figures"]["reference_source"])
    unknown = sorted({s for s in named if s not in known})
    if unknown:
        raise InputError(source, f"evaluation.semipartial or figures.reference_source name unknown map "
                         f"source(s) {unknown}; this study's sources are {map_sources}.",
                         "use one of those names (dataset.maps keys, human, center, center_empirical).")


def load_config(path) -> dict:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InputError(path, f"is not valid YAML ({exc}).") from exc
    return validate_config(raw, path)


def scale_specs(config: dict) -> list[ScaleSpec]:
    """The two scales with diameters in pixels (from degrees: MATLAB-rounded deg x px/deg)."""
    out = []
    ppd = config["patches"].get("pixels_per_degree")
    for scale in SCALES:
        spec = config["patches"][scale]
        if "diameter_px" in spec:
            d = float(spec["diameter_px"])
        else:
            d = float(matlab_round(spec["diameter_deg"] * ppd))
        out.append(ScaleSpec(scale, int(spec["n"]), d))
    return out


def patch_specs(config: dict) -> list[ScaleSpec]:
    """The scales of the patches the model sees and rates (``patches.grid``): the toolkit's
    (:func:`scale_specs`) or the paper's (3 and 7 degrees at 90 degrees over min(H, W)). Human
    ratings and the human map always use the toolkit's grid, the one the raters rated."""
    return paper_specs() if config["patches"]["grid"] == "paper" else scale_specs(config)
