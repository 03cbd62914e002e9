"""``grader docs``: write (or, with --check, compare) the reference docs generated from the schemas."""

from __future__ import annotations

from pathlib import Path

from .. import cli
from ..authoring import schemadoc

EXIT_STALE = 1
# The checkout's docs/, beside the grader package: the docs describe this grader's schemas,
# whatever folder the command runs in.
CHECKOUT_DOCS = Path(__file__).resolve().parents[2] / "docs"


def register(sub, parents) -> None:
    parser = sub.add_parser(
        "docs", parents=parents, help="generate docs/task-spec.md and docs/configuration.md from the JSON Schemas"
    )
    parser.add_argument("--out", help="folder to write to (default: the docs/ folder of the grader's checkout)")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file differs from what would be written"
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    folder = Path(args.out) if args.out else CHECKOUT_DOCS
    if not args.out and not folder.is_dir():
        raise cli.UsageError(f"grader docs: this grader is not run from a checkout ({folder} does not exist): "
                             "give --out FOLDER")
    if folder.exists() and not folder.is_dir():
        raise cli.UsageError(f"grader docs: --out {folder} is not a folder")
    stale = []
    for name, text in schemadoc.render_all().items():
        path = folder / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if args.check:
            stale.append(str(path))
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise cli.UsageError(f"grader docs: cannot write {exc.filename or path}: {exc.strerror or exc}") from None
        print(f"wrote {path}")
    if stale:
        again = f"grader docs --out {folder}" if args.out else "grader docs"
        print(f"out of date (run `{again}`): {', '.join(stale)}")
        return EXIT_STALE
    return cli.EXIT_OK
