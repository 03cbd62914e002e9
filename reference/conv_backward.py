"""Reference solution: convolution layer backward (hidden from students).

Convolution(W, b, stride=1, pad=0)
    W: (FN, C, FH, FW), b: (FN,)
    forward(x):     x (N, C, H, W) -> out (N, FN, out_h, out_w)
    backward(dout): dout (N, FN, out_h, out_w) -> dx (N, C, H, W);
                    sets self.dW (FN, C, FH, FW) and self.db (FN,)
out_h = (H + 2*pad - FH) // stride + 1, out_w = (W + 2*pad - FW) // stride + 1.
Self-contained (numpy only); inputs are never modified.
"""

import numpy as np


def _out_size(size, filter_size, stride, pad):
    return (size + 2 * pad - filter_size) // stride + 1


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """(N, C, H, W) -> (N*out_h*out_w, C*filter_h*filter_w); rows (n, oh, ow), columns (c, kh, kw)."""
    x = np.asarray(input_data, dtype=np.float64)
    N, C, H, W = x.shape
    out_h = _out_size(H, filter_h, stride, pad)
    out_w = _out_size(W, filter_w, stride, pad)
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=np.float64)
    img[:, :, pad:pad + H, pad:pad + W] = x
    # Every window as a view of img, already in the rows' and columns' order; the reshape copies
    # it. (np.pad and sliding_window_view cost a grading service more than a small case's arithmetic.)
    n_step, c_step, h_step, w_step = img.strides
    windows = np.ndarray((N, out_h, out_w, C, filter_h, filter_w), np.float64, img,
                         strides=(n_step, h_step * stride, w_step * stride, c_step, h_step, w_step))
    return windows.reshape(N * out_h * out_w, C * filter_h * filter_w)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """Adjoint of im2col: overlapping entries are summed, padding is cropped; returns input_shape."""
    N, C, H, W = (int(s) for s in input_shape)
    out_h = _out_size(H, filter_h, stride, pad)
    out_w = _out_size(W, filter_w, stride, pad)
    cols = np.asarray(col, dtype=np.float64).reshape(N, out_h, out_w, C, filter_h, filter_w)
    cols = cols.transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=np.float64)
    for kh in range(filter_h):
        h_stop = kh + stride * (out_h - 1) + 1
        for kw in range(filter_w):
            w_stop = kw + stride * (out_w - 1) + 1
            img[:, :, kh:h_stop:stride, kw:w_stop:stride] += cols[:, :, kh, kw, :, :]
    return img[:, :, pad:pad + H, pad:pad + W].copy()


class Convolution:
    """Convolution layer. W: (FN, C, FH, FW), b: (FN,)."""

    def __init__(self, W, b, stride=1, pad=0):
        self.W = np.asarray(W, dtype=np.float64)
        self.b = np.asarray(b, dtype=np.float64)
        self.stride = stride
        self.pad = pad
        self.x = None
        self.col = None
        self.col_W = None
        self.dW = None
        self.db = None

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, FN, out_h, out_w)."""
        x = np.asarray(x, dtype=np.float64)
        FN, C, FH, FW = self.W.shape
        N, _, H, W = x.shape
        out_h = _out_size(H, FH, self.stride, self.pad)
        out_w = _out_size(W, FW, self.stride, self.pad)
        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T
        out = col @ col_W + self.b
        out = out.reshape(N, out_h, out_w, FN).transpose(0, 3, 1, 2)
        self.x = x
        self.col = col
        self.col_W = col_W
        return np.ascontiguousarray(out)

    def backward(self, dout):
        """dout: (N, FN, out_h, out_w) -> dx: (N, C, H, W); sets dW (FN, C, FH, FW), db (FN,)."""
        FN, C, FH, FW = self.W.shape
        dout = np.asarray(dout, dtype=np.float64).transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = dout.sum(axis=0)
        self.dW = (self.col.T @ dout).T.reshape(FN, C, FH, FW)
        dcol = dout @ self.col_W.T
        return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)
