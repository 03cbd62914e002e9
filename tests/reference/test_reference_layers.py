"""The layer references (conv, pooling, transposed conv, relu, affine) against naive loops."""

import importlib.util
import sys
from pathlib import Path


def _load_helpers():
    name = "_cnn_reference_test_helpers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("_helpers.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


H = _load_helpers()

import numpy as np
import pytest

LAYER_TASKS = ["conv_backward", "conv_forward", "maxpool_backward", "maxpool_forward",
               "avgpool_backward", "conv_transpose", "relu_backward", "affine_backward"]

CASES = [(task, cfg) for task in LAYER_TASKS for cfg in H.configs_for(task)]


@pytest.mark.parametrize("task,cfg", CASES, ids=[f"{t}-{c}" for t, c in CASES])
def test_reference_matches_naive(task, cfg):
    inputs = H.make_inputs(task, cfg)
    before = {k: v.copy() for k, v in inputs.items() if isinstance(v, np.ndarray)}
    # run_task passes copies; also call once with the originals to catch in-place edits
    actual = H.run_task(task, H.reference(task), cfg, inputs)
    expected = H.naive_outputs(task, cfg, inputs)
    assert set(actual) == set(expected)
    for name, value in actual.items():
        assert isinstance(value, np.ndarray) and value.dtype == np.float64, name
    H.assert_same(actual, expected, where=f"{task} {cfg}")
    _call_with_originals(task, cfg, inputs)
    for k, v in before.items():
        np.testing.assert_array_equal(inputs[k], v, err_msg=f"{task} modified its input {k}")


def _call_with_originals(task, cfg, a):
    ref = H.reference(task)
    s, p = cfg.stride, cfg.pad
    if task in ("conv_backward", "conv_forward"):
        layer = ref.Convolution(a["W"], a["b"], s, p)
    elif task == "conv_transpose":
        layer = ref.ConvTranspose(a["W"], a["b"], s, p)
    elif task in ("maxpool_backward", "maxpool_forward"):
        layer = ref.MaxPool(cfg.FH, cfg.FW, s, p)
    elif task == "avgpool_backward":
        layer = ref.AvgPool(cfg.FH, cfg.FW, s, p)
    elif task == "relu_backward":
        layer = ref.Relu()
    else:
        layer = ref.Affine(a["W"], a["b"])
    layer.forward(a["x"])
    layer.backward(a["dout"])


@pytest.mark.parametrize("task", ["maxpool_backward", "maxpool_forward"])
@pytest.mark.parametrize("cfg", H.CONV_CONFIGS[:12], ids=H.ids(H.CONV_CONFIGS[:12]))
def test_maxpool_ties_first_max_wins(task, cfg):
    """Small-integer inputs have many ties (also with the padding zeros): first max wins."""
    inputs = H.make_inputs(task, cfg, seed=3, ties=True)
    actual = H.run_task(task, H.reference(task), cfg, inputs)
    H.assert_same(actual, H.naive_outputs(task, cfg, inputs), where=f"{task} ties {cfg}")


def test_maxpool_padding_zero_is_a_candidate():
    """All-negative input with padding: border windows take the padding zero as maximum,
    and the gradient sent to it is cropped away."""
    ref = H.reference("maxpool_backward")
    x = -np.arange(1, 5, dtype=float).reshape(1, 1, 2, 2)
    layer = ref.MaxPool(2, 2, 2, 1)  # every window: one real value, three padding zeros
    out = layer.forward(x)
    np.testing.assert_array_equal(out[0, 0], np.zeros((2, 2)))
    dx = layer.backward(np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(dx, np.zeros_like(x))


def test_maxpool_overlaps_accumulate():
    ref = H.reference("maxpool_backward")
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0  # the maximum of all four overlapping 2x2 windows
    layer = ref.MaxPool(2, 2, 1, 0)
    layer.forward(x)
    dx = layer.backward(np.arange(1, 5, dtype=float).reshape(1, 1, 2, 2))
    assert dx[0, 0, 1, 1] == 10.0 and np.count_nonzero(dx) == 1


def test_avgpool_counts_padding():
    ref = H.reference("avgpool_backward")
    layer = ref.AvgPool(2, 2, 2, 1)
    out = layer.forward(np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(out[0, 0], np.full((2, 2), 0.25))


def test_relu_does_not_modify_dout_and_zero_gets_no_gradient():
    ref = H.reference("relu_backward")
    layer = ref.Relu()
    x = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(layer.forward(x), [[0.0, 0.0, 2.0]])
    dout = np.array([[5.0, 6.0, 7.0]])
    np.testing.assert_array_equal(layer.backward(dout), [[0.0, 0.0, 7.0]])
    np.testing.assert_array_equal(dout, [[5.0, 6.0, 7.0]])


def test_affine_keeps_original_shape():
    ref = H.reference("affine_backward")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 4, 5))
    layer = ref.Affine(rng.normal(size=(60, 7)), rng.normal(size=7))
    assert layer.forward(x).shape == (2, 7)
    assert layer.backward(rng.normal(size=(2, 7))).shape == x.shape
    assert layer.dW.shape == (60, 7) and layer.db.shape == (7,)


def test_conv_forward_reference_equals_conv_backward_reference():
    for cfg in H.CONV_CONFIGS[:10]:
        inputs = H.make_inputs("conv_backward", cfg)
        a = H.run_task("conv_backward", H.reference("conv_forward"), cfg, inputs)
        b = H.run_task("conv_backward", H.reference("conv_backward"), cfg, inputs)
        H.assert_same(a, b, where=str(cfg))


@pytest.mark.parametrize("cfg", H.CONV_TRANSPOSE_CONFIGS, ids=H.ids(H.CONV_TRANSPOSE_CONFIGS))
def test_conv_transpose_is_adjoint_of_conv(cfg):
    """<conv(y), x> == <y, conv_transpose(x)> with zero bias and the same W (C_in of the
    transposed conv = FN of the conv), where y has the transposed conv's output size."""
    rng = np.random.default_rng(11)
    ref_t, ref_c = H.reference("conv_transpose"), H.reference("conv_backward")
    C_out = cfg.FN
    W = rng.normal(size=(cfg.C, C_out, cfg.FH, cfg.FW))
    x = rng.normal(size=(cfg.N, cfg.C, cfg.H, cfg.W))
    t = ref_t.ConvTranspose(W, np.zeros(C_out), cfg.stride, cfg.pad).forward(x)
    y = rng.normal(size=t.shape)
    conv = ref_c.Convolution(W, np.zeros(cfg.C), cfg.stride, cfg.pad).forward(y)
    assert conv.shape == x.shape
    assert np.sum(conv * x) == pytest.approx(np.sum(y * t), rel=1e-10, abs=1e-10)
