"""Reference solution: max-pooling layer forward (hidden from students).

MaxPool(pool_h, pool_w, stride=1, pad=0)
    forward(x): x (N, C, H, W) -> out (N, C, out_h, out_w), the maximum of each
                pool_h x pool_w window of the zero-padded input (padding zeros count).
    (backward is included as well, identical to the maxpool_backward reference)
out_h = (H + 2*pad - pool_h) // stride + 1, out_w = (W + 2*pad - pool_w) // stride + 1.
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
    img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode="constant")
    windows = np.lib.stride_tricks.sliding_window_view(img, (filter_h, filter_w), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :out_h, :out_w]
    col = windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * out_h * out_w, C * filter_h * filter_w)
    return np.ascontiguousarray(col, dtype=np.float64)


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


class MaxPool:
    """Max pooling with zero padding (textbook semantics: padding zeros take part in the max)."""

    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad
        self.x = None
        self.arg_max = None

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, C, out_h, out_w)."""
        x = np.asarray(x, dtype=np.float64)
        N, C, H, W = x.shape
        out_h = _out_size(H, self.pool_h, self.stride, self.pad)
        out_w = _out_size(W, self.pool_w, self.stride, self.pad)
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)  # rows (n, oh, ow, c)
        self.arg_max = np.argmax(col, axis=1)  # the first maximum wins
        out = np.max(col, axis=1).reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)
        self.x = x
        return np.ascontiguousarray(out)

    def backward(self, dout):
        """dout: (N, C, out_h, out_w) -> dx: (N, C, H, W); overlapping windows accumulate."""
        dout = np.asarray(dout, dtype=np.float64).transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size), dtype=np.float64)
        dmax[np.arange(self.arg_max.size), self.arg_max] = dout.reshape(-1)
        dcol = dmax.reshape(-1, self.x.shape[1] * pool_size)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)
