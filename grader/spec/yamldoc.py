"""YAML documents validated against our JSON Schemas, with errors an author can act on.

Owns: parsing YAML safely, validating it (draft 2020-12), filling in the schema's
defaults, and turning every problem into ``file:line: path: what was expected``.
The line of every value and key is kept (``Document.line``) so that checks made
after the schema (names, files, cases) can point at the line too.

PyYAML, jsonschema and referencing are imported inside the functions that use them, on a miss of
the document cache (``doccache``) only: with the cache warm, ``grader grade`` imports none of them
(tests/platform/test_latency_design.py).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from . import doccache

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"
# A property with this annotation has no default value of its own: the annotation says
# what absence means (e.g. "grader.yaml's tolerance applies"), and no default is filled
# in, neither for it nor inside it.
ABSENT = "x-absent"


class DocumentError(Exception):
    """A YAML document that cannot be used; ``problems`` are one line each."""

    def __init__(self, path: str, problems: list[str]):
        super().__init__(path, problems)
        self.path = path
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(self.problems)


class Document:
    """A validated document: its data (defaults filled in) and where each value was written."""

    def __init__(self, path: Path, data: object, lines: dict[tuple, int]):
        self.path = path
        self.data = data
        self.lines = lines

    def line(self, doc_path: tuple | list) -> int | None:
        """The line of ``doc_path``, or of its nearest ancestor written in the file."""
        doc_path = tuple(doc_path)
        for cut in range(len(doc_path), -1, -1):
            if doc_path[:cut] in self.lines:
                return self.lines[doc_path[:cut]]
        return None

    def problem(self, doc_path: tuple | list, message: str) -> str:
        return format_problem(str(self.path), self.line(doc_path), doc_path, message)


def format_problem(display: str, line: int | None, doc_path, message: str) -> str:
    where = f"{display}:{line}" if line else display
    return f"{where}: {dotted(doc_path)}: {message}"


def dotted(doc_path) -> str:
    return "/".join(str(p) for p in doc_path) or "(top level)"


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _registry():
    from referencing import Registry, Resource

    pairs = []
    for path in SCHEMA_DIR.glob("*.schema.json"):
        resource = Resource.from_contents(load_schema(path.name))
        pairs.append((path.name, resource))
        pairs.append((load_schema(path.name)["$id"], resource))
    return Registry().with_resources(pairs)


def validator(schema_name: str):
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(schema_name), registry=_registry())


def load(path: Path, schema_name: str) -> dict:
    """Parse and validate ``path``; raise DocumentError with located problems."""
    return load_document(path, schema_name).data


def load_document(path: Path, schema_name: str) -> Document:
    """Parse and validate ``path``, keeping the line of every value.

    A document already validated with the same content and schemas comes from ``doccache``:
    neither PyYAML nor jsonschema is imported then.
    """
    display = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DocumentError(display, [f"{display}: cannot read: {exc.strerror or exc}"]) from None

    def parsed() -> dict:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentError(display, [f"{display}: not UTF-8 (byte {exc.start}); save the file as UTF-8"]) from None
        document = parse(text, display, schema_name, Path(path))
        return {"data": document.data, "lines": [[list(where), line] for where, line in document.lines.items()]}

    stored = doccache.cached(f"yamldoc:{schema_name}:{_schemas_digest()}", raw, parsed)
    return Document(Path(path), stored["data"], {tuple(where): line for where, line in stored["lines"]})


@lru_cache(maxsize=1)
def _loader():
    """PyYAML's C loader when libyaml is there; PyYAML is imported only when a document is parsed."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=None)
def _schemas_digest() -> str:
    return doccache.digest(*(p.read_bytes() for p in sorted(SCHEMA_DIR.glob("*.schema.json"))))


