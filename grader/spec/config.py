"""Global settings: where grader.yaml and the tasks root are, and the merged defaults.

Every key, its default and its meaning is declared once, in
``grader/schemas/config.schema.json``; this module only finds the file, validates
it and fills in the schema's defaults.
"""

from __future__ import annotations

import os
from collections import namedtuple
from pathlib import Path

from . import yamldoc

PACKAGE_DIR = Path(__file__).resolve().parents[1]
ROOT_ENV = "GRADER_ROOT"


class Settings(namedtuple("Settings", "values root source")):
    """grader.yaml's values (defaults filled in), the tasks root, and the file read (None: defaults only)."""

    __slots__ = ()

    @property
    def language(self) -> str:
        return self.values["language"]

    @property
    def sandbox(self) -> str:
        return self.values["sandbox"]


def default_root() -> Path:
    """The tasks root: $GRADER_ROOT, else the checkout the package lives in, else the cwd."""
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV]).resolve()
    checkout = PACKAGE_DIR.parent
    if (checkout / "tasks").is_dir():
        return checkout
    return Path.cwd()


def load(config_path: str | None = None, root: str | None = None) -> Settings:
    """Load grader.yaml (``config_path``, else the one in the root, else pure defaults)."""
    base_root = Path(root).resolve() if root else default_root()
    path = Path(config_path) if config_path else base_root / "grader.yaml"
    if config_path and not path.is_file():
        raise yamldoc.DocumentError(str(path), [f"{path}: no such configuration file"])
    if path.is_file():
        values = yamldoc.load(path, "config.schema.json")
        source = path.resolve()
    else:
        values = yamldoc.fill_defaults({}, "config.schema.json")
        source = None
    if root:
        tasks_root = base_root
    elif os.environ.get(ROOT_ENV) or source is None:
        tasks_root = base_root
    else:
        tasks_root = (source.parent / values["tasks_root"]).resolve()
    return Settings(values=values, root=tasks_root, source=source)
