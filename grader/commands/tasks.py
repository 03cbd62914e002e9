"""``grader list`` and ``grader template TASK``: what students can see of the tasks."""

from __future__ import annotations

import sys

from .. import cli
from ..spec import taskspec


def register(sub, parents) -> None:
    listing = sub.add_parser("list", parents=parents, help="list the tasks")
    listing.add_argument("--lang", choices=["zh", "en"], default=None)
    listing.set_defaults(run=run_list)
    template = sub.add_parser("template", parents=parents, help="print a task's student template")
    template.add_argument("task")
    template.set_defaults(run=run_template)


def run_list(args) -> int:
    """Every task with its title; a broken one is listed as broken (the list is still an answer:
    exit 0), and `grader validate` is the command that fails for it."""
    settings = cli.load_settings(args)
    lang = args.lang or settings.language
    broken = []
    for task_id in cli.task_ids("list", settings):
        try:
            task = taskspec.load(task_id, settings.root)
            print(f"{task_id}\t{task.spec['title'][lang]}")
        except taskspec.TaskError as exc:
            print(f"{task_id}\t(broken: {exc.problems[0]})")
            broken.append(task_id)
    if broken:
        print(f"grader list: {len(broken)} broken task(s), not graded until fixed: see `grader validate "
              f"{' '.join(broken)}`", file=sys.stderr)
    return cli.EXIT_OK


def run_template(args) -> int:
    settings = cli.load_settings(args)
    try:
        task = cli.load_task("template", args.task, settings)
    except taskspec.TaskError as exc:
        raise cli.UsageError(f"grader template: {exc}") from None
    sys.stdout.write(task.template_source())
    return cli.EXIT_OK
