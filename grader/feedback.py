"""The feedback document: a Grading turned into the JSON answer (feedback.schema.json).

Owns what the student and the platform see: statuses, scores, messages from the
catalogs in the chosen language, and what a hidden case may not show.
"""

from __future__ import annotations

import math

from . import SCHEMA_VERSION, __version__
from .messages import text

PROGRAM_CODES = {"COMPILE_ERROR", "ENCODING_ERROR", "SUBMISSION_TOO_LARGE", "BLOCK_MODE_UNAVAILABLE", "IMPORT_ERROR"}


def _number(value: float) -> float:
    return round(float(value), 6)


def _where(lang: str, grading, error: dict | None) -> str:
    """Where an error happened, in the student's own line numbers."""
    if not error:
        return ""
    submission = grading.submission
    module_file = f"{grading.task.module_name}.py"
    line = None
    if error.get("file") == module_file and error.get("line"):
        line = error["line"]
    for frame in reversed(error.get("frames", [])):
        if frame.get("file") == module_file:
            line = frame["line"]
            break
    if line is None:
        return ""
    own = submission.student_line(line)
    if own is None:
        return text(lang, "where.template_line", line=line)
    return text(lang, "where.block_line" if submission.mode == "block" else "where.line", line=own)


def error_location(grading, error: dict | None) -> dict | None:
    if not error:
        return None
    module_file = f"{grading.task.module_name}.py"
    location = {"exception": error.get("exception", ""), "message": error.get("message", "")}
    line = error.get("line") if error.get("file") == module_file else None
    for frame in reversed(error.get("frames", [])):
        if frame.get("file") == module_file:
            line = frame["line"]
            break
    if line is not None:
        location["line"] = grading.submission.student_line(line)
        location["in_template"] = location["line"] is None
        location["module_line"] = line
    return location


def case_message(lang: str, grading, verdict) -> str:
    if verdict.code is None:
        return text(lang, "test.passed")
    limits = grading.limits
    values = {"memory_mb": limits.memory_mb, "wall_seconds": limits.wall_seconds, "cpu_seconds": limits.cpu_seconds,
              "result_mb": limits.result_mb, **verdict.detail}
    if verdict.error:
        values.update(exception=verdict.error.get("exception", ""), message=verdict.error.get("message", ""),
                      where=_where(lang, grading, verdict.error))
    else:
        values.setdefault("where", "")
    if verdict.code == "MISSING_ENTRY" and verdict.error:
        values["name"] = verdict.error.get("message", "")
    if verdict.code == "CRASHED":
        if "signal" in verdict.detail:
            values["how"] = text(lang, "crash.signal", signal=verdict.detail["signal"])
        else:
            values["how"] = text(lang, "crash.exit_early", code=verdict.detail.get("exit_code"))
    if verdict.code == "ENCODING_ERROR":
        line = verdict.detail.get("line")
        values["where"] = text(lang, "where.line", line=line) if line else ""
        values.setdefault("encoding", "utf-8")
    failing = [c for c in verdict.checks if c.code]
    if failing:
        return " ".join(check_message(lang, check) for check in failing)
    return text(lang, f"codes.{verdict.code}", **values)


def check_message(lang: str, check) -> str:
    if check.code is None:
        return text(lang, "test.passed")
    values = {"output": check.output, **check.detail}
    if check.code == "MISSING_OUTPUT":
        values["how"] = text(lang, f"missing.{check.detail['how']}", output=check.output)
    if check.code == "WRONG_TYPE":
        values["got"] = text(lang, f"kinds.{check.detail['got']}") if check.detail.get("got") in ("none", "scalar", "list", "tuple", "subclass", "other") else check.detail.get("got")
    return text(lang, f"codes.{check.code}", **values)


