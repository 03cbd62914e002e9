"""Who is asking: bearer tokens, their scopes, and each token's quota of gradings.

A token is compared with every configured one through their SHA-256 digests with
``hmac.compare_digest``, all of them every time: neither the time taken nor an early exit
tells a caller how much of a guess was right. The quota is a token bucket per token (a
minute's worth, refilled continuously); an empty bucket gives 429 with the seconds until the
next grading may be taken.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from .problems import Problem
from .settings import SCOPES, Token

OPEN = Token("open", frozenset(SCOPES), "-" * 16)  # the caller of a service without tokens


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).digest()


class Authenticator:
    def __init__(self, tokens: list[Token]):
        self._tokens = [(_digest(token.secret), token) for token in tokens]

    @property
    def open(self) -> bool:
        return not self._tokens

    def identify(self, authorization: str | None) -> Token:
        """The token named by an Authorization header, or a 401 problem."""
        if self.open:
            return OPEN
        if not authorization:
            raise Problem("unauthorized", "send the header Authorization: Bearer <token>")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise Problem("unauthorized", "the Authorization header must be: Bearer <token>")
        given = _digest(credentials.strip())
        found = None
        for digest, token in self._tokens:
            if hmac.compare_digest(digest, given):
                found = token
        if found is None:
            raise Problem("unauthorized", "the bearer token is not one of this service's")
        return found


def require(token: Token, scope: str) -> None:
    if scope not in token.scopes:
        raise Problem("forbidden", f"this needs a token with the scope {scope!r}; "
                                   f"{token.name!r} has {', '.join(sorted(token.scopes))}")


@dataclass
class _Bucket:
    level: float
    updated: float


class Quotas:
    """Gradings per minute, per token; ``None`` or 0 means no quota."""

    def __init__(self, default_per_minute: int, clock=time.monotonic):
        self.default = default_per_minute
        self._buckets: dict[str, _Bucket] = {}
        self._clock = clock

    def take(self, token: Token) -> None:
        """Count one grading against ``token``, or raise 429 with Retry-After."""
        per_minute = self.default if token.per_minute is None else token.per_minute
        if not per_minute:
            return
        now = self._clock()
        bucket = self._buckets.setdefault(token.name, _Bucket(float(per_minute), now))
        rate = per_minute / 60.0
        bucket.level = min(float(per_minute), bucket.level + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.level < 1.0:
            wait = (1.0 - bucket.level) / rate
            raise Problem("quota-exceeded", f"the token {token.name!r} may submit {per_minute} gradings a minute; "
                                            f"the next one in {wait:.1f} s", retry_after=wait)
        bucket.level -= 1.0
