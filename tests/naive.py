"""Obviously-correct pure-Python loop implementations of the CNN layers, for testing.

Nothing here uses im2col, strided views or clever indexing: every output entry is
computed by explicit loops over its definition, so that the references (and the
examples) can be checked against something that is easy to read.

Conventions (those of the textbook 《深度学习入门》 / "Deep Learning from Scratch"):

* images are (N, C, H, W), convolution weights (FN, C, FH, FW), bias (FN,);
* out_h = (H + 2*pad - FH) // stride + 1, out_w = (W + 2*pad - FW) // stride + 1;
* padding is zero padding; for max pooling the padding zeros take part in the max
  and, on ties, the FIRST maximum in (kh, kw) row-major order wins;
* im2col: (N*out_h*out_w, C*FH*FW), rows ordered (n, oh, ow), columns (c, kh, kw);
* average pooling always divides by pool_h*pool_w (count_include_pad semantics);
* transposed convolution weights are (C_in, C_out, FH, FW) (as in PyTorch) and
  out_h = (H - 1)*stride - 2*pad + FH.

Backward functions take the upstream gradient ``dout`` of the forward output and
return the gradients of the scalar L = sum(forward(...) * dout).
"""

import numpy as np


def out_size(size, filter_size, stride=1, pad=0):
    """Output length of a convolution / pooling along one axis."""
    return (size + 2 * pad - filter_size) // stride + 1


def _padded_value(x, n, c, hp, wp, pad):
    """x[n, c] read at coordinates (hp, wp) of the zero-padded image."""
    h, w = hp - pad, wp - pad
    if 0 <= h < x.shape[2] and 0 <= w < x.shape[3]:
        return float(x[n, c, h, w])
    return 0.0


# ----------------------------------------------------------------------------- im2col

def im2col(x, filter_h, filter_w, stride=1, pad=0):
    """(N, C, H, W) -> (N*out_h*out_w, C*filter_h*filter_w)."""
    N, C, H, W = x.shape
    out_h = out_size(H, filter_h, stride, pad)
    out_w = out_size(W, filter_w, stride, pad)
    col = np.zeros((N * out_h * out_w, C * filter_h * filter_w))
    for n in range(N):
        for i in range(out_h):
            for j in range(out_w):
                row = (n * out_h + i) * out_w + j
                for c in range(C):
                    for kh in range(filter_h):
                        for kw in range(filter_w):
                            column = (c * filter_h + kh) * filter_w + kw
                            col[row, column] = _padded_value(
                                x, n, c, i * stride + kh, j * stride + kw, pad)
    return col


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """(N*out_h*out_w, C*filter_h*filter_w) -> (N, C, H, W): every entry is added back
    to the input position it came from (overlaps summed, padding dropped)."""
    N, C, H, W = input_shape
    out_h = out_size(H, filter_h, stride, pad)
    out_w = out_size(W, filter_w, stride, pad)
    assert col.shape == (N * out_h * out_w, C * filter_h * filter_w)
    img = np.zeros((N, C, H, W))
    for n in range(N):
        for i in range(out_h):
            for j in range(out_w):
                row = (n * out_h + i) * out_w + j
                for c in range(C):
                    for kh in range(filter_h):
                        for kw in range(filter_w):
                            column = (c * filter_h + kh) * filter_w + kw
                            h = i * stride + kh - pad
                            w = j * stride + kw - pad
                            if 0 <= h < H and 0 <= w < W:
                                img[n, c, h, w] += col[row, column]
    return img


# ------------------------------------------------------------------------ convolution

def conv_forward(x, W, b, stride=1, pad=0):
    """x (N, C, H, W), W (FN, C, FH, FW), b (FN,) -> (N, FN, out_h, out_w)."""
    N, C, H, Wd = x.shape
    FN, C2, FH, FW = W.shape
    assert C == C2
    out_h = out_size(H, FH, stride, pad)
    out_w = out_size(Wd, FW, stride, pad)
    out = np.zeros((N, FN, out_h, out_w))
    for n in range(N):
        for f in range(FN):
            for i in range(out_h):
                for j in range(out_w):
                    total = float(b[f])
                    for c in range(C):
                        for kh in range(FH):
                            for kw in range(FW):
                                total += W[f, c, kh, kw] * _padded_value(
                                    x, n, c, i * stride + kh, j * stride + kw, pad)
                    out[n, f, i, j] = total
    return out