def _check_entry(lang: str, check, visible: bool) -> dict:
    entry = {
        "output": check.output,
        "status": "passed" if check.passed else "failed",
        "code": check.code,
        "shape_ok": check.got_shape is not None and check.got_shape == check.expected_shape,
        "max_abs_error": None if check.max_abs_error is None or not math.isfinite(check.max_abs_error) else _number(check.max_abs_error),
    }
    if visible:
        entry.update(expected_shape=check.expected_shape, got_shape=check.got_shape, got_dtype=check.got_dtype,
                     message=check_message(lang, check))
        if check.notes:
            entry["notes"] = [text(lang, f"notes.{n}", output=check.output, kind="list") for n in check.notes]
    return entry


def build(grading, lang: str) -> dict:
    tests = []
    for verdict in grading.verdicts:
        case = verdict.case
        visible = case.visible
        status = "passed" if verdict.passed else ("not_run" if verdict.code == "NOT_RUN" else "failed")
        entry = {
            "name": case.name,
            "visibility": "visible" if visible else "hidden",
            "status": status,
            "score": case.points if verdict.passed else 0,
            "max_score": case.points,
            "code": verdict.code,
            "message": case_message(lang, grading, verdict) if visible or verdict.passed else text(lang, "test.hidden_failed", code=verdict.code),
            "checks": [_check_entry(lang, check, visible) for check in verdict.checks],
        }
        named = [d.id for d in grading.diagnoses if case.name in d.cases]
        if named:
            entry["diagnoses"] = named
        if case.title:
            entry["title"] = case.title[lang]
        if visible:
            entry["params"] = dict(case.params)
            entry["shapes"] = case.shapes()
            location = error_location(grading, verdict.error)
            if location:
                entry["error"] = location
            if verdict.stdout:
                entry["stdout"] = verdict.stdout
                entry["stdout_truncated"] = verdict.stdout_dropped > 0
        tests.append(entry)
    score = sum(t["score"] for t in tests)
    max_score = sum(t["max_score"] for t in tests)
    passed = sum(1 for t in tests if t["status"] == "passed")
    all_passed = passed == len(tests)
    if not grading.gradable:
        reason = tests[0]["message"] if tests else ""
        summary = text(lang, "summary.not_gradable", reason=reason)
    else:
        summary = text(lang, "summary.passed" if all_passed else "summary.failed",
                       total=len(tests), passed=passed, score=_number(score), max_score=_number(max_score))
    submission = grading.submission
    entry_name = grading.task.entry.get("function") or grading.task.entry["class"]
    notes = [text(lang, f"notes.{n}", encoding=submission.encoding, name=entry_name) for n in submission.notes]
    document = {
        "schema_version": SCHEMA_VERSION,
        "grader_version": __version__,
        "task": grading.task.id,
        "title": grading.task.spec["title"][lang],
        "lang": lang,
        "status": "passed" if all_passed else "failed",
        "gradable": grading.gradable,
        "score": _number(score),
        "max_score": _number(max_score),
        "seed": grading.seed,
        "summary": summary,
        "sandbox": {"backend": grading.backend, "enforced": grading.enforced, "fallback_reason": grading.fallback_reason},
        "submission": {"mode": submission.mode, "mode_message": text(lang, f"mode.{submission.mode}"),
                       "encoding": submission.encoding, "notes": notes},
        "tolerance": grading.tolerance,
        "tests": tests,
        "timing": {"total_seconds": _number(grading.elapsed), "sandbox_seconds": _number(grading.sandbox_elapsed)},
    }
    if grading.diagnoses:
        document["diagnoses"] = [{"id": d.id, "message": d.message[lang], "cases": d.cases} for d in grading.diagnoses]
    if grading.import_stdout:
        document["import_stdout"] = grading.import_stdout
    return document


def error_document(lang: str, reason: str, task: str | None = None, seed: int | None = None) -> dict:
    """The last-ditch answer when the grader itself failed: still valid against the schema."""
    return {
        "schema_version": SCHEMA_VERSION,
        "grader_version": __version__,
        "task": task or "",
        "lang": lang,
        "status": "error",
        "gradable": False,
        "score": 0,
        "max_score": 0,
        "seed": seed,
        "summary": text(lang, "summary.error", reason=reason),
        "error": reason,
        "tests": [],
    }
