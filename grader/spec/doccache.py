"""A cache of parsed and validated documents, keyed by their content.

Owns the one-grading start-up budget of YAML: parsing a spec or a catalog and validating it
against its JSON Schema (importing jsonschema alone costs about as much as importing numpy)
is paid once per content, not once per grading. An entry is the finished JSON value, stored
under the BLAKE2b digest of the grader's version, the kind of document (with its schema's own
digest) and the document's bytes, so an edited spec or schema is simply a miss.

The folder is ``$GRADER_CACHE_DIR``, else ``$XDG_CACHE_HOME/cnn-grader``, else
``~/.cache/cnn-grader``. It is used only when it belongs to the grader's own uid and nobody
else may write to it (a writable cache would let another user change a spec's meaning); when
it cannot be created or written (a read-only container), every call simply computes.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from .. import __version__

try:  # the builtin module hashlib takes blake2b from: hashlib itself loads OpenSSL (about 3 ms)
    from _blake2 import blake2b
except ImportError:
    from hashlib import blake2b

CACHE_ENV = "GRADER_CACHE_DIR"


@lru_cache(maxsize=1)
def folder() -> Path | None:
    """The cache folder, created if need be, or None when it cannot be trusted or made."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        if not configured:
            return None
        path = Path(configured)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = Path(base) / "cnn-grader"
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
    except OSError:
        return None
    if info.st_uid != os.geteuid() or info.st_mode & 0o022:
        return None
    return path


def digest(*parts: bytes | str) -> str:
    hasher = blake2b(__version__.encode(), digest_size=32)
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def cached(kind: str, content: bytes, produce: Callable[[], object]) -> object:
    """The JSON value ``produce()`` gives for ``content``, from the cache when it is there.

    ``produce`` may raise; nothing is stored then, so errors are always reported afresh.
    A value JSON cannot carry unchanged is returned without being stored.
    """
    where = folder()
    entry = where / f"{digest(kind, content)}.json" if where else None
    if entry is not None:
        try:
            return json.loads(entry.read_bytes())
        except (OSError, ValueError):
            pass
    value = produce()
    if entry is not None:
        try:
            encoded = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            return value
        # Only what JSON gives back unchanged is stored (YAML also has int keys, dates...).
        if json.loads(encoded) == value:
            _store(entry, encoded.encode("utf-8"))
    return value


def _store(entry: Path, data: bytes) -> None:
    import tempfile  # only on a miss: a grading with a warm cache never pays for it

    try:
        handle, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, entry)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
