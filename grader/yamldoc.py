"""YAML documents validated against our JSON Schemas, with errors an author can act on.

Owns: parsing YAML safely, validating it (draft 2020-12), filling in the schema's
defaults, and turning every problem into ``file:line: path: what was expected``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml is optional in PyYAML
    _Loader = yaml.SafeLoader


@dataclass
class DocumentError(Exception):
    """A YAML document that cannot be used; ``problems`` are one line each."""

    path: str
    problems: list[str]

    def __str__(self) -> str:
        return "\n".join(self.problems)


SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _registry():
    from referencing import Registry, Resource

    names = [p.name for p in SCHEMA_DIR.glob("*.schema.json")]
    pairs = []
    for name in names:
        resource = Resource.from_contents(load_schema(name))
        pairs.append((name, resource))
        pairs.append((load_schema(name)["$id"], resource))
    return Registry().with_resources(pairs)


def validator(schema_name: str):
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(schema_name), registry=_registry())


def load(path: Path, schema_name: str, fill: bool = True) -> dict:
    """Parse and validate ``path`` (with the schema's defaults filled in unless ``fill`` is
    false); raise DocumentError with located problems."""
    display = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(display, [f"{display}: cannot read: {exc}"]) from None
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{display}:{mark.line + 1}" if mark else display
        raise DocumentError(display, [f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if data is None:
        data = {}
    errors = sorted(validator(schema_name).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        lines = _line_index(node)
        raise DocumentError(display, [_describe(display, error, lines) for error in errors])
    return fill_defaults(data, schema_name) if fill else data


def _describe(display: str, error, lines: dict[tuple, int]) -> str:
    path = tuple(error.absolute_path)
    line = None
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            line = lines[path[:cut]]
            break
    where = f"{display}:{line}" if line else display
    dotted = "/".join(str(p) for p in path) or "(top level)"
    message = error.message
    if error.validator == "oneOf" and error.context:
        best = min(error.context, key=lambda e: len(list(e.absolute_path)) * -1)
        message = f"{message.split(' is not valid')[0]} does not match any allowed form; closest: {best.message}"
    return f"{where}: {dotted}: {message}"


def _line_index(node, path: tuple = ()) -> dict[tuple, int]:
    """Map every document path to the 1-based line where its value starts."""
    index: dict[tuple, int] = {}
    if node is None:
        return index
    index[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = path + (key.value,)
            index.update(_line_index(value, child))
            index[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            index.update(_line_index(value, path + (i,)))
    return index


def fill_defaults(data: Any, schema_name: str) -> Any:
    """Return ``data`` with every missing property that has a schema default filled in."""
    return _fill(data, load_schema(schema_name), schema_name)


def _fill(data: Any, schema: dict, document: str) -> Any:
    schema, document = _resolve(schema, document)
    if isinstance(data, dict) and schema.get("type") == "object":
        out = dict(data)
        properties = schema.get("properties", {})
        for key, sub in properties.items():
            resolved, _ = _resolve(sub, document)
            if key not in out and "default" in resolved:
                out[key] = json.loads(json.dumps(resolved["default"]))
            if key in out:
                out[key] = _fill(out[key], sub, document)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in out:
                if key not in properties:
                    out[key] = _fill(out[key], extra, document)
        return out
    if isinstance(data, list) and isinstance(schema.get("items"), dict):
        return [_fill(item, schema["items"], document) for item in data]
    return data


def _resolve(schema: dict, document: str) -> tuple[dict, str]:
    """Follow a $ref (local or into a sibling schema file); keys beside it win."""
    ref = schema.get("$ref")
    if not ref:
        return schema, document
    target_document, _, pointer = ref.partition("#")
    target_document = target_document or document
    node: Any = load_schema(target_document)
    for part in [p for p in pointer.split("/") if p]:
        node = node[part]
    resolved, final_document = _resolve(node, target_document)
    return {**resolved, **{k: v for k, v in schema.items() if k != "$ref"}}, final_document
