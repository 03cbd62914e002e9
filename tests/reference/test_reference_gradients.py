"""Finite-difference checks of every reference backward: with the scalar loss
L = sum(forward(...) * dout), the analytic dx, dW, db must equal dL/dx, dL/dW, dL/db."""

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

CFGS = H.GRADCHECK_CONFIGS
TOL = dict(rtol=1e-5, atol=1e-6)


def _check(analytic, f, x):
    numeric = H.naive().numerical_gradient(f, x)
    assert analytic.shape == numeric.shape
    np.testing.assert_allclose(analytic, numeric, **TOL)


@pytest.mark.parametrize("cfg", CFGS, ids=H.ids(CFGS))
def test_conv_gradients(cfg):
    ref = H.reference("conv_backward")
    a = H.make_inputs("conv_backward", cfg, seed=5)
    x, W, b, dout, s, p = a["x"], a["W"], a["b"], a["dout"], cfg.stride, cfg.pad
    layer = ref.Convolution(W.copy(), b.copy(), s, p)
    layer.forward(x.copy())
    dx = layer.backward(dout.copy())
    _check(dx, lambda v: np.sum(ref.Convolution(W, b, s, p).forward(v) * dout), x)
    _check(layer.dW, lambda v: np.sum(ref.Convolution(v, b, s, p).forward(x) * dout), W)
    _check(layer.db, lambda v: np.sum(ref.Convolution(W, v, s, p).forward(x) * dout), b)


@pytest.mark.parametrize("cfg", CFGS, ids=H.ids(CFGS))
def test_conv_transpose_gradients(cfg):
    if not H.conv_transpose_cfg_ok(cfg):
        pytest.skip("no valid output size")
    ref = H.reference("conv_transpose")
    a = H.make_inputs("conv_transpose", cfg, seed=5)
    x, W, b, dout, s, p = a["x"], a["W"], a["b"], a["dout"], cfg.stride, cfg.pad
    layer = ref.ConvTranspose(W.copy(), b.copy(), s, p)
    layer.forward(x.copy())
    dx = layer.backward(dout.copy())
    _check(dx, lambda v: np.sum(ref.ConvTranspose(W, b, s, p).forward(v) * dout), x)
    _check(layer.dW, lambda v: np.sum(ref.ConvTranspose(v, b, s, p).forward(x) * dout), W)
    _check(layer.db, lambda v: np.sum(ref.ConvTranspose(W, v, s, p).forward(x) * dout), b)


@pytest.mark.parametrize("task,cls", [("maxpool_backward", "MaxPool"), ("avgpool_backward", "AvgPool")])
@pytest.mark.parametrize("cfg", CFGS, ids=H.ids(CFGS))
def test_pool_gradients(task, cls, cfg):
    ref = H.reference(task)
    a = H.make_inputs(task, cfg, seed=5)
    x, dout = a["x"], a["dout"]
    make = lambda: getattr(ref, cls)(cfg.FH, cfg.FW, cfg.stride, cfg.pad)
    layer = make()
    layer.forward(x.copy())
    dx = layer.backward(dout.copy())
    _check(dx, lambda v: np.sum(make().forward(v) * dout), x)


def test_relu_gradient():
    ref = H.reference("relu_backward")
    rng = np.random.default_rng(5)
    x, dout = rng.normal(size=(2, 3, 4, 3)), rng.normal(size=(2, 3, 4, 3))
    layer = ref.Relu()
    layer.forward(x.copy())
    _check(layer.backward(dout.copy()), lambda v: np.sum(ref.Relu().forward(v) * dout), x)


@pytest.mark.parametrize("x_shape", [(3, 5), (2, 3, 2, 2), (1, 1, 1, 4)])
def test_affine_gradients(x_shape):
    ref = H.reference("affine_backward")
    rng = np.random.default_rng(5)
    x = rng.normal(size=x_shape)
    D, M = int(np.prod(x_shape[1:])), 4
    W, b, dout = rng.normal(size=(D, M)), rng.normal(size=M), rng.normal(size=(x_shape[0], M))
    layer = ref.Affine(W.copy(), b.copy())
    layer.forward(x.copy())
    dx = layer.backward(dout.copy())
    _check(dx, lambda v: np.sum(ref.Affine(W, b).forward(v) * dout), x)
    _check(layer.dW, lambda v: np.sum(ref.Affine(v, b).forward(x) * dout), W)
    _check(layer.db, lambda v: np.sum(ref.Affine(W, v).forward(x) * dout), b)


def test_numerical_gradient_helper_is_right():
    """The helper itself, on a function with a known gradient."""
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = H.naive().numerical_gradient(lambda v: np.sum(v ** 3), x)
    np.testing.assert_allclose(grad, 3 * x ** 2, rtol=1e-6)
    np.testing.assert_array_equal(x, [[1.0, -2.0], [0.5, 3.0]])
