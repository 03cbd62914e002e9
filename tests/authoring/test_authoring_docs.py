"""The reference docs are generated from the schemas, and the schemas describe every key."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from authoring_support import REPO, run_grader
from grader.authoring import schemadoc
from grader.spec import yamldoc

SCHEMAS = ["task.schema.json", "config.schema.json"]


def _properties(node, path=""):
    """(path, property schema, required) for every property anywhere in a schema."""
    if isinstance(node, dict):
        required = set(node.get("required", []))
        for key, sub in node.get("properties", {}).items():
            yield f"{path}.{key}", sub, key in required
        for key, sub in node.items():
            if key in ("properties",):
                for name, child in sub.items():
                    yield from _properties(child, f"{path}.{name}")
            elif isinstance(sub, (dict, list)):
                yield from _properties(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _properties(item, f"{path}[{i}]")


@pytest.mark.parametrize("name", sorted(schemadoc.render_all()))
def test_committed_docs_are_the_generated_ones(name):
    committed = (REPO / "docs" / name).read_text(encoding="utf-8")
    assert committed == schemadoc.render_all()[name], f"docs/{name} is stale: run `grader docs`"


@pytest.mark.parametrize("schema_name", SCHEMAS)
def test_every_key_has_a_description_and_a_default(schema_name):
    """Required keys have no default; any other key has one, or says what its absence means."""
    root = yamldoc.load_schema(schema_name)
    missing = []
    for path, node, required in _properties(root):
        target = node
        if "$ref" in node and "description" not in node:
            target = yamldoc._resolve(node, schema_name)[0]
        if not target.get("description"):
            missing.append(f"{path}: no description")
        if not required and "default" not in target and yamldoc.ABSENT not in target:
            missing.append(f"{path}: neither a default nor {yamldoc.ABSENT}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("schema_name", SCHEMAS)
def test_every_default_is_valid_for_its_key(schema_name):
    root = yamldoc.load_schema(schema_name)
    validator = yamldoc.validator(schema_name)
    for path, node, _ in _properties(root):
        resolved = yamldoc._resolve(node, schema_name)[0]
        if "default" in resolved:
            errors = list(validator.evolve(schema=resolved).iter_errors(resolved["default"]))
            assert not errors, f"{path}: default {resolved['default']!r}: {errors[0].message}"


def test_schemas_are_valid_draft_2020_12():
    for path in (REPO / "grader" / "schemas").glob("*.schema.json"):
        Draft202012Validator.check_schema(yamldoc.load_schema(path.name))


def test_grader_docs_check_and_write(tmp_path):
    assert run_grader("docs", "--check").returncode == 0
    stale = run_grader("docs", "--check", "--out", str(tmp_path))
    assert stale.returncode == 1 and "out of date" in stale.stdout.decode()
    assert run_grader("docs", "--out", str(tmp_path)).returncode == 0
    assert (tmp_path / "task-spec.md").read_text(encoding="utf-8") == (REPO / "docs" / "task-spec.md").read_text(encoding="utf-8")
    assert run_grader("docs", "--check", "--out", str(tmp_path)).returncode == 0


def test_every_task_key_appears_in_the_reference_doc():
    text = (REPO / "docs" / "task-spec.md").read_text(encoding="utf-8")
    for key in ("`id`", "`files.support`", "`entry.steps[].returns`", "`params.<name>.choices`", "`inputs.<name>.distribution`",
                "`outputs.<name>.tolerance`", "`cases.fixed[].visible`", "`misconceptions[].code`", "`checks[].gradient.pairs`",
                "`checks[].adjoint.task`"):
        assert key in text, key
