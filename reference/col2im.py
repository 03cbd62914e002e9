"""Reference solution: col2im (hidden from students).

col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0)
    col:         (N*out_h*out_w, C*filter_h*filter_w), rows (n, oh, ow), columns (c, kh, kw)
    input_shape: (N, C, H, W)
    returns:     (N, C, H, W), float64
The exact adjoint of im2col: every column entry is added back to the input position it
was copied from; entries of overlapping windows ACCUMULATE (+=), and the entries that
fall on the zero padding are cropped away. The input is never modified.
"""

import numpy as np


def _out_size(size, filter_size, stride, pad):
    return (size + 2 * pad - filter_size) // stride + 1


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = (int(s) for s in input_shape)
    out_h = _out_size(H, filter_h, stride, pad)
    out_w = _out_size(W, filter_w, stride, pad)
    cols = np.asarray(col, dtype=np.float64).reshape(N, out_h, out_w, C, filter_h, filter_w)
    cols = cols.transpose(0, 3, 4, 5, 1, 2)  # (N, C, FH, FW, out_h, out_w)
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=np.float64)
    # One kernel offset at a time: within one offset the target positions are distinct,
    # so a strided "+=" is an exact scatter-add; different offsets overlap and accumulate.
    for kh in range(filter_h):
        h_stop = kh + stride * (out_h - 1) + 1
        for kw in range(filter_w):
            w_stop = kw + stride * (out_w - 1) + 1
            img[:, :, kh:h_stop:stride, kw:w_stop:stride] += cols[:, :, kh, kw, :, :]
    return img[:, :, pad:pad + H, pad:pad + W].copy()
