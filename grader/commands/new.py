"""``grader new TASK``: scaffold a spec, a reference and a template that validate as generated.

The scaffold is a small but complete task (a per-channel scale layer whose backward
the student writes), so every section of a spec is there to be edited: params,
input shapes, fixed cases, misconceptions and a gradient check. No prompts;
existing files are never overwritten.
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import cli, config, yamldoc

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

SCAFFOLD_DIR = Path(__file__).resolve().parent.parent / "scaffold"
# The three files, with {task} and {cls} to fill in (str.format), are data, not code.
SPEC, REFERENCE, TEMPLATE = ((SCAFFOLD_DIR / name).read_text(encoding="utf-8")
                             for name in ("spec.yaml.tmpl", "reference.py.tmpl", "template.py.tmpl"))


def register(sub, parents) -> None:
    parser = sub.add_parser("new", parents=parents, help="scaffold a task (spec, reference, template) that passes `grader validate`")
    parser.add_argument("task", help="id of the new task: lower-case letters, digits and _, starting with a letter")
    parser.set_defaults(run=run)


def class_name(task_id: str) -> str:
    return "".join(part.capitalize() for part in task_id.split("_") if part)


def run(args) -> int:
    if not ID_PATTERN.match(args.task):
        raise cli.UsageError(f"grader new: {args.task!r} is not a task id (lower-case letters, digits and _, starting with a letter)")
    try:
        settings = config.load(args.config, args.root)
    except yamldoc.DocumentError as exc:
        raise cli.UsageError("invalid configuration:\n" + str(exc)) from None
    root = settings.root
    values = {"task": args.task, "cls": class_name(args.task)}
    files = {
        root / "tasks" / f"{args.task}.yaml": SPEC.format(**values),
        root / "reference" / f"{args.task}.py": REFERENCE.format(**values),
        root / "student_template" / f"{args.task}.py": TEMPLATE.format(**values),
    }
    existing = [str(path) for path in files if path.exists()]
    if existing:
        raise cli.UsageError(f"grader new: these files exist already, nothing was written: {', '.join(existing)}")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"created {path}")
    print(f"next: edit them (see docs/authoring.md), then run `grader validate {args.task}`")
    return cli.EXIT_OK
