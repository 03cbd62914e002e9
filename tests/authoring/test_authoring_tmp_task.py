"""A task is data: a task written from scratch in a temporary folder validates and grades
with `--root`, so adding a task never needs a change under grader/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authoring_support import REPO, run_grader
from grader.spec import yamldoc

SPEC = """\
# yaml-language-server: $schema=../grader/schemas/task.schema.json
id: upsample_nearest
title:
  zh: 最近邻上采样
  en: Nearest-neighbour upsampling
description:
  zh: 实现 upsample(x, scale)：把 (N, C, H, W) 的每个像素变成 scale x scale 的块，返回 (N, C, H*scale, W*scale)。
  en: Implement upsample(x, scale) turning every pixel of (N, C, H, W) into a scale x scale block, returning (N, C, H*scale, W*scale).
files:
  template: student_template/upsample_nearest.py
  reference: reference/upsample_nearest.py
entry:
  function: upsample
  args: [x, scale]
  returns: out
params:
  N: {min: 1, max: 2}
  C: {min: 1, max: 3}
  H: {min: 1, max: 5}
  W: {min: 1, max: 5}
  scale: {choices: [1, 2, 3]}
inputs:
  x: {shape: [N, C, H, W], distribution: uniform, scale: 2.0}
outputs:
  out: {tolerance: {atol: 1.0e-9}}
cases:
  random: 3
  fixed:
    - name: basic
      params: {N: 1, C: 1, H: 2, W: 2, scale: 2}
    - name: non_square
      title: {zh: 非正方形、放大 3 倍, en: "non-square, scale 3"}
      params: {N: 2, C: 3, H: 2, W: 4, scale: 3}
    - name: identity
      params: {N: 1, C: 2, H: 3, W: 3, scale: 1}
      visible: false
      points: 2
misconceptions:
  - id: upsample_tiled
    message:
      zh: 每个像素要重复成一个块（np.repeat），你把整张图平铺了（np.tile）。
      en: Every pixel is repeated into a block (np.repeat); you tiled the whole image (np.tile).
    code: |
      def upsample(x, scale):
          return np.tile(x, (1, 1, scale, scale))
"""

REFERENCE = '''\
"""Reference of upsample_nearest."""

import numpy as np


def upsample(x, scale):
    x = np.asarray(x, dtype=np.float64)
    return np.repeat(np.repeat(x, scale, axis=2), scale, axis=3)
'''

TEMPLATE = '''\
"""Nearest-neighbour upsampling: x (N, C, H, W) -> (N, C, H*scale, W*scale)."""

import numpy as np


def upsample(x, scale):
    ########## Begin ##########
    pass
    ########## End ##########
'''

TILED = '''\
import numpy as np


def upsample(x, scale):
    return np.tile(x, (1, 1, scale, scale))
'''

COURSE_TASKS = ["conv_forward", "maxpool_forward", "avgpool_backward", "conv_transpose", "relu_backward", "affine_backward"]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("course")
    for relative, text in (("tasks/upsample_nearest.yaml", SPEC), ("reference/upsample_nearest.py", REFERENCE),
                           ("student_template/upsample_nearest.py", TEMPLATE)):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return root


def _grade(root: Path, *args: str, stdin: bytes | None = None) -> dict:
    result = run_grader("--root", str(root), "grade", "--task", "upsample_nearest", "--lang", "en", *args, stdin=stdin)
    assert result.returncode == 0, result.stderr.decode()
    feedback = json.loads(result.stdout)
    yamldoc.validator("feedback.schema.json").validate(feedback)
    return feedback


def test_the_new_task_is_listed_and_validates(root):
    listed = run_grader("--root", str(root), "list", "--lang", "en")
    assert listed.stdout.decode() == "upsample_nearest\tNearest-neighbour upsampling\n"
    validated = run_grader("--root", str(root), "validate")
    assert validated.returncode == 0, validated.stdout.decode()
    assert "upsample_nearest: valid" in validated.stdout.decode()


def test_a_correct_block_passes(root):
    feedback = _grade(root, "--seed", "5", "-", stdin=b"return np.repeat(np.repeat(x, scale, axis=2), scale, axis=3)\n")
    assert feedback["status"] == "passed"
    assert feedback["max_score"] == 1 + 1 + 2 + 3  # three fixed cases (one worth 2 points), three random ones
    assert feedback["submission"]["mode"] == "block"


def test_the_template_fails(root):
    assert _grade(root, str(root / "student_template" / "upsample_nearest.py"))["status"] == "failed"


def test_the_declared_misconception_is_named(root, tmp_path):
    submission = tmp_path / "tiled.py"
    submission.write_text(TILED, encoding="utf-8")
    feedback = _grade(root, str(submission))
    assert feedback["status"] == "failed"
    assert [d["id"] for d in feedback["diagnoses"]] == ["upsample_tiled"]


def test_no_grader_module_names_a_course_task():
    """The six course tasks were added as data only: no grader code knows them."""
    for path in (REPO / "grader").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        named = [task for task in COURSE_TASKS if task in text]
        assert not named, f"{path.relative_to(REPO)} names {named}"
