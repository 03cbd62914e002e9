"""The im2col and col2im references against naive loops, and their adjoint identity."""

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
from hypothesis import given, settings
from hypothesis import strategies as st

CONFIGS = H.CONV_CONFIGS


@pytest.mark.parametrize("module", ["im2col", "conv_backward"])
@pytest.mark.parametrize("cfg", CONFIGS, ids=H.ids(CONFIGS))
def test_im2col_matches_naive(cfg, module):
    # conv_backward's reference has an im2col of its own (its forward's, and the misconceptions' self.col).
    inputs = H.make_inputs("im2col", cfg)
    x_before = inputs["x"].copy()
    col = H.reference(module).im2col(inputs["x"], cfg.FH, cfg.FW, cfg.stride, cfg.pad)
    assert col.dtype == np.float64
    assert col.shape == (cfg.N * cfg.out_h * cfg.out_w, cfg.C * cfg.FH * cfg.FW)
    np.testing.assert_allclose(col, H.naive().im2col(inputs["x"], cfg.FH, cfg.FW, cfg.stride, cfg.pad),
                               rtol=0, atol=0)
    np.testing.assert_array_equal(inputs["x"], x_before)  # input untouched


@pytest.mark.parametrize("cfg", CONFIGS, ids=H.ids(CONFIGS))
def test_col2im_matches_naive(cfg):
    inputs = H.make_inputs("col2im", cfg)
    col_before = inputs["col"].copy()
    img = H.reference("col2im").col2im(inputs["col"], inputs["x_shape"], cfg.FH, cfg.FW, cfg.stride, cfg.pad)
    assert img.dtype == np.float64
    assert img.shape == inputs["x_shape"]
    expected = H.naive().col2im(inputs["col"], inputs["x_shape"], cfg.FH, cfg.FW, cfg.stride, cfg.pad)
    np.testing.assert_allclose(img, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(inputs["col"], col_before)


@pytest.mark.parametrize("cfg", CONFIGS, ids=H.ids(CONFIGS))
def test_adjoint_identity(cfg):
    """<im2col(x), y> == <x, col2im(y)> for every x, y."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(cfg.N, cfg.C, cfg.H, cfg.W))
    y = rng.normal(size=(cfg.N * cfg.out_h * cfg.out_w, cfg.C * cfg.FH * cfg.FW))
    lhs = np.sum(H.reference("im2col").im2col(x, cfg.FH, cfg.FW, cfg.stride, cfg.pad) * y)
    rhs = np.sum(x * H.reference("col2im").col2im(y, x.shape, cfg.FH, cfg.FW, cfg.stride, cfg.pad))
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


def test_col2im_sums_overlaps():
    """All-ones columns: each input position receives the number of windows covering it."""
    ones = np.ones((1 * 3 * 3, 1 * 3 * 3))  # 5x5 input, 3x3 windows, stride 1 -> 3x3 outputs
    img = H.reference("col2im").col2im(ones, (1, 1, 5, 5), 3, 3, 1, 0)
    counts = np.array([1, 2, 3, 2, 1], dtype=float)
    np.testing.assert_array_equal(img[0, 0], np.outer(counts, counts))


def test_im2col_layout_small_example():
    """Rows (n, oh, ow), columns (c, kh, kw) on a hand-checkable case."""
    x = np.arange(2 * 2 * 3 * 3, dtype=float).reshape(2, 2, 3, 3)
    col = H.reference("im2col").im2col(x, 2, 2, 1, 0)
    assert col.shape == (2 * 2 * 2, 2 * 2 * 2)
    # row 3 = (n=0, oh=1, ow=1); columns 4..7 = channel 1's 2x2 window
    np.testing.assert_array_equal(col[3, 4:], [13, 14, 16, 17])
    # row 4 = (n=1, oh=0, ow=0); column 1 = (c=0, kh=0, kw=1)
    assert col[4, 1] == x[1, 0, 0, 1]


def test_im2col_zero_padding():
    x = np.ones((1, 1, 1, 1))
    col = H.reference("im2col").im2col(x, 3, 3, 1, 1)
    np.testing.assert_array_equal(col, [[0, 0, 0, 0, 1, 0, 0, 0, 0]])


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(N=st.integers(1, 3), C=st.integers(1, 3), Hs=st.integers(1, 7), Ws=st.integers(1, 7),
       stride=st.integers(1, 3), pad=st.integers(0, 2), data=st.data())
def test_adjoint_identity_hypothesis(N, C, Hs, Ws, stride, pad, data):
    FH = data.draw(st.integers(1, Hs + 2 * pad))
    FW = data.draw(st.integers(1, Ws + 2 * pad))
    rng = np.random.default_rng(N * 1000 + C * 100 + Hs * 10 + Ws)
    x = rng.normal(size=(N, C, Hs, Ws))
    cols = H.reference("im2col").im2col(x, FH, FW, stride, pad)
    y = rng.normal(size=cols.shape)
    back = H.reference("col2im").col2im(y, x.shape, FH, FW, stride, pad)
    assert back.shape == x.shape
    assert np.sum(cols * y) == pytest.approx(np.sum(x * back), rel=1e-10, abs=1e-10)
