"""Message catalogs (grader/catalogs/<lang>.yaml): the only place feedback text lives."""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

from ..spec import doccache

LANGUAGES = ("zh", "en")
CATALOG_DIR = Path(__file__).resolve().parent / "catalogs"


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict:
    data = (CATALOG_DIR / f"{lang}.yaml").read_bytes()
    return doccache.cached("catalog", data, lambda: _parse(data))


def _parse(data: bytes) -> dict:
    import yaml  # only on a cache miss: a grading with a warm cache never imports PyYAML

    return yaml.safe_load(data.decode("utf-8"))


class _Lenient(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def text(lang: str, key: str, **values) -> str:
    """The message at ``key`` ("codes.SHAPE_MISMATCH") filled with ``values``."""
    node = catalog(lang)
    for part in key.split("."):
        node = node[part]
    try:
        return string.Formatter().vformat(node, (), _Lenient(values))
    except (ValueError, TypeError, KeyError):
        return node


def has(lang: str, key: str) -> bool:
    node = catalog(lang)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True