def parse(text: str, display: str, schema_name: str, path: Path | None = None) -> Document:
    """Validate YAML ``text`` (named ``display`` in messages) against ``schema_name``."""
    import yaml

    try:
        node = yaml.compose(text, Loader=_loader())
        data = yaml.load(text, Loader=_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{display}:{mark.line + 1}" if mark else display
        problem = getattr(exc, "problem", None) or str(exc)
        hint = " (YAML does not allow tabs for indentation)" if mark and "\t" in _line_of(text, mark.line) else ""
        raise DocumentError(display, [f"{where}: not valid YAML: {problem}{hint}"]) from None
    if data is None:
        data = {}
    lines = _line_index(node)
    problems = [format_problem(display, line, path_, message) for line, path_, message in _duplicate_keys(node)]
    errors = sorted(validator(schema_name).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    schema = load_schema(schema_name)
    for error in errors:
        for doc_path, message in describe(error, schema):
            problems.append(format_problem(display, _nearest(lines, doc_path), doc_path, message))
    if problems:
        raise DocumentError(display, list(dict.fromkeys(problems)))
    return Document(path or Path(display), fill_defaults(data, schema_name), lines)


def _line_of(text: str, index: int) -> str:
    lines = text.split("\n")
    return lines[index] if 0 <= index < len(lines) else ""


def _nearest(lines: dict[tuple, int], doc_path: tuple) -> int | None:
    for cut in range(len(doc_path), -1, -1):
        if doc_path[:cut] in lines:
            return lines[doc_path[:cut]]
    return None


def _line_index(node, path: tuple = ()) -> dict[tuple, int]:
    """Map every document path to the 1-based line where it is written (its key's line)."""
    import yaml

    index: dict[tuple, int] = {}
    if node is None:
        return index
    index[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = path + (_key(key),)
            index.update(_line_index(value, child))
            index[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            index.update(_line_index(value, path + (i,)))
    return index


def _key(node) -> object:
    """A mapping key as the loaded data has it (``1`` stays an int, ``on`` a bool)."""
    import yaml

    if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:str":
        try:
            return yaml.constructor.SafeConstructor().construct_object(node)
        except yaml.YAMLError:
            return node.value
    return node.value


def _duplicate_keys(node, path: tuple = ()) -> list[tuple[int, tuple, str]]:
    """YAML keeps the last of two equal keys silently; an author means neither."""
    import yaml

    found = []
    if isinstance(node, yaml.MappingNode):
        first_line: dict = {}
        for key, value in node.value:
            name = _key(key)
            line = key.start_mark.line + 1
            hashable = name if isinstance(name, (str, int, float, bool)) or name is None else repr(name)
            if hashable in first_line:
                found.append(
                    (
                        line,
                        path + (name,),
                        f"key {name!r} is written twice (first at line {first_line[hashable]}); keep one",
                    )
                )
            else:
                first_line[hashable] = line
            found += _duplicate_keys(value, path + (name,))
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            found += _duplicate_keys(value, path + (i,))
    return found


# ---------------------------------------------------------------- schema errors in words

_TYPE_WORDS = {"object": "a mapping (key: value)", "array": "a list", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "true or false", "null": "nothing"}


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "nothing" if value is None else type(value).__name__


def short(value: object, limit: int = 60) -> str:
    """A value as an author wrote it, cut to ``limit`` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_sentence(text: str | None) -> str:
    if not text:
        return ""
    sentence = text.split(". ")[0].rstrip(".")
    return sentence if len(sentence) <= 120 else sentence[:117] + "..."


def _resolved(schema: dict, root: dict) -> dict:
    """A subschema with a $ref followed (as far as the registry of our schemas goes)."""
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if not ref:
        return schema
    document, _, pointer = ref.partition("#")
    node: object = load_schema(document) if document else root
    for part in [p for p in pointer.split("/") if p]:
        node = node[part]
    return {
        **_resolved(node, load_schema(document) if document else root),
        **{k: v for k, v in schema.items() if k != "$ref"},
    }


def describe(error, root: dict) -> list[tuple[tuple, str]]:
    """One jsonschema error -> [(document path, what was expected)], as precise as possible."""
    path = tuple(error.absolute_path)
    schema = _resolved(error.schema, root) if isinstance(error.schema, dict) else {}
    instance = error.instance
    kind = error.validator
    if "propertyNames" in error.absolute_schema_path:
        name = instance
        hint = (
            "; YAML reads on, off, yes, no, true and false as booleans: quote the name"
            if isinstance(name, bool)
            else ""
        )
        return [(path + (name,), f"{short(name)} is not a valid name here: expected a Python identifier "
                                 f"(letters, digits and _, not starting with a digit){hint}")]
    if kind in ("oneOf", "anyOf"):
        return _describe_alternatives(error, root, path, schema)
    if kind == "required":
        missing = [name for name in error.validator_value if isinstance(instance, dict) and name not in instance]
        out = []
        for name in missing:
            about = _first_sentence(_resolved(schema.get("properties", {}).get(name, {}), root).get("description"))
            out.append((path, f"missing required key {name!r}" + (f" ({about})" if about else "")))
        return out
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        out = []
        for name in instance:
            if name in allowed:
                continue
            hint = did_you_mean(name, allowed)
            where = f" (allowed here: {', '.join(allowed)})" if allowed else ""
            out.append((path + (name,), f"unknown key {name!r}{hint}{where}"))
        return out
    if kind == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in expected)
        return [(path, f"expected {words}, got {_kind(instance)} {short(instance)}" + _about(schema))]
    if kind == "enum":
        choices = ", ".join(short(c) for c in error.validator_value)
        return [(path, f"expected one of {choices}; got {short(instance)}")]
    if kind == "const":
        return [(path, f"expected {short(error.validator_value)}; got {short(instance)}")]
    if kind == "pattern":
        return [(path, f"{short(instance)} does not match the pattern {error.validator_value}" + _about(schema))]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "more than",
            "exclusiveMaximum": "less than",
        }[kind]
        return [(path, f"expected a value {words} {error.validator_value}; got {short(instance)}" + _about(schema))]
    if kind in ("minItems", "minProperties") and error.validator_value == 1:
        return [(path, "must not be empty" + _about(schema))]
    if kind in ("minItems", "maxItems", "minProperties", "maxProperties"):
        words = "at least" if kind.startswith("min") else "at most"
        return [(path, f"expected {words} {error.validator_value} entries; got {len(instance)}" + _about(schema))]
    if kind == "minLength":
        return [(path, "must not be empty" + _about(schema))]
    return [(path, error.message)]


def _about(schema: dict) -> str:
    sentence = _first_sentence(schema.get("description"))
    return f" ({sentence})" if sentence else ""


def _describe_alternatives(error, root: dict, path: tuple, schema: dict) -> list[tuple[tuple, str]]:
    """oneOf/anyOf: explain against the alternative the author most likely meant."""
    branches: dict[int, list] = {}
    for sub in error.context or []:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    options = schema.get(error.validator, [])
    names = [_resolved(o, root).get("title") or f"form {i + 1}" for i, o in enumerate(options)]
    if not branches:
        return [(path, f"matches more than one allowed form ({', '.join(names)}); remove what does not belong")]
    if all(
        sub.validator == "type" and len(sub.absolute_path) == len(path) for subs in branches.values() for sub in subs
    ):
        return [(path, f"expected {' or '.join(names)}; got {_kind(error.instance)} {short(error.instance)}")]

    def score(item):
        _, subs = item
        depth = max(len(sub.absolute_path) for sub in subs)
        # a branch failing only on keys it does not know is a worse guess than one missing a key
        return depth, -sum(1 if sub.validator != "additionalProperties" else 2 for sub in subs)

    index, subs = max(branches.items(), key=score)
    out = []
    for sub in subs:
        out += describe(sub, root)
    label = names[index] if index < len(names) else f"form {index + 1}"
    if len(options) > 1:
        out = [(p, f"{m} (read as {label})") for p, m in out]
    return out


# ---------------------------------------------------------------- defaults

def fill_defaults(data: object, schema_name: str) -> object:
    """Return ``data`` with every missing property that has a schema default filled in."""
    return _fill(data, load_schema(schema_name), schema_name)


def _fill(data: object, schema: dict, document: str) -> object:
    schema, document = _resolve(schema, document)
    if isinstance(data, dict) and schema.get("type") == "object":
        out = dict(data)
        properties = schema.get("properties", {})
        for key, sub in properties.items():
            resolved, _ = _resolve(sub, document)
            if ABSENT in resolved:
                continue
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
    if isinstance(data, dict) and isinstance(schema.get("oneOf"), list):
        return _fill_matching(data, schema["oneOf"], document)
    return data


def _fill_matching(data: dict, options: list, document: str) -> dict:
    """Fill the defaults of the alternative ``data`` is valid under (there is one: it validated)."""
    for option in options:
        resolved, final_document = _resolve(option, document)
        if validator(final_document).evolve(schema=resolved).is_valid(data):
            return _fill(data, resolved, final_document)
    return data


def _resolve(schema: dict, document: str) -> tuple[dict, str]:
    """Follow a $ref (local or into a sibling schema file); keys beside it win."""
    ref = schema.get("$ref")
    if not ref:
        return schema, document
    target_document, _, pointer = ref.partition("#")
    target_document = target_document or document
    node: object = load_schema(target_document)
    for part in [p for p in pointer.split("/") if p]:
        node = node[part]
    resolved, final_document = _resolve(node, target_document)
    return {**resolved, **{k: v for k, v in schema.items() if k != "$ref"}}, final_document


def did_you_mean(name, known) -> str:
    """"; did you mean 'x'?" when one of ``known`` is close to the misspelt ``name`` (difflib), else "":
    the one hint every problem about an unknown name of a document gives."""
    from difflib import get_close_matches  # only for a broken document

    guess = get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=0.6)
    return f"; did you mean {guess[0]!r}?" if guess else ""
