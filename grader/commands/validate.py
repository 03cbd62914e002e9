"""``grader validate [TASK ...]``: check tasks before students see them (grader/authoring/validation/).

Exit 0 when every task is valid, 1 when one is not, 2 on a usage error (unknown task),
3 when the grader itself failed. ``--format json`` prints one JSON document
(validation.schema.json) instead of the text report.
"""

from __future__ import annotations

import sys
import traceback

from .. import SCHEMA_VERSION, cli
from ..authoring.validation import run as validation
from ..authoring.validation.report import Check, TaskReport

EXIT_INVALID = 1
MARKS = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}


def register(sub, parents) -> None:
    parser = sub.add_parser(
        "validate",
        parents=parents,
        help="check task specs, references, templates and misconceptions; exit 1 if one is broken",
    )
    parser.add_argument("tasks", nargs="*", metavar="TASK", help="task ids (default: every task of the tasks root)")
    parser.add_argument(
        "--seed", type=int, default=validation.DEFAULT_SEED, help="seed of the validation cases (default %(default)s)"
    )
    parser.add_argument(
        "--no-sandbox", action="store_true", help="skip grading the reference and the template through the sandbox"
    )
    parser.add_argument("--format", choices=["text", "json"], default="text", help="report format")
    parser.set_defaults(run=run)


def run(args) -> int:
    if not 0 <= args.seed < 2**63:
        raise cli.UsageError("grader validate: --seed must be between 0 and 2**63-1")
    settings = cli.load_settings(args)
    known = cli.task_ids("validate", settings)
    task_ids = args.tasks or known
    unknown = [t for t in task_ids if t not in known]
    if unknown:
        raise cli.UsageError(f"grader validate: unknown task(s) {', '.join(unknown)} in {settings.root / 'tasks'} "
                             f"(known: {', '.join(known) or 'none'})")
    reports = []
    for task_id in task_ids:
        try:
            report = validation.validate(task_id, settings, seed=args.seed, sandbox=not args.no_sandbox)
        except Exception as exc:  # a validator bug must not hide the other tasks' reports
            traceback.print_exc(file=sys.stderr)
            report = TaskReport(task_id, [Check("internal", "failed", "the validator itself failed",
                                                [f"{type(exc).__name__}: {exc}"])])
        reports.append(report)
        if args.format == "text":
            print_report(report)
    if args.format == "json":
        cli.print_json({"schema_version": SCHEMA_VERSION, "root": str(settings.root), "seed": args.seed,
                        "passed": all(r.passed for r in reports), "tasks": [r.as_dict() for r in reports]})
    else:
        failed = [r.task for r in reports if not r.passed]
        if failed:
            print(f"{len(failed)} of {len(reports)} tasks are broken: {', '.join(failed)}")
        else:
            print(f"all {len(reports)} tasks are valid")
    if any(check.name == "internal" for r in reports for check in r.checks):
        return cli.EXIT_INTERNAL
    return cli.EXIT_OK if all(r.passed for r in reports) else EXIT_INVALID


def print_report(report: TaskReport) -> None:
    print(f"{report.task}: {'valid' if report.passed else 'BROKEN'}")
    for check in report.checks:
        print(f"  {MARKS[check.status]} {check.name:<15} {check.summary}")
        for problem in check.problems:
            print(f"         error: {problem}")
        for warning in check.warnings:
            print(f"         warning: {warning}")
        if check.coverage:
            print_coverage(check.coverage)
    sys.stdout.flush()


def print_coverage(coverage: dict) -> None:
    """The corners the random cases are drawn to reach (the fixed ones are the author's own) and the tie rules."""
    for status, heading in (
        ("random", "random cases reach"),
        ("missed", "no case reaches"),
        ("unreachable", "unreachable"),
    ):
        found = [f"{c['corner']} [{', '.join(c['cases'])}]" if c["cases"] else c["corner"]
                 for c in coverage["corners"] if c["status"] == status]
        if found:
            print(f"         {heading}: {'; '.join(found)}")
    if coverage["ties"]["rules"]:
        print(f"         tie rules: {', '.join(coverage['ties']['rules'])}; "
              f"cases that can tie: {', '.join(coverage['ties']['cases']) or 'none'}")
