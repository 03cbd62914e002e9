"""Shared constants and helpers of the feedback tests (fixtures are in conftest.py)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
GRADER = Path(sys.executable).with_name("grader")
EXAMPLES = REPO / "examples"
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
SEED = 20240601
SEED_TASKS = ["im2col", "col2im", "conv_backward", "maxpool_backward"]


@dataclass
class Graded:
    returncode: int
    stdout: str
    stderr: str
    document: dict | None

    def test(self, name: str) -> dict:
        return next(t for t in self.document["tests"] if t["name"] == name)

    def failing_visible(self) -> list[dict]:
        return [t for t in self.document["tests"] if t["status"] == "failed" and t["visibility"] == "visible"]


def make_config(tmp_dir: Path, name: str, **overrides) -> Path:
    """grader.yaml of the checkout with ``overrides`` applied (tasks_root pointing back at the checkout)."""
    values = yaml.safe_load((REPO / "grader.yaml").read_text(encoding="utf-8"))
    values.update(overrides)
    values["tasks_root"] = str(REPO)
    path = tmp_dir / f"grader-{name}.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


