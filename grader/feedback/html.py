"""``--format html``: the feedback document as one self-contained HTML page.

Owns the layout only, like ``text`` for a terminal: the summary and score, the submission
notes, a table of the tests, the known mistakes, the problem that stopped every test, then each
failing visible test (the first one open) with its messages, diagnostics and a heat map of
|got - expected| over its error map, the shrunk case, and the seed. Everything comes from the
feedback document (so a hidden test shows exactly what its JSON entry shows: status, code,
message, misconception ids) and, for labels, from the catalogs; it renders any stored document
valid against feedback.schema.json. Every text is escaped by ``htmlpage.esc``; the page runs no
script and loads nothing (``htmlpage``).
"""

from __future__ import annotations

import itertools

from . import htmlpage, svgcharts
from .htmlpage import esc
from .messages import text
from .text import ARRAY_SECTIONS, params_text, shape_text, stats_text, submission_notes


def _badge(lang: str, status: str) -> str:
    return f'<span class="badge {esc(status)}">{esc(text(lang, f"render.{status}"))}</span>'


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else esc(value)


def _error_block(lang: str, error: dict) -> str:
    """The student's exception: their lines around it (the current one marked, a caret at the column),
    the calls that led there, and the hint for its kind."""
    parts = []
    context = error.get("context", [])
    if context:
        lines = []
        for item in context:
            row = f"{item['line']:>4} | {item['text']}"
            lines.append(f'<span class="current">{esc(row)}</span>' if item["current"] else esc(row))
            if item["current"] and error.get("column"):
                lines.append(esc(" " * 4 + " | " + " " * (error["column"] - 1) + "^"))
        parts.append(f'<pre class="context">{chr(10).join(lines)}</pre>')
    chain = [f"{text(lang, 'render.yours') if frame['yours'] else frame['file']}:{frame['line']} ({frame['function']})"
             for frame in error.get("frames", [])]
    if len(chain) > 1:
        parts.append(f'<p class="note">{esc(text(lang, "render.frames", chain=" -> ".join(chain)))}</p>')
    if error.get("hint"):
        parts.append(f'<p class="hint">{esc(error["hint"])}</p>')
    return "".join(parts)


def _heat_map(lang: str, output: str, error_map: dict, one_dimensional: bool = False) -> str:
    rows, errors = error_map["rows"], error_map.get("errors")
    if not rows:
        return ""
    top, left = error_map["origin"]
    height, width = error_map["size"]
    # The map is a plane of the last two axes: x[0, 1, :, :] names it as numpy would.
    index = "[" + ", ".join([str(i) for i in error_map["slice"]] + [":", ":"]) + "]" if error_map["slice"] else ""
    caption = text(lang, "html.map_1d" if one_dimensional else "html.map", output=output, slice=index, top=top,
                   bottom=top + len(rows) - 1, left=left, right=left + len(rows[0]) - 1, height=height, width=width)
    words = svgcharts.HeatMapWords(
        axes=text(lang, "html.axes"), not_finite=text(lang, "html.not_finite"),
        cell=lambda row, column, error: text(lang, "html.cell", row=row, column=column, error=error))
    picture = svgcharts.heat_map(rows, errors, error_map["origin"], error_map.get("worst"), words)
    largest = svgcharts.heat_map_largest(rows, errors)
    scale = f"<div>{svgcharts.colour_scale(largest, text(lang, 'html.scale'))}</div>" if largest > 0 else ""
    legend = [] if largest > 0 else [(svgcharts.SCALE[-1], None, "html.wrong")]
    legend.append((svgcharts.RIGHT, None, "html.right"))
    if any("!" in row for row in rows):
        legend.append((svgcharts.NOT_FINITE, None, "html.not_finite"))
    if error_map.get("worst") is not None:
        legend.append(("#ffffff", svgcharts.WORST_STROKE, "html.worst"))
    items = "".join(f"<li>{svgcharts.swatch(fill, stroke)}{esc(text(lang, key))}</li>" for fill, stroke, key in legend)
    return (f'<figure class="figure"><figcaption>{esc(caption)}</figcaption>{picture}{scale}'
            f'<ul class="legend">{items}</ul></figure>')


