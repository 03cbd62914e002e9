"""``grader grade``: grade one submission and print the feedback JSON."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from .. import cli
from ..feedback.messages import LANGUAGES
from ..sandbox import bwrap, reaping
from ..sandbox import launch as sandbox
from ..sandbox.errors import SandboxFailure
from ..sandbox.limits import Limits


def _imported_on_first_use(name: str):
    """The module ``name``, executed only when one of its attributes is first used."""
    spec = importlib.util.find_spec(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _deferred(name: str):
    return sys.modules.get(name) or _imported_on_first_use(name)


# The pipeline and the feedback import numpy (about as long as the sandboxed interpreter takes
# to start): they are loaded after the sandbox was started, so that the two overlap. So is
# every other module the sandbox's start does not need: each one imported before it delays
# the student's interpreter by its import time. The task's modules load while bwrap's probe
# runs (``run``).
pipeline = _deferred("grader.grading.pipeline")
feedback = _deferred("grader.feedback.document")
submission = _deferred("grader.grading.submission")
config = _deferred("grader.spec.config")
taskspec = _deferred("grader.spec.taskspec")


def register(sub, parents) -> None:
    parser = sub.add_parser("grade", parents=parents, help="grade one submission; prints one JSON object")
    parser.add_argument("--task", required=True, help="task id (see `grader list`)")
    parser.add_argument("--seed", type=int, help="replay the run with this seed")
    parser.add_argument("--lang", choices=LANGUAGES, help="feedback language (default from grader.yaml)")
    parser.add_argument(
        "--format",
        choices=["json", "text", "html", "gradescope"],
        default="json",
        help="output format: json (the contract), text (for a person; colour when stdout is a "
        "terminal), html (one self-contained page, no script) or gradescope (Gradescope's results.json)",
    )
    parser.add_argument("submission", help="the student's .py file, or - for stdin")
    parser.set_defaults(run=run)


def check_submission_path(path: str) -> None:
    if path != "-" and not Path(path).is_file():
        raise cli.UsageError(f"grader grade: no such file: {path}")


def read_submission(path: str) -> bytes:
    limit = submission.MAX_BYTES + 1
    if path == "-":
        return sys.stdin.buffer.read(limit)
    try:
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError as exc:
        raise cli.UsageError(f"grader grade: cannot read {path}: {exc.strerror or exc}") from None


def load_context(args) -> tuple[config.Settings, taskspec.Task]:
    """The settings and the task, whose checks beyond its schema are left for the time the sandbox starts."""
    settings = cli.load_settings(args)
    return settings, cli.load_task(args.command, args.task, settings, check=False)


def start_sandbox(settings: config.Settings, task: taskspec.Task) -> sandbox.Launch:
    """The sandbox this grading will use, started before numpy is imported on this side: on the
    backend bwrap's probe will most likely choose, then the probe is waited for while that one
    boots; if the probe says no, the sandbox is replaced at once."""
    limits = Limits.from_dict(task.limits(settings.values["limits"]))
    uid_range = settings.values["sandbox_uids"]
    guess, launch = sandbox.expected_backend(settings.sandbox), None
    if guess is not None:
        try:
            launch = sandbox.start(limits, guess, uid_range)
        except SandboxFailure:  # the guess cannot even be executed: the probe says why, and decides
            pass
    with sandbox.aborted_on_failure(launch):
        backend, _ = sandbox.choose_backend(settings.sandbox)
    if launch is not None and backend == launch.backend:
        return launch
    if launch is not None:
        sandbox.abort(launch)
    return sandbox.start(limits, backend, uid_range)


def run(args) -> int:
    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise cli.UsageError("grader grade: --seed must be between 0 and 2**63-1")
    check_submission_path(args.submission)
    bwrap.start_probe()
    lang = args.lang or "en"
    try:
        settings, task = load_context(args)
        lang = args.lang or settings.language
        launch = start_sandbox(settings, task)
        # Before the sandbox can end (and after it started: ctypes is no cost of its start): what
        # the student's process used under bwrap comes here with bwrap's init.
        reaping.become_subreaper()
        # While the sandbox starts: the task's remaining checks, the submission.
        with sandbox.aborted_on_failure(launch):
            taskspec.check_semantics(task)
            data = read_submission(args.submission)
        grading = pipeline.run(task, data, settings, seed=args.seed, launch=launch,
                               meanwhile=lambda: feedback.prepare(lang))
        _print(args, feedback.build(grading, lang))
        return cli.EXIT_OK
    except (cli.UsageError, BrokenPipeError):  # (a reader gone: nobody to answer, ``cli.console`` ends quietly)
        raise
    except Exception as exc:  # the last-ditch answer: the platform always gets JSON
        from ..grading import failures  # only a failure pays for it

        reason, broken = failures.reason(exc, args.task), failures.task_broken(exc)
    print(reason, file=sys.stderr)
    _print(args, feedback.error_document(lang, reason, task=args.task, seed=args.seed, task_broken=broken))
    return cli.EXIT_INTERNAL


def _print(args, document: dict) -> None:
    # Each renderer is imported when its format is asked for: the JSON contract needs none.
    if args.format == "text":
        from ..feedback import text as render_text

        sys.stdout.write(render_text.render(document, colour=sys.stdout.isatty() and "NO_COLOR" not in os.environ))
        sys.stdout.flush()
    elif args.format == "html":
        from ..feedback import html as render_html

        sys.stdout.write(render_html.render(document))
        sys.stdout.flush()
    elif args.format == "gradescope":
        from ..feedback import gradescope

        cli.print_json(gradescope.results(document))
    else:
        cli.print_json(document)
