"""The ``grader`` command line: parsing, dispatch, and the contract of exit codes.

Exit 0 when a verdict was produced (whatever it is), 2 on a usage error, 3 when the
grader itself failed. Commands whose contract is JSON print a valid JSON document
in every one of those cases.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

EXIT_OK, EXIT_USAGE, EXIT_INTERNAL = 0, 2, 3
# The command modules (grader/commands/<name>.py), imported when the parser is built. For
# `grader grade` (_HOT_PATH) only its own is: others import numpy at module level, and grade must
# start its sandbox before numpy is imported (docs/platform.md, "Performance"; enforced by
# tests/platform/test_latency_design.py).
COMMANDS = ["grade", "replay", "tasks", "kit", "validate", "new", "docs", "batch", "serve"]
_HOT_PATH = "grade"


class UsageError(Exception):
    """The command line is wrong: unknown task, missing file, bad option."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def _common_options(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument("--config", default=default, help="grader.yaml to use (default: the one in the tasks root)")
    parser.add_argument(
        "--root",
        default=default,
        help="tasks root holding tasks/, reference/, student_template/ (default: $GRADER_ROOT or the checkout)",
    )


def _command_word(argv: list[str]) -> str | None:
    """The command named in ``argv`` (the first word that is not an option or its value)."""
    words = iter(argv)
    for word in words:
        if word in ("--config", "--root"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The full parser, or for ``grader grade ...`` (``argv``) one that knows only grade."""
    parser = _Parser(prog="grader", description="Sandboxed autograder for numpy CNN layers.")
    _common_options(parser, None)
    # The same options after the command name (`grader grade --config F ...`); SUPPRESS keeps
    # a value given before the command when it is not repeated after it.
    common = _Parser(add_help=False)
    _common_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    names = [_HOT_PATH] if argv is not None and _command_word(argv) == _HOT_PATH else COMMANDS
    for name in names:
        importlib.import_module(f"{__package__}.commands.{name}").register(sub, [common])
    return parser


def load_settings(args):
    """grader.yaml as the command line's ``--config`` and ``--root`` say: every command's settings.
    A file that is missing or invalid is the caller's usage error."""
    from .spec import config, yamldoc  # here: `grader grade` starts bwrap's probe before it loads them

    try:
        return config.load(args.config, args.root)
    except yamldoc.DocumentError as exc:
        raise UsageError("invalid configuration:\n" + str(exc)) from None


def task_ids(command: str, settings) -> list[str]:
    """The ids of the settings' tasks root. A root that does not exist or holds no task spec is a
    usage error (a mistyped --root, $GRADER_ROOT or tasks_root), never an empty answer."""
    from .spec import taskspec

    root = settings.root
    if not root.is_dir():
        raise UsageError(f"grader {command}: the tasks root {root} does not exist "
                         "(check --root, $GRADER_ROOT or tasks_root in grader.yaml)")
    found = taskspec.task_ids(root)
    if not found:
        raise UsageError(f"grader {command}: the tasks root {root} holds no task: no tasks/<id>.yaml in it "
                         "(check --root, $GRADER_ROOT or tasks_root in grader.yaml; `grader new` writes a first task)")
    return found


def load_task(command: str, task_id: str, settings, check: bool = True):
    """The task ``task_id`` of the settings' tasks root. An unknown one is a usage error; a broken
    one raises TaskError (the grader's failure: the command says so its own way)."""
    from .spec import taskspec  # here: likewise (grade loads its task while the probe runs)

    try:
        return taskspec.load(task_id, settings.root, check=check)
    except taskspec.TaskError as exc:
        if exc.unknown:
            task_ids(command, settings)  # a root that is missing or empty says so first
            raise UsageError(f"grader {command}: {exc}") from None
        raise


def print_json(document: dict) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The trusted side's arrays are small: BLAS threads would only fight the sandboxes for the
    # cores (set before numpy is imported; an operator's own setting wins).
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return args.run(args)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        if "grade" in argv:
            from .feedback.document import error_document  # only a usage error of grade pays for it

            print_json(error_document(_lang(argv), str(exc)))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _lang(argv: list[str]) -> str:
    if "--lang" in argv:
        position = argv.index("--lang") + 1
        if position < len(argv) and argv[position] in ("zh", "en"):
            return argv[position]
    return "en"


def console() -> None:
    """The ``grader`` executable. For ``grader grade`` it exits as soon as the answer is written
    (``os._exit``, deliberately): the interpreter's teardown (collecting numpy and every module)
    took longer than comparing all the outputs. The sandbox is gone and stdout flushed by then;
    nothing else is open. Every other command exits normally."""
    argv = sys.argv[1:]
    try:
        code = main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`grader list | head`): what it did not read is not an error of ours.
        # stdout is pointed at /dev/null so that the interpreter's own flush at exit stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_OK
    if _command_word(argv) == _HOT_PATH:
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    sys.exit(main())
