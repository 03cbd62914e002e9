"""``grader docs``: write (or, with --check, compare) the reference docs generated from the schemas."""

from __future__ import annotations

from pathlib import Path

from .. import cli
from ..authoring import schemadoc

EXIT_STALE = 1


def register(sub, parents) -> None:
    parser = sub.add_parser(
        "docs", parents=parents, help="generate docs/task-spec.md and docs/configuration.md from the JSON Schemas"
    )
    parser.add_argument("--out", default="docs", help="folder to write to (default: %(default)s)")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file differs from what would be written"
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    folder = Path(args.out)
    stale = []
    for name, text in schemadoc.render_all().items():
        path = folder / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if args.check:
            stale.append(str(path))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    if stale:
        print(f"out of date (run `grader docs --out {folder}`): {', '.join(stale)}")
        return EXIT_STALE
    return cli.EXIT_OK