def conv_backward(x, W, dout, stride=1, pad=0):
    """Gradients of L = sum(conv_forward(x, W, b) * dout): returns (dx, dW, db)."""
    N, C, H, Wd = x.shape
    FN, _, FH, FW = W.shape
    out_h = out_size(H, FH, stride, pad)
    out_w = out_size(Wd, FW, stride, pad)
    assert dout.shape == (N, FN, out_h, out_w)
    dx = np.zeros(x.shape)
    dW = np.zeros(W.shape)
    db = np.zeros(FN)
    for n in range(N):
        for f in range(FN):
            for i in range(out_h):
                for j in range(out_w):
                    g = dout[n, f, i, j]
                    db[f] += g
                    for c in range(C):
                        for kh in range(FH):
                            for kw in range(FW):
                                h = i * stride + kh - pad
                                w = j * stride + kw - pad
                                if 0 <= h < H and 0 <= w < Wd:
                                    dW[f, c, kh, kw] += g * x[n, c, h, w]
                                    dx[n, c, h, w] += g * W[f, c, kh, kw]
    return dx, dW, db


# ---------------------------------------------------------------------------- pooling

def _maxpool_argmax(x, n, c, i, j, pool_h, pool_w, stride, pad):
    """(value, kh, kw) of the first maximum of one window of the zero-padded input."""
    best, best_kh, best_kw = None, 0, 0
    for kh in range(pool_h):
        for kw in range(pool_w):
            v = _padded_value(x, n, c, i * stride + kh, j * stride + kw, pad)
            if best is None or v > best:
                best, best_kh, best_kw = v, kh, kw
    return best, best_kh, best_kw


def maxpool_forward(x, pool_h, pool_w, stride=1, pad=0):
    """(N, C, H, W) -> (N, C, out_h, out_w); padding zeros take part in the max."""
    N, C, H, W = x.shape
    out_h = out_size(H, pool_h, stride, pad)
    out_w = out_size(W, pool_w, stride, pad)
    out = np.zeros((N, C, out_h, out_w))
    for n in range(N):
        for c in range(C):
            for i in range(out_h):
                for j in range(out_w):
                    out[n, c, i, j] = _maxpool_argmax(x, n, c, i, j, pool_h, pool_w, stride, pad)[0]
    return out


def maxpool_backward(x, dout, pool_h, pool_w, stride=1, pad=0):
    """dx: each dout goes to its window's first maximum (summed over windows,
    dropped if the maximum is a padding zero)."""
    N, C, H, W = x.shape
    out_h = out_size(H, pool_h, stride, pad)
    out_w = out_size(W, pool_w, stride, pad)
    assert dout.shape == (N, C, out_h, out_w)
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(out_h):
                for j in range(out_w):
                    _, kh, kw = _maxpool_argmax(x, n, c, i, j, pool_h, pool_w, stride, pad)
                    h = i * stride + kh - pad
                    w = j * stride + kw - pad
                    if 0 <= h < H and 0 <= w < W:
                        dx[n, c, h, w] += dout[n, c, i, j]
    return dx


def avgpool_forward(x, pool_h, pool_w, stride=1, pad=0):
    """(N, C, H, W) -> (N, C, out_h, out_w); each window sum divided by pool_h*pool_w."""
    N, C, H, W = x.shape
    out_h = out_size(H, pool_h, stride, pad)
    out_w = out_size(W, pool_w, stride, pad)
    out = np.zeros((N, C, out_h, out_w))
    for n in range(N):
        for c in range(C):
            for i in range(out_h):
                for j in range(out_w):
                    total = 0.0
                    for kh in range(pool_h):
                        for kw in range(pool_w):
                            total += _padded_value(x, n, c, i * stride + kh, j * stride + kw, pad)
                    out[n, c, i, j] = total / (pool_h * pool_w)
    return out


def avgpool_backward(x_shape, dout, pool_h, pool_w, stride=1, pad=0):
    """dx of shape x_shape: every window entry receives dout / (pool_h*pool_w)."""
    N, C, H, W = x_shape
    out_h = out_size(H, pool_h, stride, pad)
    out_w = out_size(W, pool_w, stride, pad)
    assert dout.shape == (N, C, out_h, out_w)
    dx = np.zeros(x_shape)
    for n in range(N):
        for c in range(C):
            for i in range(out_h):
                for j in range(out_w):
                    for kh in range(pool_h):
                        for kw in range(pool_w):
                            h = i * stride + kh - pad
                            w = j * stride + kw - pad
                            if 0 <= h < H and 0 <= w < W:
                                dx[n, c, h, w] += dout[n, c, i, j] / (pool_h * pool_w)
    return dx


# -------------------------------------------------------------- transposed convolution

def conv_transpose_out_size(size, filter_size, stride=1, pad=0):
    return (size - 1) * stride - 2 * pad + filter_size


