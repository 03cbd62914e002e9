"""``grader kit TASK [--lang zh|en] --out DIR|FILE.zip``: a task's offline kit for students."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import cli
from ..spec import taskspec


def register(sub, parents) -> None:
    kit = sub.add_parser("kit", parents=parents,
                         help="write a task's student kit: template, support modules, README, check.py")
    kit.add_argument("task")
    kit.add_argument("--lang", choices=["zh", "en"], default=None, help="language of the README and of check.py")
    kit.add_argument("--out", required=True, help="a folder, or a file ending in .zip")
    kit.set_defaults(run=run)


def run(args) -> int:
    from ..grading.reference import ReferenceError_
    from ..kit import build

    settings = cli.load_settings(args)
    lang = args.lang or settings.language
    task = cli.load_task("kit", args.task, settings)
    out = Path(args.out)
    if out.exists() and not out.is_dir() and out.suffix != ".zip":
        raise cli.UsageError(f"grader kit: --out {out} is a file; give a folder or a .zip")
    try:
        packed = build.files(task, settings.values["tolerance"], lang)
    except (taskspec.TaskError, ReferenceError_) as exc:
        print(f"grader kit: task {task.id} is broken: {exc}", file=sys.stderr)
        return cli.EXIT_INTERNAL
    try:
        build.write(packed, out)
    except OSError as exc:
        raise cli.UsageError(f"grader kit: cannot write {out}: {exc.strerror or exc}") from None
    print(f"{out}: {len(packed)} files", file=sys.stderr)
    return cli.EXIT_OK
