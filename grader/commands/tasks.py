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
    settings = cli.load_settings(args)
    lang = args.lang or settings.language
    status = cli.EXIT_OK
    for task_id in taskspec.task_ids(settings.root):
        try:
            task = taskspec.load(task_id, settings.root)
            print(f"{task_id}\t{task.spec['title'][lang]}")
        except taskspec.TaskError as exc:
            print(f"{task_id}\t(broken spec: {exc.problems[0]})")
            status = cli.EXIT_INTERNAL
    return status


def run_template(args) -> int:
    settings = cli.load_settings(args)
    try:
        task = taskspec.load(args.task, settings.root)
    except taskspec.TaskError as exc:
        raise cli.UsageError(f"grader template: {exc}") from None
    sys.stdout.write(task.template_source())
    return cli.EXIT_OK
