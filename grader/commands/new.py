"""``grader new TASK``: scaffold a spec, a reference and a template that validate as generated.

The scaffold is a small but complete task (a per-channel scale layer whose backward
the student writes), so every section of a spec is there to be edited: params,
input shapes, fixed cases, misconceptions and a gradient check. No prompts;
existing files are never overwritten.
"""

from __future__ import annotations

import re

from .. import cli, config, yamldoc

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

SPEC = """\
# yaml-language-server: $schema=../grader/schemas/task.schema.json
# Scaffolded by `grader new {task}`: a complete, working example to edit into your task.
# Every key is described in docs/task-spec.md; `grader validate {task}` checks the result.
id: {task}
title:
  zh: 按通道缩放层的反向传播（示例）
  en: Backward pass of a per-channel scale layer (example)
description:
  zh: |
    补全 {cls}.backward(dout)：forward 已给出，out = x * gamma（每个通道 c 乘以 gamma[c]）。
    dout 与 x 的形状都是 (N, C, H, W)；返回 dx，并设置 self.dgamma（形状 (C,)）。
  en: |
    Complete {cls}.backward(dout); forward is given: out = x * gamma (channel c times
    gamma[c]). dout and x are (N, C, H, W); return dx and set self.dgamma (shape (C,)).
files:
  template: student_template/{task}.py
  reference: reference/{task}.py
  support: []
entry:
  class: {cls}
  init: [gamma]
  steps:
    - call: forward
      args: [x]
    - call: backward
      args: [dout]
      returns: dx
  attributes: [dgamma]
params:
  N: {{min: 1, max: 3, description: images in the batch}}
  C: {{min: 1, max: 4, description: channels}}
  H: {{min: 1, max: 6}}
  W: {{min: 1, max: 6}}
inputs:
  x: {{shape: [N, C, H, W], description: input of forward}}
  gamma: {{shape: [C], description: one scale per channel}}
  dout: {{shape: [N, C, H, W], description: gradient of the loss w.r.t. the output}}
outputs:
  dx: {{description: gradient w.r.t. x}}
  dgamma: {{description: gradient w.r.t. gamma}}
cases:
  fixed:
    - name: basic
      title: {{zh: 最简单的情形, en: the simplest case}}
      params: {{N: 1, C: 1, H: 2, W: 2}}
    - name: batch_channels
      title: {{zh: 多张图、多个通道, en: several images and channels}}
      params: {{N: 3, C: 4, H: 3, W: 3}}
    - name: non_square
      title: {{zh: 非正方形的图像, en: non-square images}}
      params: {{N: 2, C: 2, H: 2, W: 5}}
    - name: large
      title: {{zh: 较大的输入, en: a larger input}}
      params: {{N: 8, C: 8, H: 28, W: 28}}
      visible: false
checks:
  - gradient: {{forward: forward, upstream: dout, pairs: {{x: dx, gamma: dgamma}}}}
misconceptions:
  - id: {task}_dgamma_batch_only
    message:
      zh: dgamma 要对 dout * x 在批量和两个空间维上求和（axis=(0, 2, 3)），形状为 (C,)；你只对批量维求了和。
      en: "dgamma sums dout * x over the batch and both spatial axes (axis=(0, 2, 3)), shape (C,); you summed over the batch axis only."
    code: |
      class {cls}({cls}):
          def backward(self, dout):
              dx = super().backward(dout)
              self.dgamma = (dout * self.x).sum(axis=0)
              return dx
  - id: {task}_dx_without_gamma
    message:
      zh: 链式法则：dx = dout * gamma（按通道）。你把 dout 原样返回了。
      en: "Chain rule: dx = dout * gamma (per channel). You returned dout unchanged."
    code: |
      class {cls}({cls}):
          def backward(self, dout):
              super().backward(dout)
              return dout.copy()
  - id: {task}_dgamma_without_x
    message:
      zh: out 对 gamma[c] 的导数是 x：dgamma = sum(dout * x)。你只对 dout 求了和。
      en: "The derivative of out w.r.t. gamma[c] is x: dgamma = sum(dout * x). You summed dout alone."
    code: |
      class {cls}({cls}):
          def backward(self, dout):
              dx = super().backward(dout)
              self.dgamma = dout.sum(axis=(0, 2, 3))
              return dx
"""

