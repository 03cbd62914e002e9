"""The zh and en catalogs say the same things: the same keys and placeholders, a message for every
stable code and hint code of the schema; and no student-facing text is written in grader code."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from grader.feedback import messages
from grader.spec.yamldoc import load_schema

GRADER_DIR = Path(messages.__file__).resolve().parent


def _flatten(node, prefix=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _flatten(value, f"{prefix}{key}.")
    else:
        yield prefix[:-1], node


def _placeholders(message):
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


def test_same_keys_and_placeholders_in_both_languages():
    zh, en = dict(_flatten(messages.catalog("zh"))), dict(_flatten(messages.catalog("en")))
    assert set(zh) == set(en)
    for key in zh:
        assert _placeholders(zh[key]) == _placeholders(en[key]), key


@pytest.mark.parametrize("definition,section", [("code", "codes"), ("shape_hint_code", "shape_hints"),
                                                ("value_hint_code", "value_hints")])
def test_every_stable_code_has_a_message(definition, section):
    for code in load_schema("feedback.schema.json")["$defs"][definition]["enum"]:
        for lang in messages.LANGUAGES:
            assert messages.has(lang, f"{section}.{code}"), f"{lang}: {section}.{code}"


def test_no_chinese_text_in_grader_code():
    """Chinese messages live in grader/feedback/catalogs/zh.yaml only (task texts in task specs)."""
    cjk = re.compile(r"[\u4e00-\u9fff]")
    offenders = [p.name for p in GRADER_DIR.rglob("*.py") if cjk.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
