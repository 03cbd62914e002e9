"""The ``grader`` command line: parsing, dispatch, and the contract of exit codes.

Exit 0 when a verdict was produced (whatever it is), 2 on a usage error, 3 when the
grader itself failed. Commands whose contract is JSON print a valid JSON document
in every one of those cases.
"""

from __future__ import annotations

import argparse
import json
import sys

from .commands import docs, grade, new, replay, tasks, validate

EXIT_OK, EXIT_USAGE, EXIT_INTERNAL = 0, 2, 3
COMMANDS = [grade, replay, tasks, validate, new, docs]


class UsageError(Exception):
    """The command line is wrong: unknown task, missing file, bad option."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def _common_options(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument("--config", default=default, help="grader.yaml to use (default: the one in the tasks root)")
    parser.add_argument("--root", default=default, help="tasks root holding tasks/, reference/, student_template/ (default: $GRADER_ROOT or the checkout)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="grader", description="Sandboxed autograder for numpy CNN layers.")
    _common_options(parser, None)
    # The same options after the command name (`grader grade --config F ...`); SUPPRESS keeps
    # a value given before the command when it is not repeated after it.
    common = _Parser(add_help=False)
    _common_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        command.register(sub, [common])
    return parser


def print_json(document: dict) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return args.run(args)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        if "grade" in argv:
            from .feedback import error_document

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


if __name__ == "__main__":
    sys.exit(main())
