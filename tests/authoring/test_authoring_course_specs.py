"""The course specs, as graded: each task's own cases (fixed and random, drawn by the grader
from the spec) run through the spec's entry on the reference, against naive loops and, where
importable, PyTorch. tests/reference/ checks the reference modules on their own; this checks
that each spec calls them with the right arrays, shapes and hyper-parameters."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from authoring_support import REPO
from grader.grading import reference
from grader.spec import cases, config, taskspec

COURSE_TASKS = ["conv_forward", "maxpool_forward", "avgpool_backward", "conv_transpose", "relu_backward", "affine_backward"]
NAIVE_LIMIT = 20_000  # input elements above which the pure-Python loops are too slow for a test
TOL = dict(rtol=1e-9, atol=1e-10)


def _naive():
    spec = importlib.util.spec_from_file_location("_authoring_naive", REPO / "tests" / "naive.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NAIVE = _naive()


def _graded_cases(task_id: str):
    settings = config.load(None, str(REPO))
    task = taskspec.load(task_id, settings.root)
    drawn = cases.generate(task, seed=99, random_count=6)
    return task, drawn, reference.expected_outputs(task, drawn)


def _naive_outputs(task_id: str, p: dict, a: dict) -> dict:
    if task_id == "conv_forward":
        return {"out": NAIVE.conv_forward(a["x"], a["weight"], a["bias"], p["stride"], p["pad"])}
    if task_id == "maxpool_forward":
        return {"out": NAIVE.maxpool_forward(a["x"], p["PH"], p["PW"], p["stride"], p["pad"])}
    if task_id == "avgpool_backward":
        return {"dx": NAIVE.avgpool_backward(a["x"].shape, a["dout"], p["PH"], p["PW"], p["stride"], p["pad"])}
    if task_id == "conv_transpose":
        out = NAIVE.conv_transpose_forward(a["x"], a["weight"], a["bias"], p["stride"], p["pad"])
        dx, dW, db = NAIVE.conv_transpose_backward(a["x"], a["weight"], a["dout"], p["stride"], p["pad"])
        return {"out": out, "dx": dx, "dW": dW, "db": db}
    if task_id == "relu_backward":
        return {"dx": NAIVE.relu_backward(a["x"], a["dout"])}
    dx, dW, db = NAIVE.affine_backward(a["x"], a["weight"], a["dout"])
    return {"dx": dx, "dW": dW, "db": db}


@pytest.mark.parametrize("task_id", COURSE_TASKS)
def test_spec_cases_match_naive_loops(task_id):
    task, drawn, expected = _graded_cases(task_id)
    compared = 0
    for case in drawn:
        if case.size > NAIVE_LIMIT:
            continue
        naive = _naive_outputs(task_id, case.params, case.inputs)
        assert sorted(naive) == sorted(task.output_names)
        for name in task.output_names:
            np.testing.assert_allclose(expected[case.index][name], naive[name], err_msg=f"{case.name} {name}", **TOL)
        compared += 1
    assert compared >= len(drawn) - 1  # only the large case is left to PyTorch


def _torch_outputs(torch, task_id: str, p: dict, a: dict) -> dict:
    F = torch.nn.functional

    def tensor(array, grad=False):
        return torch.tensor(array, dtype=torch.float64, requires_grad=grad)

    zero_pad = (p.get("pad", 0),) * 4  # the textbook pads with zeros; torch's pooling pads with -inf
    if task_id == "conv_forward":
        return {"out": F.conv2d(tensor(a["x"]), tensor(a["weight"]), tensor(a["bias"]), stride=p["stride"], padding=p["pad"])}
    if task_id == "maxpool_forward":
        return {"out": F.max_pool2d(F.pad(tensor(a["x"]), zero_pad), (p["PH"], p["PW"]), stride=p["stride"])}
    if task_id == "avgpool_backward":
        x = tensor(a["x"], True)
        (F.avg_pool2d(F.pad(x, zero_pad), (p["PH"], p["PW"]), stride=p["stride"]) * tensor(a["dout"])).sum().backward()
        return {"dx": x.grad}
    if task_id == "conv_transpose":
        x, W, b = tensor(a["x"], True), tensor(a["weight"], True), tensor(a["bias"], True)
        out = F.conv_transpose2d(x, W, b, stride=p["stride"], padding=p["pad"])
        (out * tensor(a["dout"])).sum().backward()
        return {"out": out, "dx": x.grad, "dW": W.grad, "db": b.grad}
    if task_id == "relu_backward":
        x = tensor(a["x"], True)
        (torch.relu(x) * tensor(a["dout"])).sum().backward()
        return {"dx": x.grad}
    x, W, b = tensor(a["x"], True), tensor(a["weight"], True), tensor(a["bias"], True)
    ((x.reshape(x.shape[0], -1) @ W + b) * tensor(a["dout"])).sum().backward()
    return {"dx": x.grad, "dW": W.grad, "db": b.grad}


@pytest.mark.parametrize("task_id", COURSE_TASKS)
def test_spec_cases_match_torch(task_id):
    torch = pytest.importorskip("torch")
    task, drawn, expected = _graded_cases(task_id)
    for case in drawn:
        theirs = _torch_outputs(torch, task_id, case.params, case.inputs)
        for name in task.output_names:
            np.testing.assert_allclose(expected[case.index][name], theirs[name].detach().numpy(), err_msg=f"{case.name} {name}", **TOL)
