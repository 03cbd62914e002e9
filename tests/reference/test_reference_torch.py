"""The references against PyTorch (optional: skipped when torch is not installed).

Notes: torch pads max_pool2d with -inf while the textbook pads with zeros, so max-pool
is compared with pad = 0, or with strictly positive inputs when pad > 0 (torch also
requires pad <= kernel/2, so every window then holds a real, positive value).
avg_pool2d is compared with count_include_pad=True.
"""

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

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOL = dict(rtol=1e-9, atol=1e-10)


def _t(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def _pool_ok(cfg):
    return 2 * cfg.pad <= cfg.FH and 2 * cfg.pad <= cfg.FW


@pytest.mark.parametrize("cfg", H.CONV_CONFIGS, ids=H.ids(H.CONV_CONFIGS))
def test_conv_vs_torch(cfg):
    a = H.make_inputs("conv_backward", cfg)
    got = H.run_task("conv_backward", H.reference("conv_backward"), cfg, a)
    x, W, b = _t(a["x"], True), _t(a["W"], True), _t(a["b"], True)
    out = F.conv2d(x, W, b, stride=cfg.stride, padding=cfg.pad)
    (out * _t(a["dout"])).sum().backward()
    np.testing.assert_allclose(got["out"], out.detach().numpy(), **TOL)
    np.testing.assert_allclose(got["dx"], x.grad.numpy(), **TOL)
    np.testing.assert_allclose(got["dW"], W.grad.numpy(), **TOL)
    np.testing.assert_allclose(got["db"], b.grad.numpy(), **TOL)
    fwd = H.run_task("conv_forward", H.reference("conv_forward"), cfg, a)
    np.testing.assert_allclose(fwd["out"], out.detach().numpy(), **TOL)


POOL_CFGS = [c for c in H.CONV_CONFIGS if _pool_ok(c)]


@pytest.mark.parametrize("cfg", POOL_CFGS, ids=H.ids(POOL_CFGS))
def test_maxpool_vs_torch(cfg):
    a = H.make_inputs("maxpool_backward", cfg)
    if cfg.pad > 0:
        a["x"] = np.abs(a["x"]) + 0.1  # torch pads with -inf, the textbook with 0
    x = _t(a["x"], True)
    out = F.max_pool2d(x, (cfg.FH, cfg.FW), stride=cfg.stride, padding=cfg.pad)
    (out * _t(a["dout"])).sum().backward()
    for task in ("maxpool_backward", "maxpool_forward"):
        got = H.run_task(task, H.reference(task), cfg, a)
        np.testing.assert_allclose(got["out"], out.detach().numpy(), **TOL)
        if "dx" in got:
            np.testing.assert_allclose(got["dx"], x.grad.numpy(), **TOL)


def test_maxpool_pad_differs_from_torch_on_negative_inputs():
    """Documents the padding convention: with all-negative inputs the textbook max-pool
    returns the padding zero where torch returns the real (negative) maximum."""
    x = -np.ones((1, 1, 2, 2))
    ours = H.reference("maxpool_forward").MaxPool(2, 2, 2, 1).forward(x)
    theirs = F.max_pool2d(_t(x), 2, stride=2, padding=1).numpy()
    np.testing.assert_array_equal(ours, np.zeros((1, 1, 2, 2)))
    np.testing.assert_array_equal(theirs, -np.ones((1, 1, 2, 2)))


@pytest.mark.parametrize("cfg", POOL_CFGS, ids=H.ids(POOL_CFGS))
def test_avgpool_vs_torch(cfg):
    a = H.make_inputs("avgpool_backward", cfg)
    got = H.run_task("avgpool_backward", H.reference("avgpool_backward"), cfg, a)
    x = _t(a["x"], True)
    out = F.avg_pool2d(x, (cfg.FH, cfg.FW), stride=cfg.stride, padding=cfg.pad,
                       count_include_pad=True)
    (out * _t(a["dout"])).sum().backward()
    np.testing.assert_allclose(got["out"], out.detach().numpy(), **TOL)
    np.testing.assert_allclose(got["dx"], x.grad.numpy(), **TOL)


@pytest.mark.parametrize("cfg", H.CONV_TRANSPOSE_CONFIGS, ids=H.ids(H.CONV_TRANSPOSE_CONFIGS))
def test_conv_transpose_vs_torch(cfg):
    a = H.make_inputs("conv_transpose", cfg)
    got = H.run_task("conv_transpose", H.reference("conv_transpose"), cfg, a)
    x, W, b = _t(a["x"], True), _t(a["W"], True), _t(a["b"], True)
    out = F.conv_transpose2d(x, W, b, stride=cfg.stride, padding=cfg.pad)
    (out * _t(a["dout"])).sum().backward()
    np.testing.assert_allclose(got["out"], out.detach().numpy(), **TOL)
    np.testing.assert_allclose(got["dx"], x.grad.numpy(), **TOL)
    np.testing.assert_allclose(got["dW"], W.grad.numpy(), **TOL)
    np.testing.assert_allclose(got["db"], b.grad.numpy(), **TOL)


def test_im2col_vs_torch_unfold():
    """torch's unfold is im2col with (N, C*kh*kw, L) layout: transpose it to ours."""
    for cfg in H.CONV_CONFIGS:
        x = H.make_inputs("im2col", cfg)["x"]
        u = F.unfold(_t(x), (cfg.FH, cfg.FW), stride=cfg.stride, padding=cfg.pad).numpy()
        ours = H.reference("im2col").im2col(x, cfg.FH, cfg.FW, cfg.stride, cfg.pad)
        np.testing.assert_array_equal(ours, u.transpose(0, 2, 1).reshape(ours.shape))
        y = np.random.default_rng(1).normal(size=ours.shape)
        folded = F.fold(_t(y.reshape(cfg.N, -1, ours.shape[1]).transpose(0, 2, 1)),
                        (cfg.H, cfg.W), (cfg.FH, cfg.FW), stride=cfg.stride, padding=cfg.pad).numpy()
        np.testing.assert_allclose(
            H.reference("col2im").col2im(y, x.shape, cfg.FH, cfg.FW, cfg.stride, cfg.pad), folded, **TOL)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 7)])
def test_relu_and_affine_vs_torch(shape):
    rng = np.random.default_rng(2)
    xv = rng.normal(size=shape)
    dout = rng.normal(size=shape)
    x = _t(xv, True)
    (torch.relu(x) * _t(dout)).sum().backward()
    layer = H.reference("relu_backward").Relu()
    np.testing.assert_allclose(layer.forward(xv), torch.relu(_t(xv)).numpy(), **TOL)
    np.testing.assert_allclose(layer.backward(dout), x.grad.numpy(), **TOL)

    D, M = int(np.prod(shape[1:])), 3
    Wv, bv, dv = rng.normal(size=(D, M)), rng.normal(size=M), rng.normal(size=(shape[0], M))
    x, W, b = _t(xv, True), _t(Wv, True), _t(bv, True)
    out = x.reshape(shape[0], -1) @ W + b
    (out * _t(dv)).sum().backward()
    aff = H.reference("affine_backward").Affine(Wv, bv)
    np.testing.assert_allclose(aff.forward(xv), out.detach().numpy(), **TOL)
    np.testing.assert_allclose(aff.backward(dv), x.grad.numpy(), **TOL)
    np.testing.assert_allclose(aff.dW, W.grad.numpy(), **TOL)
    np.testing.assert_allclose(aff.db, b.grad.numpy(), **TOL)