def _check_block(lang: str, check: dict) -> str:
    parts = []
    if check.get("message"):
        parts.append(f"<p><strong>{esc(check['message'])}</strong></p>")
    parts += [f'<p class="note">{esc(note)}</p>' for note in check.get("notes", [])]
    found = check.get("diagnostics")
    if not found:
        return "".join(parts)
    if "shape_hints" in found:
        return "".join(parts + [f'<p class="hint">{esc(hint["message"])}</p>' for hint in found["shape_hints"]])
    stats = stats_text(lang, check["output"], found)
    parts.append(f"<p>{esc(stats)}</p>")
    if "worst" in found:
        worst = found["worst"]
        line = text(lang, "render.worst", index=shape_text(worst["index"]), expected=worst["expected"],
                    got=worst["got"])
        parts.append(f"<p>{esc(line)}</p>")
    if "non_finite" in found:
        bad = found["non_finite"]
        positions = ", ".join(shape_text(p) for p in bad["positions"])
        line = text(lang, "render.non_finite", nan=bad["nan"], inf=bad["inf"], positions=positions)
        parts.append(f"<p>{esc(line)}</p>")
    parts += [f'<p class="hint">{esc(hint["message"])}</p>' for hint in found.get("hints", [])]
    if found.get("error_map"):
        parts.append(_heat_map(lang, check["output"], found["error_map"], len(check.get("expected_shape", [])) == 1))
    return "".join(parts)


def _cell(value) -> str:
    return f'<td class="num">{_number(value)}</td>'


def _array_table(label: str, array: dict) -> str:
    """One small array as tables: a row for 0-d and 1-d, rows and columns for the last two axes,
    one table per index of the leading axes (captioned as numpy indexes it: x[0, 1, :, :])."""
    shape, values = array["shape"], array["values"]
    if len(shape) <= 1:
        row = "".join(_cell(v) for v in (values if shape else [values]))
        caption = f"{label} {shape_text(shape)}"
        return f'<table class="array"><caption class="mono">{esc(caption)}</caption><tr>{row}</tr></table>'
    tables = []
    for lead in itertools.product(*(range(d) for d in shape[:-2])):
        plane = values
        for i in lead:
            plane = plane[i]
        rows = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in plane)
        index = "[" + ", ".join([str(i) for i in lead] + [":", ":"]) + "]" if lead else ""
        caption = f"{label}{index} {shape_text(shape)}"
        tables.append(f'<table class="array"><caption class="mono">{esc(caption)}</caption>{rows}</table>')
    return "".join(tables)


def _arrays_block(lang: str, arrays: dict) -> str:
    """A tiny failing case's numbers: inputs, expected and the student's outputs, as tables."""
    parts = [f'<p class="dim">{esc(text(lang, "render.arrays"))}</p><div class="arrays">']
    for section, key in ARRAY_SECTIONS:
        for name, array in arrays[section].items():
            label = text(lang, key, name=name)
            body = (f'<p class="note">{esc(text(lang, "render.not_an_array"))}</p>' if array is None
                    else _array_table(label, array))
            parts.append(f'<div class="array-group {esc(section)}" data-name="{esc(name)}">{body}</div>')
    return "".join(parts) + "</div>"


def _printed(lang: str, output: str) -> str:
    return f'<p class="dim">{esc(text(lang, "render.stdout"))}</p><pre class="stdout">{esc(output)}</pre>'


def _details(lang: str, test: dict, show_params: bool = True) -> str:
    """Everything a visible test's entry says about its failure."""
    parts = []
    if show_params and "params" in test:
        parts.append(f'<p class="dim mono">{esc(text(lang, "render.params", params=params_text(test["params"])))}</p>')
    failing = [c for c in test["checks"] if c["status"] == "failed"]
    if not failing:
        parts.append(f"<p><strong>{esc(test['message'])}</strong></p>")
        if test.get("error"):
            parts.append(_error_block(lang, test["error"]))
    parts += [_check_block(lang, check) for check in failing]
    if test.get("arrays"):
        parts.append(_arrays_block(lang, test["arrays"]))
    if test.get("stdout"):
        parts.append(_printed(lang, test["stdout"]))
    return "".join(parts)


def _test_name(lang: str, test: dict) -> str:
    hidden = (
        f' <span class="hidden-mark">({esc(text(lang, "render.hidden"))})</span>'
        if test["visibility"] == "hidden"
        else ""
    )
    title = f'<br><span class="dim">{esc(test["title"])}</span>' if test.get("title") else ""
    return f'<span class="mono">{esc(test["name"])}</span>{hidden}{title}'


