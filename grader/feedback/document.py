"""The feedback document: a Grading turned into the JSON answer (feedback.schema.json).

Owns what the student and the platform see: statuses, scores, messages from the
catalogs in the chosen language, and what a hidden case may not show. A hidden case
shows its status, its error code and the named misconceptions only: no params, shapes,
errors, output, diagnostics or error sizes, since each of those carries information
about its inputs or expected values.
"""

from __future__ import annotations

import math

import numpy as np

from .. import SCHEMA_VERSION, __version__
from ..grading import diagnostics, locate
from .messages import catalog, has, text

PROGRAM_CODES = {"COMPILE_ERROR", "ENCODING_ERROR", "SUBMISSION_TOO_LARGE", "BLOCK_MODE_UNAVAILABLE", "IMPORT_ERROR",
                 "OUTSIDE_BLANKS_CHANGED"}
INLINE_VALUES = 12  # a failing visible case whose every input and expected output is this small shows its numbers
REGIONS_LISTED = 8  # changed regions named in a message (the JSON lists them all)
ARRAY_CODES = {"SHAPE_MISMATCH", "NOT_FINITE", "WRONG_VALUES"}  # failing checks that still have the student's array


def _number(value: float) -> float:
    return round(float(value), 6)


def _where(lang: str, grading, location: dict | None) -> str:
    """Where an error happened, in the student's own line numbers, as a phrase for a message."""
    if not location or "module_line" not in location:
        return ""
    if location["in_template"]:
        return text(lang, "where.template_line", line=location["module_line"])
    if location.get("after_block"):
        return text(lang, "where.after_block", line=location["line"])
    return text(lang, "where.block_line" if grading.submission.mode == "block" else "where.line", line=location["line"])


def allowed_modules(task) -> str:
    return ", ".join(["numpy"] + [p.stem for p in task.support_paths])


def error_location(grading, error: dict | None, lang: str | None = None) -> dict | None:
    """The student's exception located in their own numbering, with a hint for its kind when the catalog has one."""
    location = locate.locate(grading.submission, grading.task.module_file, error)
    if location and lang:
        kind = location["exception"]
        if kind == "IndentationError" and locate.mixes_tabs_and_spaces(grading.submission):
            kind = "TabError"
        if has(lang, f"exception_hints.{kind}"):
            location["hint"] = text(lang, f"exception_hints.{kind}", allowed=allowed_modules(grading.task))
    return location


def case_message(lang: str, grading, verdict, location: dict | None = None) -> str:
    if verdict.code is None:
        return text(lang, "test.passed")
    failing = [c for c in verdict.checks if c.code]
    if failing:
        return text(lang, "join.sentences").join(check_message(lang, check, grading.task) for check in failing)
    limits = grading.limits
    values = {"memory_mb": limits.memory_mb, "wall_seconds": limits.wall_seconds, "cpu_seconds": limits.cpu_seconds,
              "result_mb": limits.result_mb, **verdict.detail}
    if verdict.error:
        if location is None:
            location = error_location(grading, verdict.error)
        values.update(exception=verdict.error.get("exception", ""),
                      message=location["message"] if location else verdict.error.get("message", ""),
                      where=_where(lang, grading, location))
    else:
        values.setdefault("where", "")
    if verdict.code == "MISSING_ENTRY" and verdict.error:
        values["name"] = verdict.error.get("message", "")
    if verdict.code == "CRASHED":
        if "signal" in verdict.detail:
            values["how"] = text(lang, "crash.signal", signal=verdict.detail["signal"])
        else:
            values["how"] = text(lang, "crash.exit_early", code=verdict.detail.get("exit_code"))
    if verdict.code == "OUTSIDE_BLANKS_CHANGED":
        values["what"] = _outside_blanks_what(lang, grading.submission.outside_blanks)
    if verdict.code == "ENCODING_ERROR":
        line = verdict.detail.get("line")
        values["where"] = text(lang, "where.line", line=line) if line else ""
        values.setdefault("encoding", "utf-8")
    return text(lang, f"codes.{verdict.code}", **values)


def _call_returning(task, output: str) -> str:
    """The method whose return value is ``output`` (e.g. backward), for "backward returned None"."""
    for step in task.entry.get("steps", []):
        if step.get("returns") == output:
            return step["call"]
    return task.entry.get("function", "")


def check_message(lang: str, check, task=None) -> str:
    if check.code is None:
        return text(lang, "test.passed")
    values = {"output": check.output, **check.detail}
    if check.code == "MISSING_OUTPUT":
        call = _call_returning(task, check.output) if task is not None else ""
        values["how"] = text(lang, f"missing.{check.detail['how']}", output=check.output, call=call)
    if check.code == "WRONG_TYPE":
        got = check.detail.get("got")
        values["got"] = text(lang, f"kinds.{got}") if has(lang, f"kinds.{got}") else text(lang, "kinds.other")
    return text(lang, f"codes.{check.code}", **values)


