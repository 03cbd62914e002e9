"""``--format text``: the feedback document rendered for a person at a terminal.

Owns the layout only: a summary line, one line per test, the known mistakes, then the
first failure in full (its error with the student's own lines, or its diagnostics and
error map), and the shrunk case. Everything it prints comes from the feedback document
(and so is already limited to what a hidden test may show) and, for labels, from the
catalogs. Colour (ANSI) only when asked, i.e. when stdout is a terminal.
"""

from __future__ import annotations

import unicodedata

from .messages import text

STYLES = {"passed": "32", "failed": "31", "not_run": "33", "bold": "1", "dim": "2", "wrong": "31"}
INDENT = "  "


class _Painter:
    def __init__(self, colour: bool):
        self.colour = colour

    def __call__(self, style: str, value: str) -> str:
        return f"\033[{STYLES[style]}m{value}\033[0m" if self.colour and value else value


def _width(value: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in value)


def _pad(value: str, width: int) -> str:
    return value + " " * max(0, width - _width(value))


def shape_text(shape) -> str:
    """A shape or index as Python writes a tuple: (3,) and (1, 2)."""
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")" if shape is not None else "-"


def params_text(params: dict) -> str:
    """A case's parameters as N=1, C=2, ..."""
    return ", ".join(f"{k}={v}" for k, v in params.items())


def submission_notes(document: dict) -> list[str]:
    """What every rendering says about how the file was read, each note once: the mode, the notes,
    and the outside-the-blanks report (a rejected file's is said by its program_error)."""
    submission = document.get("submission", {})
    notes = [submission.get("mode_message")] + submission.get("notes", [])
    outside = submission.get("outside_blanks")
    if outside and outside["action"] != "rejected":
        notes.append(outside["message"])
    return [note for position, note in enumerate(notes) if note and note not in notes[:position]]


def error_lines(lang: str, error: dict, paint: _Painter = _Painter(colour=False)) -> list[str]:
    """An error's lines of the student's code (a caret under the column), its chain of calls and
    its hint: also the code block of Gradescope's output."""
    lines = []
    for item in error.get("context", []):
        marker = ">" if item["current"] else " "
        row = f"{INDENT}{marker} {item['line']:>4} | {item['text']}"
        lines.append(row if item["current"] else paint("dim", row))
        if item["current"] and error.get("column"):
            lines.append(f"{INDENT}  {'':>4} | " + " " * (error["column"] - 1) + "^")
    chain = [f"{text(lang, 'render.yours') if frame['yours'] else frame['file']}:{frame['line']} ({frame['function']})"
             for frame in error.get("frames", [])]
    if len(chain) > 1:
        lines.append(INDENT + paint("dim", text(lang, "render.frames", chain=" -> ".join(chain))))
    if error.get("hint"):
        lines.append(INDENT + error["hint"])
    return lines


def stats_text(lang: str, output: str, found: dict) -> str:
    """The error statistics line; a relative error that does not exist (every expected value at the
    wrong positions is 0) reads n/a."""
    def shown(value):
        return text(lang, "render.not_applicable") if value is None else value

    return text(lang, "render.stats", output=output, wrong=found["wrong_count"], total=found["total"],
                percent=found["wrong_percent"], abs_error=shown(found.get("max_abs_error")),
                rel_error=shown(found.get("max_rel_error")))


def _map_lines(lang: str, output: str, error_map: dict, paint: _Painter, one_dimensional: bool = False) -> list[str]:
    top, left = error_map["origin"]
    height, width = error_map["size"]
    index = text(lang, "render.slice", index=shape_text(error_map["slice"])) if error_map["slice"] else ""
    lines = [
        INDENT
        + text(
            lang,
            "render.map_1d" if one_dimensional else "render.map",
            output=output,
            slice=index,
            top=top,
            bottom=top + len(error_map["rows"]) - 1,
            left=left,
            right=left + len(error_map["rows"][0]) - 1 if error_map["rows"] else left,
            height=height,
            width=width,
        )
    ]
    for row in error_map["rows"]:
        lines.append(INDENT * 2 + "".join(paint("wrong", c) if c in "x!" else c for c in row))
    return lines


def _check_lines(lang: str, check: dict, paint: _Painter) -> list[str]:
    lines = []
    if check.get("message"):
        lines.append(INDENT + check["message"])
    for note in check.get("notes", []):
        lines.append(INDENT + paint("dim", note))
    found = check.get("diagnostics")
    if not found:
        return lines
    if "shape_hints" in found:
        return lines + [INDENT + hint["message"] for hint in found["shape_hints"]]
    lines.append(INDENT + stats_text(lang, check["output"], found))
    if "worst" in found:
        worst = found["worst"]
        lines.append(
            INDENT
            + text(lang, "render.worst", index=shape_text(worst["index"]), expected=worst["expected"], got=worst["got"])
        )
    if "non_finite" in found:
        bad = found["non_finite"]
        lines.append(INDENT + text(lang, "render.non_finite", nan=bad["nan"], inf=bad["inf"],
                                   positions=", ".join(shape_text(p) for p in bad["positions"])))
    lines += [INDENT + hint["message"] for hint in found.get("hints", [])]
    if found.get("error_map"):
        lines += _map_lines(lang, check["output"], found["error_map"], paint, len(check.get("expected_shape", [])) == 1)
    return lines