REFERENCE = '''\
"""Reference solution of {task} (hidden from students): a per-channel scale layer.

{cls}(gamma)
    gamma: (C,)
    forward(x):     x (N, C, H, W) -> out = x * gamma[c] on every channel c
    backward(dout): dout (N, C, H, W) -> dx = dout * gamma[c];
                    sets self.dgamma (C,) = dout * x summed over n, h and w
Self-contained (numpy only); inputs are never modified.
"""

import numpy as np


class {cls}:
    def __init__(self, gamma):
        self.gamma = np.asarray(gamma, dtype=np.float64)
        self.x = None
        self.dgamma = None

    def forward(self, x):
        self.x = np.asarray(x, dtype=np.float64)
        return self.x * self.gamma.reshape(1, -1, 1, 1)

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        self.dgamma = (dout * self.x).sum(axis=(0, 2, 3))
        return dout * self.gamma.reshape(1, -1, 1, 1)
'''

TEMPLATE = '''\
# -*- coding: utf-8 -*-
"""
按通道缩放层的反向传播
Backward pass of a per-channel scale layer

任务 / Task
    在 Begin 与 End 之间补全 {cls}.backward 的方法体（包括 return 语句）：
    计算 self.dgamma，并返回 dx。forward 已经给出。
    Fill in the body of {cls}.backward (including its return statement) between Begin
    and End: compute self.dgamma and return dx. forward is given.

        out[n, c, h, w] = x[n, c, h, w] * gamma[c]

形状 / Shapes
    x, out, dout, dx: (N, C, H, W)
    gamma, self.dgamma: (C,)
"""

import numpy as np


class {cls}:
    def __init__(self, gamma):
        self.gamma = gamma
        self.x = None
        self.dgamma = None

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, C, H, W)."""
        self.x = x
        return x * self.gamma.reshape(1, -1, 1, 1)

    def backward(self, dout):
        """
        dout: (N, C, H, W) -> dx: (N, C, H, W); 并设置 / also sets self.dgamma: (C,)
        """
        ########## Begin ##########
        # 计算 self.dgamma 并返回 dx / compute self.dgamma and return dx
        pass
        ########## End ##########
'''


def register(sub, parents) -> None:
    parser = sub.add_parser("new", parents=parents, help="scaffold a task (spec, reference, template) that passes `grader validate`")
    parser.add_argument("task", help="id of the new task: lower-case letters, digits and _, starting with a letter")
    parser.set_defaults(run=run)


def class_name(task_id: str) -> str:
    return "".join(part.capitalize() for part in task_id.split("_") if part)


def run(args) -> int:
    if not ID_PATTERN.match(args.task):
        raise cli.UsageError(f"grader new: {args.task!r} is not a task id (lower-case letters, digits and _, starting with a letter)")
    try:
        settings = config.load(args.config, args.root)
    except yamldoc.DocumentError as exc:
        raise cli.UsageError("invalid configuration:\n" + str(exc)) from None
    root = settings.root
    values = {"task": args.task, "cls": class_name(args.task)}
    files = {
        root / "tasks" / f"{args.task}.yaml": SPEC.format(**values),
        root / "reference" / f"{args.task}.py": REFERENCE.format(**values),
        root / "student_template" / f"{args.task}.py": TEMPLATE.format(**values),
    }
    existing = [str(path) for path in files if path.exists()]
    if existing:
        raise cli.UsageError(f"grader new: these files exist already, nothing was written: {', '.join(existing)}")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"created {path}")
    print(f"next: edit them (see docs/authoring.md), then run `grader validate {args.task}`")
    return cli.EXIT_OK