def _hint_entries(lang: str, section: str, hints: list[dict]) -> list[dict]:
    worded = []
    for hint in hints:
        values = dict(hint)
        if "axis" in hint:
            values["axis"] = text(lang, f"axes.{hint['axis']}")
        message = text(lang, f"{section}.{hint['code']}", **values)
        if hint.get("values_ok"):
            message += text(lang, "join.sentences") + text(lang, f"{section}.values_ok")
        worded.append({**hint, "message": message})
    return worded


def diagnostics_entry(lang: str, report: dict) -> dict:
    """The diagnostics of one check with every hint worded in ``lang``."""
    entry = dict(report)
    if "shape_hints" in entry:
        entry["shape_hints"] = _hint_entries(lang, "shape_hints", entry["shape_hints"])
    if "hints" in entry:
        entry["hints"] = _hint_entries(lang, "value_hints", entry["hints"])
    return entry


def _check_entry(lang: str, check, visible: bool, task, expected=None, got=None, tolerance=None) -> dict:
    entry = {
        "output": check.output,
        "status": "passed" if check.passed else "failed",
        "code": check.code,
        "shape_ok": check.got_shape is not None and check.got_shape == check.expected_shape,
        "max_abs_error": None,
    }
    if not visible:
        return entry
    if check.max_abs_error is not None and math.isfinite(check.max_abs_error):
        entry["max_abs_error"] = _number(check.max_abs_error)
    entry.update(expected_shape=check.expected_shape, got_shape=check.got_shape, got_dtype=check.got_dtype,
                 message=check_message(lang, check, task))
    if check.converted_from:
        entry["notes"] = [
            text(lang, "notes.LIST_CONVERTED", output=check.output, kind=text(lang, f"kinds.{check.converted_from}"))
        ]
    if check.code in ARRAY_CODES and expected is not None and got is not None:
        entry["diagnostics"] = diagnostics_entry(lang, diagnostics.analyse(expected, got, tolerance))
    return entry


def _inline(array) -> dict:
    """An array of the trusted side (parsed by sandbox/protocol.py, or the reference's) as JSON:
    every value through float(), non-finite ones as text."""
    as_floats = np.asarray(array, dtype=np.float64)

    def values(node):
        return [values(item) for item in node] if isinstance(node, list) else diagnostics.number(node)

    return {"shape": [int(d) for d in as_floats.shape], "values": values(as_floats.tolist())}


def tiny_arrays(verdict, expected: dict) -> dict | None:
    """A failing visible case's inputs, expected and student's outputs, when each has at most
    INLINE_VALUES values (a student's output that is not such an array is null; none at all when
    the case raised)."""
    case = verdict.case
    if verdict.passed or verdict.code == "NOT_RUN" or not case.visible or not case.inputs or not expected:
        return None
    if any(a.size > INLINE_VALUES for a in [*case.inputs.values(), *expected.values()]):
        return None
    # (An exception left no outputs to show: then only the inputs and what was expected.)
    got = {name: _inline(verdict.got[name]) if name in verdict.got and verdict.got[name].size <= INLINE_VALUES
           else None for name in expected} if verdict.checks else {}
    return {"inputs": {name: _inline(a) for name, a in case.inputs.items()},
            "expected": {name: _inline(a) for name, a in expected.items()}, "got": got}


def test_entry(lang: str, grading, verdict, expected: dict, diagnosis_ids: list[str]) -> dict:
    """One case's entry; everything beyond status, code and diagnoses only when the case is visible."""
    case = verdict.case
    visible = case.visible
    status = "passed" if verdict.passed else ("not_run" if verdict.code == "NOT_RUN" else "failed")
    location = error_location(grading, verdict.error, lang) if visible else None
    checks = []
    for check in verdict.checks:
        checks.append(_check_entry(lang, check, visible, grading.task, expected.get(check.output),
                                   verdict.got.get(check.output), grading.tolerances[check.output]))
    entry = {
        "name": case.name,
        "kind": case.kind,
        "visibility": "visible" if visible else "hidden",
        "status": status,
        "score": case.points if verdict.passed else 0,
        "max_score": case.points,
        "code": verdict.code,
        "message": case_message(lang, grading, verdict, location) if visible or verdict.passed
        else text(lang, "test.hidden_failed", code=verdict.code),
        "checks": checks,
    }
    if diagnosis_ids:
        entry["diagnoses"] = diagnosis_ids
    if case.title:
        entry["title"] = case.title[lang]
    if visible:
        entry["params"] = dict(case.params)
        entry["shapes"] = case.shapes()
        if location:
            entry["error"] = location
        if verdict.stdout:
            entry["stdout"] = verdict.stdout
            entry["stdout_truncated"] = verdict.stdout_dropped > 0
        arrays = tiny_arrays(verdict, expected)
        if arrays:
            entry["arrays"] = arrays
    return entry


