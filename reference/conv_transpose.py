"""Reference solution: transposed convolution ("deconvolution") forward and backward
(hidden from students).

ConvTranspose(W, b, stride=1, pad=0)
    W: (C_in, C_out, FH, FW), b: (C_out,)
    forward(x):     x (N, C_in, H, W) -> out (N, C_out, out_h, out_w) with
                    out_h = (H - 1)*stride - 2*pad + FH, out_w = (W - 1)*stride - 2*pad + FW.
                    x[n, ci, i, j] * W[ci, co] is added at (i*stride, j*stride) of a padded
                    canvas (overlaps summed), then pad rows/columns are cropped on each
                    side and b is added.  Same as torch.nn.functional.conv_transpose2d.
                    It is the adjoint of Convolution (stride, pad) with the same W.
    backward(dout): dout (N, C_out, out_h, out_w) -> dx (N, C_in, H, W);
                    sets self.dW (C_in, C_out, FH, FW) and self.db (C_out,).
forward = col2im of a matrix product, backward = im2col of dout.
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


class ConvTranspose:
    """Transposed convolution. W: (C_in, C_out, FH, FW), b: (C_out,)."""

    def __init__(self, W, b, stride=1, pad=0):
        self.W = np.asarray(W, dtype=np.float64)
        self.b = np.asarray(b, dtype=np.float64)
        self.stride = stride
        self.pad = pad
        self.x = None
        self.x_row = None
        self.dW = None
        self.db = None

    def forward(self, x):
        """x: (N, C_in, H, W) -> out: (N, C_out, (H-1)*stride-2*pad+FH, (W-1)*stride-2*pad+FW)."""
        x = np.asarray(x, dtype=np.float64)
        C_in, C_out, FH, FW = self.W.shape
        N, _, H, W = x.shape
        out_h = (H - 1) * self.stride - 2 * self.pad + FH
        out_w = (W - 1) * self.stride - 2 * self.pad + FW
        x_row = x.transpose(0, 2, 3, 1).reshape(-1, C_in)  # rows (n, i, j)
        col = x_row @ self.W.reshape(C_in, -1)  # (N*H*W, C_out*FH*FW), columns (co, kh, kw)
        out = col2im(col, (N, C_out, out_h, out_w), FH, FW, self.stride, self.pad)
        out = out + self.b.reshape(1, C_out, 1, 1)
        self.x = x
        self.x_row = x_row
        return out

    def backward(self, dout):
        """dout: (N, C_out, out_h, out_w) -> dx: (N, C_in, H, W); sets dW (C_in, C_out, FH, FW), db (C_out,)."""
        dout = np.asarray(dout, dtype=np.float64)
        C_in, C_out, FH, FW = self.W.shape
        N, _, H, W = self.x.shape
        dcol = im2col(dout, FH, FW, self.stride, self.pad)  # (N*H*W, C_out*FH*FW)
        self.db = dout.sum(axis=(0, 2, 3))
        self.dW = (self.x_row.T @ dcol).reshape(C_in, C_out, FH, FW)
        dx_row = dcol @ self.W.reshape(C_in, -1).T  # (N*H*W, C_in)
        return np.ascontiguousarray(dx_row.reshape(N, H, W, C_in).transpose(0, 3, 1, 2))
