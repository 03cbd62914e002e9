"""The service's settings: grader.yaml's ``service`` section, secrets, and where to listen.

Owns reading what the schema cannot hold (tokens and the webhook secret come from files or
the environment, never from grader.yaml), resolving the database's path, and the listening
policy:

* tokens configured: every /v1 route and /metrics need one;
* no token and a loopback address: the service is open, to local users only, and says so;
* no token and any other address (``--host 0.0.0.0``, or the image's GRADER_SERVE_HOST): the
  service makes one token with both scopes for this run and prints it once on stderr. It
  never listens beyond loopback without authentication.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..spec.config import Settings

TOKENS_ENV = "GRADER_TOKENS"
WEBHOOK_SECRET_ENV = "GRADER_WEBHOOK_SECRET"
HOST_ENV = "GRADER_SERVE_HOST"
DEFAULT_PORT = 8080
SCOPES = ("submit", "admin")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# RFC 6750's b64token characters; 16 at least, so that a token cannot be guessed.
_TOKEN = re.compile(r"^[A-Za-z0-9._~+/=-]{16,512}$")
WEBHOOK_SECRET_PREFIX = "whsec_"


class SettingsError(Exception):
    """The service cannot start with these settings; the message says what to change."""


@dataclass(frozen=True)
class Token:
    name: str
    scopes: frozenset[str]
    secret: str = field(repr=False)
    per_minute: int | None = None  # None: the service's quota_per_minute


@dataclass
class ServiceSettings:
    grader: Settings
    values: dict
    tokens: list[Token]
    webhook_secret: bytes | None
    database: Path
    workers: int
    host: str
    port: int
    generated_token: str | None = None

    @property
    def open(self) -> bool:
        """True when no token is required (no token configured, loopback only)."""
        return not self.tokens


def parse_tokens(text: str, origin: str) -> list[Token]:
    """Lines ``NAME SCOPES TOKEN [GRADINGS_PER_MINUTE]``; ``#`` starts a comment."""
    tokens = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{origin}:{number}"
        words = line.split()
        if len(words) not in (3, 4):
            raise SettingsError(f"{where}: expected NAME SCOPES TOKEN [GRADINGS_PER_MINUTE], got {len(words)} words")
        name, scopes, secret = words[:3]
        if not _NAME.match(name):
            raise SettingsError(f"{where}: the name {name[:64]!r} must be 1-64 letters, digits, '_', '.' or '-'")
        chosen = scopes.split(",")
        if not chosen or any(scope not in SCOPES for scope in chosen):
            raise SettingsError(f"{where}: scopes must be submit, admin or submit,admin, not {scopes[:40]!r}")
        if not _TOKEN.match(secret):
            raise SettingsError(f"{where}: the token of {name!r} must be 16-512 characters of A-Z a-z 0-9 . _ ~ + / = -"
                                " (e.g. from `openssl rand -hex 32`)")
        per_minute = None
        if len(words) == 4:
            if not words[3].isdigit():
                raise SettingsError(f"{where}: GRADINGS_PER_MINUTE must be a whole number, not {words[3][:20]!r}")
            per_minute = int(words[3])
        tokens.append(Token(name, frozenset(chosen), secret, per_minute))
    return tokens


def _relative_to_config(grader: Settings, path: str) -> Path:
    base = grader.source.parent if grader.source else Path.cwd()
    return (base / path).resolve()


def _read_secret_file(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read the {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None


def load_tokens(grader: Settings, values: dict, environ: dict) -> list[Token]:
    tokens = []
    if values["tokens_file"]:
        path = _relative_to_config(grader, values["tokens_file"])
        tokens += parse_tokens(_read_secret_file(path, "tokens file"), str(path))
    if environ.get(TOKENS_ENV, "").strip():
        tokens += parse_tokens(environ[TOKENS_ENV], TOKENS_ENV)
    for attribute, what in (("name", "name"), ("secret", "token")):
        seen = set()
        for token in tokens:
            value = getattr(token, attribute)
            if value in seen:
                raise SettingsError(f"two tokens have the same {what}" + (f" {value!r}" if what == "name" else ""))
            seen.add(value)
    return tokens


def load_webhook_secret(grader: Settings, values: dict, environ: dict) -> bytes | None:
    """The key of the webhooks' HMAC: the base64 after ``whsec_`` (Standard Webhooks)."""
    text = environ.get(WEBHOOK_SECRET_ENV, "").strip()
    origin = WEBHOOK_SECRET_ENV
    if not text and values["webhooks"]["secret_file"]:
        path = _relative_to_config(grader, values["webhooks"]["secret_file"])
        text, origin = _read_secret_file(path, "webhook secret file").strip(), str(path)
    if not text:
        return None
    encoded = text.removeprefix(WEBHOOK_SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError(f"{origin}: the webhook secret must be {WEBHOOK_SECRET_PREFIX} followed by base64 "
                            "(e.g. whsec_$(openssl rand -base64 32))") from None
    if len(key) < 16:
        raise SettingsError(f"{origin}: the webhook secret must hold at least 16 bytes (it holds {len(key)})")
    return key


def private_folder(path: Path) -> Path:
    """``path`` as a folder only this uid can use: created 0700, or checked to be one (not a
    link, ours, closed to others) - a shared /tmp must not let another user plant it."""
    try:
        path.mkdir(mode=0o700, parents=False)
    except FileExistsError:
        pass
    except OSError as exc:
        raise SettingsError(f"cannot create the folder {path}: {exc.strerror}") from None
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise SettingsError(f"{path} must be a folder of uid {os.geteuid()} closed to other users "
                            "(set service.database to a path of your own)")
    return path


def database_path(grader: Settings, values: dict) -> Path:
    if values["database"]:
        path = _relative_to_config(grader, values["database"])
        if not path.parent.is_dir():
            raise SettingsError(f"service.database: the folder {path.parent} does not exist")
        return path
    return private_folder(Path("/tmp") / f"cnn-grader-service-{os.geteuid()}") / "service.sqlite3"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load(grader: Settings, host: str | None = None, port: int | None = None, workers: int | None = None,
         environ: dict | None = None, practice_page: bool | None = None) -> ServiceSettings:
    """The service's settings: grader.yaml's ``service`` section, with the command line's over it."""
    environ = os.environ if environ is None else environ
    values = grader.values["service"]
    if practice_page is not None:
        values = dict(values, practice_page=practice_page)
    tokens = load_tokens(grader, values, environ)
    host = host or environ.get(HOST_ENV) or "127.0.0.1"
    generated = None
    if not tokens and not is_loopback(host):
        generated = secrets.token_urlsafe(32)
        tokens = [Token("generated", frozenset(SCOPES), generated)]
    if workers is None:
        workers = values["workers"]
    if workers < 0:
        raise SettingsError("--workers must be at least 1 (or 0: one per CPU)")
    return ServiceSettings(
        grader=grader, values=values, tokens=tokens,
        webhook_secret=load_webhook_secret(grader, values, environ),
        database=database_path(grader, values), workers=workers or os.cpu_count() or 1,
        host=host, port=DEFAULT_PORT if port is None else port, generated_token=generated,
    )