def values_text(values) -> str:
    """Nested values as numpy prints a list: [[1, 0.5], [nan, 2]]."""
    if isinstance(values, list):
        return "[" + ", ".join(values_text(v) for v in values) + "]"
    return f"{values:g}" if isinstance(values, (int, float)) else str(values)


ARRAY_SECTIONS = (("inputs", "render.input"), ("expected", "render.expected"), ("got", "render.got"))


def _array_lines(lang: str, arrays: dict) -> list[str]:
    lines = [INDENT + text(lang, "render.arrays")]
    for section, key in ARRAY_SECTIONS:
        for name, array in arrays[section].items():
            value = text(lang, "render.not_an_array") if array is None else \
                f"{shape_text(array['shape'])} {values_text(array['values'])}"
            lines.append(INDENT * 2 + f"{text(lang, key, name=name)}: {value}")
    return lines


def _detail_lines(lang: str, test: dict, paint: _Painter, show_params: bool = True) -> list[str]:
    """Everything a visible test's entry says about its failure."""
    lines = []
    if show_params and "params" in test:
        lines.append(INDENT + paint("dim", text(lang, "render.params", params=params_text(test["params"]))))
    failing = [c for c in test["checks"] if c["status"] == "failed"]
    if not failing:
        lines.append(INDENT + test["message"])
        if test.get("error"):
            lines += error_lines(lang, test["error"], paint)
    for check in failing:
        lines += _check_lines(lang, check, paint)
    if test.get("arrays"):
        lines += _array_lines(lang, test["arrays"])
    if test.get("stdout"):
        lines.append(INDENT + text(lang, "render.stdout"))
        lines += [INDENT * 2 + line for line in test["stdout"].rstrip("\n").split("\n")[:10]]
    return lines


def _test_line(lang: str, test: dict, width: int, paint: _Painter) -> str:
    label = text(lang, f"render.{test['status']}")
    name = test["name"] + (f" ({text(lang, 'render.hidden')})" if test["visibility"] == "hidden" else "")
    parts = [
        INDENT + paint(test["status"], _pad(label, 6)),
        _pad(name, width),
        f"{test['score']:g}/{test['max_score']:g}",
    ]
    if test["code"]:
        parts.append(test["code"])
    if test.get("diagnoses"):
        parts.append("[" + ", ".join(test["diagnoses"]) + "]")
    return "  ".join(parts)


def render(document: dict, colour: bool = False) -> str:
    """The text rendering of a feedback document (as printed by ``grader grade --format text``)."""
    lang = document["lang"]
    paint = _Painter(colour)
    status = document["status"]
    title = document.get("title") or document["task"]
    head = paint(
        "passed" if status == "passed" else "failed",
        text(lang, f"render.{'passed' if status == 'passed' else 'failed'}"),
    )
    lines = [text(lang, "render.head", label=head, title=paint("bold", title), summary=document["summary"])]
    if status == "error":
        return "\n".join(lines) + "\n"
    lines += [paint("dim", note) for note in submission_notes(document)]
    tests = document["tests"]
    width = max((_width(t["name"]) + (_width(text(lang, "render.hidden")) + 3 if t["visibility"] == "hidden" else 0)
                 for t in tests), default=0)
    lines.append("")
    problem = document.get("program_error")
    if problem and len(tests) > 1 and all(t["code"] == problem["code"] for t in tests):
        # One error stopped every test: one line says so, not the same code once per test.
        lines.append(INDENT + paint("failed", _pad(text(lang, "render.failed"), 6)) + "  "
                     + text(lang, "render.all_tests", count=len(tests), code=problem["code"]))
    else:
        lines += [_test_line(lang, t, width, paint) for t in tests]
    for diagnosis in document.get("diagnoses", []):
        lines += [
            "",
            paint("bold", text(lang, "render.known_mistake", id=diagnosis["id"])),
            INDENT + diagnosis["message"],
        ]
    if problem:
        lines += ["", INDENT + problem["message"]]
        if problem.get("error"):
            lines += error_lines(lang, problem["error"], paint)
    else:
        failed = [t for t in tests if t["status"] == "failed"]
        first = next((t for t in failed if t["visibility"] == "visible"), failed[0] if failed else None)
        if first:
            title = text(lang, "render.title", title=first["title"]) if first.get("title") else ""
            heading = text(lang, "render.first_failure", name=first["name"], title=title)
            lines += ["", paint("bold", heading)]
            lines += (
                _detail_lines(lang, first, paint) if first["visibility"] == "visible" else [INDENT + first["message"]]
            )
            lines += [INDENT + hint["message"] for hint in document.get("hidden_hints", [])]
    shrunk = document.get("shrunk")
    if shrunk:
        lines += ["", paint("bold", text(lang, "render.shrunk")), INDENT + shrunk["summary"]]
        lines += _detail_lines(lang, shrunk, paint, show_params=False)
    lines += ["", paint("dim", text(lang, "render.seed", seed=document["seed"], task=document["task"]))]
    return "\n".join(lines) + "\n"
