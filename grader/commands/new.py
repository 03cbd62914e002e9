"""``grader new TASK``: scaffold a spec, a reference and a template that validate as generated.

The scaffold is a small but complete task (a per-channel scale layer whose backward
the student writes), so every section of a spec is there to be edited: params,
input shapes, fixed cases, misconceptions and a gradient check. With ``--ties`` (the
task's rule will depend on ties or exact values: a maximum, a mask, a comparison) it also
has a fixed case whose input is drawn from a few integers, so that values tie and exact
zeros occur. No prompts; existing files are never overwritten.
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import cli

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

SCAFFOLD_DIR = Path(__file__).resolve().parent.parent / "authoring" / "scaffold"
# The three files, with {task} and {cls} to fill in (str.format), are data, not code; so is the
# fixed case --ties adds to the spec ({tie_case}).
SPEC, REFERENCE, TEMPLATE, TIE_CASE = (
    (SCAFFOLD_DIR / name).read_text(encoding="utf-8")
    for name in ("spec.yaml.tmpl", "reference.py.tmpl", "template.py.tmpl", "tie_case.yaml.tmpl")
)


def register(sub, parents) -> None:
    parser = sub.add_parser(
        "new", parents=parents, help="scaffold a task (spec, reference, template) that passes `grader validate`"
    )
    parser.add_argument("task", help="id of the new task: lower-case letters, digits and _, starting with a letter")
    parser.add_argument("--ties", action="store_true",
                        help="the task's rule depends on ties or exact values (a maximum, a mask, a comparison): "
                             "add a fixed case whose input x is drawn from the integers -2..2")
    parser.set_defaults(run=run)


def class_name(task_id: str) -> str:
    return "".join(part.capitalize() for part in task_id.split("_") if part)


def scaffold(task_id: str, ties: bool = False) -> dict[str, str]:
    """{path relative to the tasks root: text} of the three files of a new task."""
    values = {"task": task_id, "cls": class_name(task_id), "tie_case": TIE_CASE if ties else ""}
    return {f"tasks/{task_id}.yaml": SPEC.format(**values), f"reference/{task_id}.py": REFERENCE.format(**values),
            f"student_template/{task_id}.py": TEMPLATE.format(**values)}


def run(args) -> int:
    if not ID_PATTERN.match(args.task):
        raise cli.UsageError(
            f"grader new: {args.task!r} is not a task id (lower-case letters, digits and _, starting with a letter)"
        )
    root = cli.load_settings(args).root
    files = {root / relative: text for relative, text in scaffold(args.task, args.ties).items()}
    existing = [str(path) for path in files if path.exists()]
    if existing:
        raise cli.UsageError(f"grader new: these files exist already, nothing was written: {', '.join(existing)}")
    for path, text in files.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise cli.UsageError(f"grader new: cannot write {exc.filename or path}: {exc.strerror or exc}") from None
        print(f"created {path}")
    print(f"next: edit them (see docs/authoring.md), then run `grader validate {args.task}`")
    return cli.EXIT_OK
