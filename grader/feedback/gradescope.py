"""Gradescope's results.json (schemas/gradescope-results.schema.json) from a feedback document.

Owns the translation to Gradescope's format: the score, one Gradescope test per case (name,
score, max_score, status, visibility, output in Markdown), the submission-wide text, and the
grader's own fields under extra_data. Every sentence comes from the feedback document, which
took it from the catalogs in the student's language; this module adds only layout and symbols.

A case the task keeps hidden stays hidden the way the feedback hides it: its output is only
the pass/fail message, code and misconception, never its inputs; Gradescope's visibility stays
"visible", because hiding a test there would also hide the student's total score. The shrunk
case, when the feedback has one, is a last test worth 0 points.
"""

from __future__ import annotations

import re

from .text import error_lines, submission_notes

FORMAT = "md"


def results(document: dict) -> dict:
    """results.json for one feedback document (also for status "error", with score 0)."""
    cases = document.get("tests", []) + ([document["shrunk"]] if document.get("shrunk") else [])
    shown = (document.get("program_error") or {}).get("error")  # in the summary, once
    tests = [_test(document.get("lang", "zh"), shown, number, case) for number, case in enumerate(cases, 1)]
    extra = {
        key: document.get(key) for key in ("task", "status", "gradable", "seed", "schema_version", "grader_version")
    }
    extra["sandbox"] = (document.get("sandbox") or {}).get("backend")
    extra["codes"] = sorted({t["code"] for t in document.get("tests", []) if t.get("code")})
    extra["diagnoses"] = [d["id"] for d in document.get("diagnoses", [])]
    if document.get("error"):
        extra["error"] = document["error"]
    gradescope = {
        "score": document.get("score", 0),
        "output": _summary(document),
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": extra,
        "tests": tests,
    }
    timing = document.get("timing") or {}
    if isinstance(timing.get("total_seconds"), (int, float)):
        gradescope["execution_time"] = round(timing["total_seconds"], 3)
    return gradescope


def _summary(document: dict) -> str:
    """What the text rendering says about the whole submission: the summary, the notes on how the
    file was read (each once), the known mistakes, the error that stopped every test with the
    student's own lines, the hints from the hidden tests, and what importing printed."""
    lang = document.get("lang", "zh")
    parts = [f"**{_escape(document.get('summary', ''))}**"]
    parts += [f"- {_escape(note)}" for note in submission_notes(document)]
    parts += [f"> {_escape(d['message'])}" for d in document.get("diagnoses", [])]
    problem = document.get("program_error")
    if problem:
        parts.append(_escape(problem["message"]))
        if problem.get("error"):
            parts.append(_code_block("\n".join(error_lines(lang, problem["error"]))))
    parts += [f"- {_escape(hint['message'])}" for hint in document.get("hidden_hints", [])]
    if document.get("import_stdout"):
        parts.append(_code_block(document["import_stdout"]))
    return "\n\n".join(parts)


def _test(lang: str, shown: dict | None, number: int, case: dict) -> dict:
    name = case["name"] + (f" - {case['title']}" if case.get("title") else "")
    tags = [case[key] for key in ("kind", "visibility", "code") if case.get(key)] + case.get("diagnoses", [])
    return {
        "number": str(number),
        "name": name,
        "score": case["score"],
        "max_score": case["max_score"],
        "status": "passed" if case["status"] == "passed" else "failed",
        "visibility": "visible",
        "output": _case_output(lang, shown, case),
        "output_format": FORMAT,
        "tags": tags,
    }


def _case_output(lang: str, shown: dict | None, case: dict) -> str:
    parts = [_escape(case.get("message", ""))]
    if case.get("params"):
        parts.append("`" + " ".join(f"{k}={v}" for k, v in case["params"].items()) + "`")
    lines, error_maps = [], []
    for check in case.get("checks", []):
        mark = "✔" if check["status"] == "passed" else "✘"
        line = f"- `{check['output']}` {mark}"
        if check.get("got_shape") is not None and not check.get("shape_ok"):
            line += f" `{tuple(check['got_shape'])}` ≠ `{tuple(check['expected_shape'])}`"
        elif check.get("expected_shape") is not None:
            line += f" `{tuple(check['expected_shape'])}`"
        if check.get("max_abs_error") is not None:
            line += f" · max\\|Δ\\| = {check['max_abs_error']:.3g}"
        found = check.get("diagnostics") or {}
        if found.get("total"):
            line += f" · ✘ {found['wrong_count']}/{found['total']}"
        if found.get("worst"):
            worst = found["worst"]
            line += f" · `{list(worst['index'])}`: {worst['got']} ≠ {worst['expected']}"
        lines.append(line)
        lines += [f"  - {_escape(hint['message'])}" for hint in found.get("shape_hints", []) + found.get("hints", [])]
        if found.get("error_map"):
            error_maps.append(f"`{check['output']}{list(found['error_map']['slice'])}`\n\n"
                              + _code_block("\n".join(found["error_map"]["rows"])))
    if lines:
        parts.append("\n".join(lines))
    parts += error_maps
    if case.get("error") and case["error"] != shown:
        parts.append(_code_block("\n".join(error_lines(lang, case["error"]))))
    if case.get("stdout"):
        parts.append(_code_block(case["stdout"]))
    return "\n\n".join(p for p in parts if p)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>#|])")


def _escape(text: str) -> str:
    """Student-influenced text as literal Markdown (no links, html or emphasis from it)."""
    return _MARKDOWN.sub(r"\\\1", text)


def _code_block(text: str) -> str:
    """``text`` verbatim in a fenced block whose fence no run of backticks in it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"
