"""yamldoc turns schema errors into words an author can act on, at the right line."""

from __future__ import annotations

import pytest

from grader.commands import new
from grader.spec import yamldoc

SPEC = new.scaffold("demo")["tasks/demo.yaml"]


def _problems(text: str) -> list[str]:
    with pytest.raises(yamldoc.DocumentError) as caught:
        yamldoc.parse(text, "demo.yaml", "task.schema.json")
    return caught.value.problems


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), start=1) if needle in line)


@pytest.mark.parametrize("old,new,needle,expected", [
    ("gamma: {shape: [C]", "gamma: {shape: [2.5]", "[2.5]", "inputs/gamma/shape/0: expected an integer or an expression; got a number 2.5"),
    ("entry:\n  class: Demo\n", "entry: Demo\nstray:\n", "entry: Demo",
     "entry: expected a function entry (function, args, returns) or a class entry (class, init, steps, attributes); got a string \"Demo\""),
    ("  N: {min: 1, max: 3, description: images in the batch}", "  N: [1, 3]", "N: [1, 3]",
     "params/N: expected a range (min, max) or a list of choices; got a list [1, 3]"),
    ("  N: {min: 1, max: 3, description: images in the batch}", "  N: {choices: []}", "choices: []",
     "params/N/choices: must not be empty"),
    ("  en: Backward pass of a per-channel", "  eng: Backward pass of a per-channel", "eng:",
     "title/eng: unknown key 'eng'; did you mean 'en'? (allowed here: zh, en)"),
    ("      visible: false", "      visible: nope", "visible: nope",
     "cases/fixed/3/visible: expected true or false, got a string \"nope\""),
    ("gamma: {shape: [C],", "gamma: {shape: [C], scale: -1,", "scale: -1", "inputs/gamma/scale: expected a value more than 0; got -1"),
    ("      args: [x]", "      args: [[x, [N]]]", "[[x, [N]]]", "entry/steps/0/args/0/1: expected a string, got a list [\"N\"]"),
    ("  - gradient:", "  - gradiant:", "gradiant", "checks/0/gradiant: unknown key 'gradiant'; did you mean 'gradient'?"),
    ("  H: {min: 1, max: 6}", "  1x: {min: 1, max: 6}", "1x:", "params/1x: \"1x\" is not a valid name here: expected a Python identifier"),
    ("  H: {min: 1, max: 6}", "  on: {min: 1, max: 6}", "  on: {min", "params/True: true is not a valid name here"),
])
def test_schema_errors_in_words(old, new, needle, expected):
    assert old in SPEC
    text = SPEC.replace(old, new, 1)
    problems = _problems(text)
    assert any(p.startswith(f"demo.yaml:{_line(text, needle)}: {expected}") for p in problems), problems


def test_empty_document_lists_every_missing_key():
    problems = _problems("")
    assert problems[0] == "demo.yaml: (top level): missing required key 'id' (Task id, equal to the spec's file name without .yaml (tasks/<id>.yaml))"
    assert len(problems) == 9


def test_a_list_is_not_a_spec():
    assert _problems("- a\n- b\n")[0].startswith("demo.yaml:1: (top level): expected a mapping (key: value), got a list")


def test_not_utf8(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes(b"id: x\ntitle: \xff\n")
    with pytest.raises(yamldoc.DocumentError) as caught:
        yamldoc.load(path, "task.schema.json")
    assert caught.value.problems == [f"{path}: not UTF-8 (byte 13); save the file as UTF-8"]


def test_a_valid_document_keeps_its_lines():
    document = yamldoc.parse(SPEC, "demo.yaml", "task.schema.json")
    assert document.line(("cases", "fixed", 1, "params")) == _line(SPEC, "params: {N: 3, C: 4, H: 3, W: 3}")
    assert document.line(("params", "C")) == _line(SPEC, "  C: {min: 1")
    assert document.problem(("inputs", "gamma", "nowhere"), "m") == f"demo.yaml:{_line(SPEC, 'gamma: {shape')}: inputs/gamma/nowhere: m"
