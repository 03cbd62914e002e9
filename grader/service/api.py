"""The OpenAPI document (grader/schemas/openapi.json): served, and the source of every shape.

The document in the repository refers to the feedback's own schemas by file name
(``feedback.schema.json``, ``gradescope-results.schema.json``): they stay the one definition
of the feedback. What ``/openapi.json`` serves is the same document made self-contained: each
schema it refers to is put under ``components/schemas`` with its internal references
rewritten to point there, so that a client or a code generator needs nothing else. Request
bodies are validated against that document's schemas, with messages that name the field and
never echo a value back.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timezone
from functools import lru_cache

from ..spec.yamldoc import SCHEMA_DIR, load_schema

DOCUMENT = "openapi.json"
_EXTERNAL = re.compile(r"^([A-Za-z0-9_.-]+\.schema\.json)(#.*)?$")


def _component_name(file_name: str) -> str:
    """feedback.schema.json -> Feedback, gradescope-results.schema.json -> GradescopeResults."""
    stem = file_name.removesuffix(".schema.json")
    return "".join(part.capitalize() for part in re.split(r"[-_.]", stem))


def _rewrite_refs(node, rewrite) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            node["$ref"] = rewrite(node["$ref"])
        for value in node.values():
            _rewrite_refs(value, rewrite)
    elif isinstance(node, list):
        for value in node:
            _rewrite_refs(value, rewrite)


@lru_cache(maxsize=1)
def document() -> dict:
    """The served document: grader/schemas/openapi.json with the schemas it names bundled in."""
    bundled = json.loads((SCHEMA_DIR / DOCUMENT).read_text(encoding="utf-8"))
    schemas = bundled["components"]["schemas"]
    pending: list[str] = []

    def external(ref: str) -> str:
        match = _EXTERNAL.match(ref)
        if not match:
            return ref
        file_name, fragment = match.group(1), (match.group(2) or "#")[1:]
        name = _component_name(file_name)
        if name not in schemas and file_name not in pending:
            pending.append(file_name)
        return f"#/components/schemas/{name}{fragment}"

    _rewrite_refs(bundled, external)
    while pending:
        file_name = pending.pop()
        name = _component_name(file_name)
        schema = copy.deepcopy(load_schema(file_name))
        for key in ("$schema", "$id"):
            schema.pop(key, None)
        _rewrite_refs(schema, lambda ref, name=name: f"#/components/schemas/{name}{ref[1:]}" if ref.startswith("#")
                      else external(ref))
        schemas[name] = schema
    return bundled


@lru_cache(maxsize=1)
def document_bytes() -> bytes:
    return json.dumps(document(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@lru_cache(maxsize=None)
def validator(component: str):
    """A validator of ``components/schemas/<component>`` of the served document."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator({"$ref": f"#/components/schemas/{component}", "components": document()["components"]})


def _words(error) -> str:
    """What is wrong at one place of a body, without its value (which may be the whole file)."""
    kind, expected = error.validator, error.validator_value
    if kind == "oneOf" and not error.absolute_path:
        return "give exactly one of source (text) and source_base64 (bytes in base64)"
    if kind == "additionalProperties":
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return "unknown field(s): " + ", ".join(repr(name[:60]) for name in unknown[:10])
    if kind == "required":
        return error.message
    if kind == "type":
        return f"must be of type {' or '.join(expected) if isinstance(expected, list) else expected}"
    if kind in ("enum", "const"):
        options = expected if kind == "enum" else [expected]
        return "must be one of " + ", ".join(json.dumps(option) for option in options)
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[kind] \
            + f" {expected} required"
    if kind in ("minLength", "maxLength"):
        return f"must be {'at least' if kind == 'minLength' else 'at most'} {expected} characters long"
    if kind == "pattern":
        return f"must match the pattern {expected}"
    return error.message[:200]


def body_problems(component: str, body: object) -> list[dict]:
    """Each way ``body`` breaks ``component``, as {pointer, detail}: the errors of a 422."""
    problems = []
    for error in sorted(validator(component).iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
        pointer = "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in error.absolute_path)
        problems.append({"pointer": pointer, "detail": _words(error)})
    return problems


# --- the resources --------------------------------------------------------------------------

TIMINGS = ("queued_seconds", "sandbox_seconds", "judge_seconds", "total_seconds")


def timestamp(seconds: float | None) -> str | None:
    """RFC 3339 in UTC, to the millisecond."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rendered(document: dict, output_format: str) -> dict | str | None:
    """The feedback as ``grader grade --format`` prints it, for the formats that are not json."""
    if output_format == "gradescope":
        from ..feedback import gradescope

        return gradescope.results(document)
    if output_format == "text":
        from ..feedback import text as render_text

        return render_text.render(document, colour=False)
    if output_format == "html":
        from ..feedback import html as render_html

        return render_html.render(document)
    return None


def grading_resource(record, queue_position: int | None, running: bool) -> dict:
    """A Grading (components/schemas/Grading) from a store record and the dispatcher's view."""
    if queue_position is not None:
        state = "queued"
    elif running:
        state = "running"
    elif record.state in ("done", "error"):
        state = record.state
    else:  # unfinished in the store but in no queue of this process: it is graded after a restart
        state = "queued"
    finished = record.feedback is not None
    return {
        "id": record.id,
        "task": record.task,
        "state": state,
        "priority": record.priority,
        "format": record.format,
        "lang": record.lang,
        "seed": record.seed,
        "queue_position": queue_position,
        "accepted_at": timestamp(record.accepted_at),
        "started_at": timestamp(record.started_at) if state != "queued" else None,
        "finished_at": timestamp(record.finished_at) if finished else None,
        "metadata": record.metadata,
        "callback": ({"url": record.callback_url, "state": record.callback_state or "waiting",
                      "attempts": record.callback_attempts} if record.callback_url else None),
        "feedback": record.feedback,
        "rendered": rendered(record.feedback, record.format) if finished else None,
        "timings": {name: (record.timings or {}).get(name) for name in TIMINGS},
    }


def webhook_payload(record, finished_at: float) -> bytes:
    """The body of the webhook gradingFinished (components/schemas/WebhookEvent), as sent."""
    event = {"type": "grading.finished", "timestamp": timestamp(finished_at),
             "data": grading_resource(record, None, False)}
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
