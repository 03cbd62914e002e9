"""``grader serve``: run the HTTP grading service (grader/service/, docs/platform.md).

Exit 0 after a drain (SIGTERM or Ctrl-C), 2 on a usage error (bad option, tokens file,
webhook secret, database), 3 when the service cannot start (the port is taken).
"""

from __future__ import annotations

from .. import cli


def register(sub, parents) -> None:
    parser = sub.add_parser("serve", parents=parents, help="run the HTTP grading service (docs/platform.md)")
    parser.add_argument("--host", help="address to listen on (default: $GRADER_SERVE_HOST, else 127.0.0.1); "
                                       "beyond loopback the service always needs a token")
    parser.add_argument("--port", type=int, help="port to listen on (default: 8080; 0: any free port)")
    parser.add_argument("--workers", type=int,
                        help="gradings run at once (default: service.workers in grader.yaml, 0 there: one per CPU)")
    parser.add_argument("--no-practice-page", dest="practice_page", action="store_const", const=False,
                        help="do not serve the practice page at / (as service.practice_page: false)")
    parser.set_defaults(run=run)


def run(args) -> int:
    # Imported here: the service's stack (Starlette, uvicorn, numpy) is no business of the
    # other commands, and `grader grade` never imports this module's neighbours' imports.
    from ..service import server, settings

    if args.port is not None and not 0 <= args.port <= 65535:
        raise cli.UsageError("grader serve: --port must be between 0 and 65535")
    if args.workers is not None and args.workers < 1:
        raise cli.UsageError("grader serve: --workers must be at least 1")
    grader_settings = cli.load_settings(args)
    try:
        service_settings = settings.load(grader_settings, args.host, args.port, args.workers,
                                         practice_page=args.practice_page)
    except settings.SettingsError as exc:
        raise cli.UsageError(f"grader serve: {exc}") from None
    return server.run(service_settings)
