"""``grader grade``: grade one submission and print the feedback JSON."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from .. import cli, config, feedback, pipeline, render_text, sandbox, taskspec, yamldoc
from ..messages import LANGUAGES
from ..submission import MAX_BYTES


def register(sub, parents) -> None:
    parser = sub.add_parser("grade", parents=parents, help="grade one submission; prints one JSON object")
    parser.add_argument("--task", required=True, help="task id (see `grader list`)")
    parser.add_argument("--seed", type=int, help="replay the run with this seed")
    parser.add_argument("--lang", choices=LANGUAGES, help="feedback language (default from grader.yaml)")
    parser.add_argument("--format", choices=["json", "text"], default="json",
                        help="output format: json (the contract) or text (for a person; colour when stdout is a terminal)")
    parser.add_argument("submission", help="the student's .py file, or - for stdin")
    parser.set_defaults(run=run)


def read_submission(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read(MAX_BYTES + 1)
    file = Path(path)
    if not file.is_file():
        raise cli.UsageError(f"grader grade: no such file: {path}")
    with file.open("rb") as handle:
        return handle.read(MAX_BYTES + 1)


def load_context(args) -> tuple[config.Settings, taskspec.Task]:
    try:
        settings = config.load(args.config, args.root)
    except yamldoc.DocumentError as exc:
        raise cli.UsageError("invalid configuration:\n" + str(exc)) from None
    try:
        task = taskspec.load(args.task, settings.root)
    except taskspec.TaskError as exc:
        if exc.unknown:
            raise cli.UsageError(f"grader grade: {exc}") from None
        raise
    return settings, task


def run(args) -> int:
    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise cli.UsageError("grader grade: --seed must be between 0 and 2**63-1")
    data = read_submission(args.submission)
    lang = args.lang or "en"
    try:
        settings, task = load_context(args)
        lang = args.lang or settings.language
        grading = pipeline.run(task, data, settings, seed=args.seed)
        _print(args, feedback.build(grading, lang))
        return cli.EXIT_OK
    except cli.UsageError:
        raise
    except taskspec.TaskError as exc:
        reason = f"the task {args.task!r} is broken: {exc}"
    except sandbox.SandboxUnavailable as exc:
        reason = f"no sandbox can run here: {exc}"
    except pipeline.SandboxFailure as exc:
        reason = f"the sandbox failed: {exc}"
    except Exception as exc:  # the last-ditch answer: the platform always gets JSON
        traceback.print_exc(file=sys.stderr)
        reason = f"internal error: {type(exc).__name__}: {exc}"
    print(reason, file=sys.stderr)
    _print(args, feedback.error_document(lang, reason, task=args.task, seed=args.seed))
    return cli.EXIT_INTERNAL


def _print(args, document: dict) -> None:
    if args.format == "text":
        sys.stdout.write(render_text.render(document, colour=sys.stdout.isatty() and "NO_COLOR" not in os.environ))
        sys.stdout.flush()
    else:
        cli.print_json(document)