def _tests_table(lang: str, tests: list[dict]) -> str:
    head = "".join(f"<th{cls}>{esc(text(lang, key))}</th>" for key, cls in
                   (("html.status", ""), ("html.test", ""), ("html.points", ' class="num"'), ("html.code", "")))
    rows = []
    for test in tests:
        code = f'<span class="mono">{esc(test["code"])}</span>' if test["code"] else ""
        named = "".join(f'<br><span class="mono dim">[{esc(d)}]</span>' for d in test.get("diagnoses", []))
        score = f'{_number(test["score"])}/{_number(test["max_score"])}'
        rows.append(
            f'<tr class="test {esc(test["status"])}" data-name="{esc(test["name"])}">'
            f'<td>{_badge(lang, test["status"])}</td>'
            f'<td class="name">{_test_name(lang, test)}</td><td class="num">{score}</td>'
            f"<td>{code}{named}</td></tr>"
        )
    return f'<table class="tests"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def render(document: dict) -> str:
    """The HTML page of a feedback document (as printed by ``grader grade --format html``)."""
    lang = document["lang"]
    status = document["status"]
    title = document.get("title") or document["task"]
    label = "passed" if status == "passed" else "failed"
    score = ""
    if status != "error":
        out_of = f'<span class="dim">/{_number(document["max_score"])}</span>'
        score = f'<div class="score">{_number(document["score"])}{out_of}</div>'
    badge = f'<span class="badge big {esc(label)}">{esc(text(lang, f"render.{label}"))}</span>'
    body = [
        f'<header class="head {esc(status)}">{badge}'
        f'{score}<div><h1>{esc(title)}</h1><p class="summary">{esc(document["summary"])}</p></div></header>'
    ]
    if status == "error":
        return htmlpage.page(lang, title, "".join(body))
    body += [f'<p class="note">{esc(note)}</p>' for note in submission_notes(document)]
    tests = document["tests"]
    problem = document.get("program_error")
    if problem and len(tests) > 1 and all(t["code"] == problem["code"] for t in tests):
        # One error stopped every test: one line says so, not the same code once per test.
        summary = esc(text(lang, "render.all_tests", count=len(tests), code=problem["code"]))
        body.append(f"<h2>{esc(text(lang, 'html.tests'))}</h2><p>{_badge(lang, 'failed')} {summary}</p>")
    else:
        body.append(f"<h2>{esc(text(lang, 'html.tests'))}</h2>{_tests_table(lang, tests)}")
    diagnoses = document.get("diagnoses", [])
    if diagnoses:
        body.append(f"<h2>{esc(text(lang, 'html.mistakes'))}</h2>")
        body += [
            f'<div class="mistake" data-id="{esc(d["id"])}">'
            f'<strong>{esc(text(lang, "render.known_mistake", id=d["id"]))}</strong><p>{esc(d["message"])}</p></div>'
            for d in diagnoses
        ]
    if problem:
        body.append(f'<h2>{esc(text(lang, "html.program_error"))}</h2><section class="program-error">'
                    f'<p><strong>{esc(problem["message"])}</strong></p>'
                    f'{_error_block(lang, problem["error"]) if problem.get("error") else ""}</section>')
    else:
        failing = [t for t in tests if t["status"] == "failed" and t["visibility"] == "visible"]
        if failing:
            body.append(f"<h2>{esc(text(lang, 'html.failures'))}</h2>")
        for position, test in enumerate(failing):
            heading = esc(test["name"]) + (
                esc(text(lang, "render.title", title=test["title"])) if test.get("title") else ""
            )
            body.append(f'<details class="failure" data-name="{esc(test["name"])}"{" open" if position == 0 else ""}>'
                        f"<summary>{_badge(lang, 'failed')} {heading}</summary>{_details(lang, test)}</details>")
        if any(t["status"] == "failed" and t["visibility"] == "hidden" for t in tests):
            body.append(f'<p class="note">{esc(text(lang, "html.hidden_only"))}</p>')
            body += [f'<p class="hint hidden-hint">{esc(hint["message"])}</p>'
                     for hint in document.get("hidden_hints", [])]
    shrunk = document.get("shrunk")
    if shrunk:
        body.append(
            f'<h2>{esc(text(lang, "render.shrunk"))}</h2><section class="shrunk"><p>{esc(shrunk["summary"])}</p>'
            f"{_details(lang, shrunk, show_params=False)}</section>"
        )
    if document.get("import_stdout"):
        body.append(_printed(lang, document["import_stdout"]))
    body.append(f'<footer>{esc(text(lang, "render.seed", seed=document["seed"], task=document["task"]))}</footer>')
    return htmlpage.page(lang, title, "\n".join(body))
