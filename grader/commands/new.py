"""``grader new TASK``: scaffold a spec, a reference and a template that validate as generated.

The scaffold is a small but complete task, so every section of a spec is there to be edited:
params, input shapes, fixed cases, misconceptions and (for a class) a gradient check. By default
(or with ``--class NAME``) a class entry: a per-channel scale layer whose backward the student
writes; with ``--function NAME`` a function entry: a per-channel affine transform. With ``--ties`` (the
task's rule will depend on ties or exact values: a maximum, a mask, a comparison) it also
has a fixed case whose input is drawn from a few integers, so that values tie and exact
zeros occur. No prompts; existing files are never overwritten.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from .. import cli

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

SCAFFOLD_DIR = Path(__file__).resolve().parent.parent / "authoring" / "scaffold"
# The three files of each kind of entry, with {task} and {cls} or {name} to fill in (str.format),
# are data, not code; so is the fixed case --ties adds to the spec ({tie_case}).
SCAFFOLDS = {
    kind: tuple((SCAFFOLD_DIR / f"{prefix}{name}").read_text(encoding="utf-8")
                for name in ("spec.yaml.tmpl", "reference.py.tmpl", "template.py.tmpl"))
    for kind, prefix in (("class", ""), ("function", "function_"))
}
TIE_CASE = (SCAFFOLD_DIR / "tie_case.yaml.tmpl").read_text(encoding="utf-8")


def register(sub, parents) -> None:
    parser = sub.add_parser(
        "new", parents=parents, help="scaffold a task (spec, reference, template) that passes `grader validate`"
    )
    parser.add_argument("task", help="id of the new task: lower-case letters, digits and _, starting with a letter")
    parser.add_argument("--ties", action="store_true",
                        help="the task's rule depends on ties or exact values (a maximum, a mask, a comparison): "
                             "add a fixed case whose input x is drawn from the integers -2..2")
    named = parser.add_mutually_exclusive_group()
    named.add_argument("--class", dest="class_name", metavar="NAME",
                       help="the entry is a class named NAME (default: the task id in CamelCase)")
    named.add_argument("--function", dest="function_name", metavar="NAME",
                       help="the entry is a function named NAME (a function scaffold instead of a class)")
    parser.set_defaults(run=run)


def class_name(task_id: str) -> str:
    return "".join(part.capitalize() for part in task_id.split("_") if part)


def scaffold(task_id: str, ties: bool = False, cls: str | None = None, function: str | None = None) -> dict[str, str]:
    """{path relative to the tasks root: text} of the three files of a new task: a class entry
    (named ``cls``, by default after the task) or, with ``function``, a function entry."""
    values = {"task": task_id, "cls": cls or class_name(task_id), "name": function or "",
              "tie_case": TIE_CASE if ties else ""}
    spec, reference, template = SCAFFOLDS["function" if function else "class"]
    return {f"tasks/{task_id}.yaml": spec.format(**values), f"reference/{task_id}.py": reference.format(**values),
            f"student_template/{task_id}.py": template.format(**values)}


def _check_name(option: str, name: str | None) -> None:
    if name is not None and (not name.isidentifier() or keyword.iskeyword(name) or not name.isascii()):
        raise cli.UsageError(f"grader new: {option} {name!r} is not a Python name (ASCII letters, digits and _, "
                             "not starting with a digit, not a keyword)")


def run(args) -> int:
    if not ID_PATTERN.match(args.task):
        raise cli.UsageError(
            f"grader new: {args.task!r} is not a task id (lower-case letters, digits and _, starting with a letter)"
        )
    _check_name("--class", args.class_name)
    _check_name("--function", args.function_name)
    root = cli.load_settings(args).root
    scaffolded = scaffold(args.task, args.ties, cls=args.class_name, function=args.function_name)
    files = {root / relative: text for relative, text in scaffolded.items()}
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