def _program_error(lang: str, grading, tests: list[dict]) -> dict | None:
    """The one error that stopped every test (the code does not compile, import, or define the entry)."""
    codes = {v.code for v in grading.verdicts}
    if len(codes) != 1 or not codes & (PROGRAM_CODES | {"MISSING_ENTRY"}):
        return None
    verdict = grading.verdicts[0]
    location = error_location(grading, verdict.error, lang)
    problem = {"code": verdict.code, "message": case_message(lang, grading, verdict, location)}
    if location:
        problem["error"] = location
    return problem


def _shrunk_entry(lang: str, grading) -> dict | None:
    shrunk = grading.shrunk
    if shrunk is None:
        return None
    entry = test_entry(lang, grading, shrunk.verdict, shrunk.expected, shrunk.diagnoses)
    params = ", ".join(f"{name}={shrunk.case.params[name]}" for name in grading.task.spec["params"])
    entry.update({"from": shrunk.source or None, "index": shrunk.case.index, "tried": shrunk.tried,
                  "summary": text(lang, "shrink.found" if shrunk.source else "shrink.found_hidden",
                                  source=shrunk.source, params=params)})
    return entry


def _regions_text(lang: str, regions: list[dict]) -> str:
    """"lines 3-5 changed, line 40 changed, ..." in the student's line numbers."""
    words = []
    for region in regions[:REGIONS_LISTED]:
        key = "changed_lines" if region["kind"] == "changed" and region["end"] > region["start"] else region["kind"]
        words.append(text(lang, f"outside_blanks.{key}", start=region["start"], end=region["end"]))
    return text(lang, "outside_blanks.join").join(words + (["..."] if len(regions) > REGIONS_LISTED else []))


def _outside_blanks_what(lang: str, report: dict | None) -> str:
    if not report or not report["markers_match"]:
        return text(lang, "outside_blanks.markers")
    return text(lang, "outside_blanks.rejected", regions=_regions_text(lang, report["regions"]))


def outside_blanks_entry(lang: str, submission) -> dict | None:
    """What the file changed outside the template's blanks and what the policy did about it."""
    report = submission.outside_blanks
    if report is None:
        return None
    if submission.problem is not None and submission.problem["code"] == "OUTSIDE_BLANKS_CHANGED":
        action = "rejected"
        message = text(lang, "codes.OUTSIDE_BLANKS_CHANGED", what=_outside_blanks_what(lang, report))
    else:
        action = "restored" if submission.line_map is not None else "graded"
        message = text(lang, f"outside_blanks.{action}", regions=_regions_text(lang, report["regions"]))
    return {**report, "action": action, "message": message}


LOW_PRECISION = ("float32", "float16")
GROWTH_CASES = 3  # cases with a measured error needed to say the error grows with the size
GROWTH_FACTOR = 10.0  # the largest case's error over the smallest's, at least
ABOUT = {"TIMEOUT": "time", "MEMORY_LIMIT": "memory", "WRONG_VALUES": "precision", "NOT_FINITE": "precision"}


