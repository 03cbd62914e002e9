"""Fixtures of the authoring tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from authoring_support import write_scaffold


@pytest.fixture
def demo_root(tmp_path) -> Path:
    return write_scaffold(tmp_path / "root")