def conv_transpose_forward(x, W, b, stride=1, pad=0):
    """x (N, C_in, H, W), W (C_in, C_out, FH, FW), b (C_out,) ->
    (N, C_out, (H-1)*stride-2*pad+FH, (W-1)*stride-2*pad+FW), by scatter loops."""
    N, C_in, H, Wd = x.shape
    C_in2, C_out, FH, FW = W.shape
    assert C_in == C_in2
    out_h = conv_transpose_out_size(H, FH, stride, pad)
    out_w = conv_transpose_out_size(Wd, FW, stride, pad)
    out = np.zeros((N, C_out, out_h, out_w))
    for n in range(N):
        for ci in range(C_in):
            for i in range(H):
                for j in range(Wd):
                    for co in range(C_out):
                        for kh in range(FH):
                            for kw in range(FW):
                                h = i * stride + kh - pad
                                w = j * stride + kw - pad
                                if 0 <= h < out_h and 0 <= w < out_w:
                                    out[n, co, h, w] += x[n, ci, i, j] * W[ci, co, kh, kw]
    for n in range(N):
        for co in range(C_out):
            for h in range(out_h):
                for w in range(out_w):
                    out[n, co, h, w] += b[co]
    return out


def conv_transpose_backward(x, W, dout, stride=1, pad=0):
    """Gradients of L = sum(conv_transpose_forward(x, W, b) * dout): (dx, dW, db)."""
    N, C_in, H, Wd = x.shape
    _, C_out, FH, FW = W.shape
    out_h = conv_transpose_out_size(H, FH, stride, pad)
    out_w = conv_transpose_out_size(Wd, FW, stride, pad)
    assert dout.shape == (N, C_out, out_h, out_w)
    dx = np.zeros(x.shape)
    dW = np.zeros(W.shape)
    db = np.zeros(C_out)
    for n in range(N):
        for co in range(C_out):
            for h in range(out_h):
                for w in range(out_w):
                    db[co] += dout[n, co, h, w]
    for n in range(N):
        for ci in range(C_in):
            for i in range(H):
                for j in range(Wd):
                    for co in range(C_out):
                        for kh in range(FH):
                            for kw in range(FW):
                                h = i * stride + kh - pad
                                w = j * stride + kw - pad
                                if 0 <= h < out_h and 0 <= w < out_w:
                                    dx[n, ci, i, j] += dout[n, co, h, w] * W[ci, co, kh, kw]
                                    dW[ci, co, kh, kw] += dout[n, co, h, w] * x[n, ci, i, j]
    return dx, dW, db


# ------------------------------------------------------------------------ relu, affine

def relu_forward(x):
    out = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        out[idx] = x[idx] if x[idx] > 0 else 0.0
    return out


def relu_backward(x, dout):
    """dx = dout where x > 0, else 0 (the gradient at x == 0 is taken as 0)."""
    dx = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        dx[idx] = dout[idx] if x[idx] > 0 else 0.0
    return dx


def affine_forward(x, W, b):
    """x (N, ...) flattened to (N, D); W (D, M); b (M,) -> (N, M)."""
    N = x.shape[0]
    D, M = W.shape
    flat = x.reshape(N, -1)
    assert flat.shape[1] == D
    out = np.zeros((N, M))
    for n in range(N):
        for m in range(M):
            total = float(b[m])
            for d in range(D):
                total += flat[n, d] * W[d, m]
            out[n, m] = total
    return out


def affine_backward(x, W, dout):
    """(dx in the shape of x, dW (D, M), db (M,))."""
    N = x.shape[0]
    D, M = W.shape
    flat = x.reshape(N, -1)
    dflat = np.zeros((N, D))
    dW = np.zeros((D, M))
    db = np.zeros(M)
    for n in range(N):
        for m in range(M):
            db[m] += dout[n, m]
            for d in range(D):
                dflat[n, d] += dout[n, m] * W[d, m]
                dW[d, m] += flat[n, d] * dout[n, m]
    return dflat.reshape(x.shape), dW, db


# ------------------------------------------------------------------ finite differences

def numerical_gradient(f, x, eps=1e-6):
    """Central finite-difference gradient of the scalar function ``f`` at the array ``x``.

    ``x`` is perturbed in place one entry at a time and restored afterwards, so ``f``
    may close over ``x`` (e.g. ``lambda _: loss()`` where loss reads a layer's weights).
    Returns an array of x's shape (float64).
    """
    x = np.asarray(x)
    if x.dtype != np.float64:
        raise TypeError("numerical_gradient needs a float64 array it can perturb in place")
    grad = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        saved = x[idx]
        x[idx] = saved + eps
        f_plus = float(f(x))
        x[idx] = saved - eps
        f_minus = float(f(x))
        x[idx] = saved
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad
