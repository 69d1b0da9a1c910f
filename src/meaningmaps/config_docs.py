"""The config keys as a markdown table, generated from the schema (``config.schema.yaml``).

The schema's ``description`` of each key is the one place a key is documented; README.md's
"Config keys" table is :func:`keys_table`'s output (``meaningmaps keys`` prints it, and
``tests/test_config_docs.py`` checks that the README holds exactly that).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: marks the placeholder of a map source's name in ``dataset.maps.<name>``
NAME_PLACEHOLDER = "<name>"

_MISSING = object()


@dataclass(frozen=True)
class Key:
    """One documented config key: its dotted path, resolved schema, default (or ``_MISSING``)."""

    path: str
    schema: dict
    default: object
    leaf: bool


def _resolve(schema: dict, root: dict) -> dict:
    if "$ref" in schema:
        target = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
        return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _object_alternatives(schema: dict, root: dict) -> list[dict]:
    """The object schemas with ``properties`` that a key's value may be (itself or a oneOf branch)."""
    out = []
    for alt in [schema, *schema.get("oneOf", [])]:
        alt = _resolve(alt, root)
        if alt.get("properties"):
            out.append(alt)
    return out


def iter_keys(schema: dict, root: dict | None = None, prefix: str = "", parent_default=_MISSING):
    """Every key of the schema, depth first in the schema's order: objects before their keys.
    ``dataset.maps``-like objects (a name of the user's -> a value) give ``<prefix>.<name>``."""
    root = schema if root is None else root
    for name, sub in schema.get("properties", {}).items():
        sub = _resolve(sub, root)
        path = f"{prefix}{name}"
        default = sub.get("default", _MISSING)
        if default is _MISSING and isinstance(parent_default, dict) and name in parent_default:
            default = parent_default[name]
        objects = _object_alternatives(sub, root)
        extra = sub.get("additionalProperties")
        named = isinstance(extra, dict)
        yield Key(path, sub, default, leaf=not objects and not named)
        for obj in objects:
            yield from iter_keys(obj, root, f"{path}.", default)
        if named:
            extra = _resolve(extra, root)
            yield Key(f"{path}.{NAME_PLACEHOLDER}", extra, _MISSING, leaf=not _object_alternatives(extra, root))
            for obj in _object_alternatives(extra, root):
                yield from iter_keys(obj, root, f"{path}.{NAME_PLACEHOLDER}.")


def leaf_keys(schema: dict) -> list[Key]:
    return [k for k in iter_keys(schema) if k.leaf]


def _value(v) -> str:
    """A value as it is written in config.yaml (YAML flow style)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return repr(int(v))
        return re.sub(r"e([+-])0*(\d)", lambda m: f"e{m[1].replace('+', '')}{m[2]}", f"{v:g}")
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_value(x)}" for k, x in v.items()) + "}"
    return str(v)


def _bounds(schema: dict) -> str:
    parts = []
    for word, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
        if word in schema:
            parts.append(f"{sign} {_value(schema[word])}")
    if isinstance(schema.get("not"), dict) and "const" in schema["not"]:
        parts.append(f"not {_value(schema['not']['const'])}")
    return ", ".join(parts)


def type_text(schema: dict) -> str:
    """The values a key takes: type(s) with bounds, the allowed values, or the alternatives of a oneOf."""
    if "oneOf" in schema and not schema.get("properties"):
        return " or ".join(type_text(alt) for alt in schema["oneOf"])
    if "const" in schema:
        return _code(_value(schema["const"]))
    if "enum" in schema:
        return " / ".join(_code(_value(v)) for v in schema["enum"])
    types = schema.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    words = []
    for t in types:
        if t == "array":
            items = schema.get("items")
            item = type_text(items) if isinstance(items, dict) else ""
            if any(sep in item for sep in (" or ", " / ", ",")):
                item = f"({item})"
            word = f"list of {item}" if item else "list"
            n_min, n_max = schema.get("minItems"), schema.get("maxItems")
            if n_min is not None and n_min == n_max:
                word += f", {n_min} items"
            elif n_min:
                word += f", {n_min} or more"
            words.append(word)
        elif t in ("integer", "number"):
            bounds = _bounds(schema)
            words.append(f"{t} {bounds}" if bounds else t)
        else:
            words.append(t)
    return " or ".join(words)


def _cell(text: str) -> str:
    """Text for a markdown table cell: one line, ``|`` escaped, and a word with a ``<placeholder>``
    outside code spans set as code (else ``<scene>`` would be taken for an HTML tag)."""
    text = re.sub(r"\s+", " ", str(text)).strip()
    pieces = text.split("`")
    for i in range(0, len(pieces), 2):  # outside code spans
        pieces[i] = _PLACEHOLDER_WORD.sub(lambda m: f"`{m[0]}`", pieces[i])
    return "`".join(pieces).replace("|", "\\|")


#: a word holding a <placeholder>, e.g. <scene>.jpg|jpeg|png, data/osf/<node>, patches.<scale>.n
_PLACEHOLDER_WORD = re.compile(r"[^\s,;()`]*<[A-Za-z_]+>[^\s,;()`]*")


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def keys_table(schema: dict) -> str:
    """Markdown table of the config keys: key path (dots), type or values, default, description.
    Every leaf key has a row, and every object key that has a description; ``x-paper`` values
    (model.finetune, recipe: paper) follow the default."""
    lines = ["| key | type / values | default | description |", "|---|---|---|---|"]
    for key in iter_keys(schema):
        description = key.schema.get("description", "")
        if not key.leaf and not description:
            continue
        kind = type_text(key.schema) or "object"
        default = "" if key.default is _MISSING else _cell(_code(_value(key.default)))
        if "x-paper" in key.schema:
            default += f" (paper: {_cell(_code(_value(key.schema['x-paper'])))})"
        lines.append(f"| {_cell(_code(key.path))} | {_cell(kind)} | {default} | {_cell(description)} |")
    return "\n".join(lines) + "\n"