def hidden_hints(lang: str, grading) -> list[dict]:
    """Hints for a submission that fails hidden tests only, from what every case shows together: a
    low-precision dtype in any output, an error that grows with the input's size, only the largest
    cases failing. None names a hidden case, its params, its values or its error."""
    verdicts = grading.verdicts
    failing = [v for v in verdicts if not v.passed and v.code != "NOT_RUN"]
    if not failing or any(v.case.visible for v in failing):
        return []
    hints = []
    dtypes = sorted({c.got_dtype for v in verdicts for c in v.checks if c.got_dtype in LOW_PRECISION})
    if dtypes:
        hints.append({"code": "LOW_PRECISION_DTYPE", "dtype": ", ".join(dtypes)})
    # Each case's largest error, by size: the larger third's median against the smaller third's.
    measured = [v for v in sorted(verdicts, key=lambda v: v.case.size)
                if any(c.max_abs_error is not None for c in v.checks)]
    errors = [max(c.max_abs_error for c in v.checks if c.max_abs_error is not None) for v in measured]
    third = len(errors) // 3
    if third and len(errors) >= GROWTH_CASES and all(math.isfinite(e) for e in errors):
        small, large = sorted(errors[:third])[third // 2], sorted(errors[-third:])[third // 2]
        if large > 0 and large >= GROWTH_FACTOR * small:
            hints.append({"code": "ERROR_GROWS_WITH_SIZE"})
    passing = [v.case.size for v in verdicts if v.passed]
    if passing and min(v.case.size for v in failing) > max(passing):
        codes = {v.code for v in failing}
        about = ABOUT.get(next(iter(codes)), "other") if len(codes) == 1 else "other"
        hints.append({"code": "ONLY_LARGEST_FAIL", "about": about})
    for hint in hints:
        values = {**hint, "about": text(lang, f"hidden_hints.about.{hint.get('about', 'other')}")}
        hint["message"] = text(lang, f"hidden_hints.{hint['code']}", **values)
    return hints


def _mode_message(lang: str, submission, entry_name: str) -> str:
    """Why the file was used as it was; a file without markers that defines the entry says so, not "markers"."""
    if "WHOLE_BY_DEFINITION" in submission.notes:
        return text(lang, "notes.WHOLE_BY_DEFINITION", name=entry_name)
    return text(lang, f"mode.{submission.mode}")


def prepare(lang: str) -> None:
    """Load what ``build`` needs in ``lang`` ahead of time (``grade`` does it while the
    student's code runs)."""
    catalog(lang)


def build(grading, lang: str) -> dict:
    tests = []
    for verdict in grading.verdicts:
        named = [d.id for d in grading.diagnoses if verdict.case.name in d.cases]
        tests.append(test_entry(lang, grading, verdict, grading.expected.get(verdict.case.index, {}), named))
    score = sum(t["score"] for t in tests)
    max_score = sum(t["max_score"] for t in tests)
    passed = sum(1 for t in tests if t["status"] == "passed")
    all_passed = passed == len(tests)
    program_error = _program_error(lang, grading, tests)
    if not grading.gradable:
        reason = program_error["message"] if program_error else (tests[0]["message"] if tests else "")
        summary = text(lang, "summary.not_gradable", reason=reason)
    else:
        summary = text(lang, "summary.passed" if all_passed else "summary.failed",
                       total=len(tests), passed=passed, score=_number(score), max_score=_number(max_score))
    submission = grading.submission
    entry_name = grading.task.entry_name
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
        "sandbox": {
            "backend": grading.backend,
            "enforced": grading.enforced,
            "fallback_reason": grading.fallback_reason,
        },
        "submission": {
            "mode": submission.mode,
            "mode_message": _mode_message(lang, submission, entry_name),
            "encoding": submission.encoding,
            "notes": notes,
        },
        "tolerance": grading.tolerance,
        "tests": tests,
        "timing": {"total_seconds": _number(grading.elapsed), "sandbox_seconds": _number(grading.sandbox_elapsed)},
        "resources": resources(grading),
        "task_hash": grading.task.content_hash,
    }
    if program_error:
        document["program_error"] = program_error
    if grading.diagnoses:
        document["diagnoses"] = [{"id": d.id, "message": d.message[lang], "cases": d.cases, "outputs": d.outputs}
                                 for d in grading.diagnoses]
    shrunk = _shrunk_entry(lang, grading)
    if shrunk:
        document["shrunk"] = shrunk
    hints = hidden_hints(lang, grading)
    if hints:
        document["hidden_hints"] = hints
    outside = outside_blanks_entry(lang, submission)
    if outside:
        document["submission"]["outside_blanks"] = outside
    if grading.import_stdout:
        document["import_stdout"] = grading.import_stdout
    return document


def resources(grading) -> dict:
    """What the student's run used and the limits it ran under: CPU time and peak memory as the
    kernel counted them for the sandbox's parent (None where the run was not measured: no run, or
    a figure that was not plausible), each reported case's time on the trusted side's clock."""
    usage = grading.usage
    return {
        "cpu_seconds": _number(usage.cpu_seconds) if usage else None,
        "peak_memory_mb": round(usage.peak_memory_kb / 1024, 3) if usage else None,
        "case_seconds": {verdict.case.name: round(verdict.seconds, 6) for verdict in grading.verdicts
                         if verdict.seconds is not None},
        "limits": dict(grading.limits._asdict()),
    }


def error_document(lang: str, reason: str, task: str | None = None, seed: int | None = None,
                   task_broken: bool = False) -> dict:
    """The last-ditch answer when the grader itself failed: still valid against the schema. For a
    broken task (``failures.task_broken``) the summary a student reads says only that, and
    ``reason``, which names the server's files, stays in ``error`` for the platform."""
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
        "summary": text(lang, "summary.task_broken") if task_broken else text(lang, "summary.error", reason=reason),
        "error": reason,
        "tests": [],
    }
