# -*- coding: utf-8 -*-
"""
工具函数 im2col / col2im（已经实现好，可以直接使用）
Helper functions im2col / col2im (already implemented; just use them)

    from utils import im2col, col2im

约定 / Conventions
    输入图像 x 的形状为 (N, C, H, W)：N 张图像，每张 C 个通道，高 H、宽 W。
    The input x has shape (N, C, H, W): N images, C channels, height H, width W.

    out_h = (H + 2*pad - filter_h) // stride + 1
    out_w = (W + 2*pad - filter_w) // stride + 1
    （不能整除时向下取整 / floored when the sizes do not divide by the stride）

    im2col 的结果 col 的形状为 (N*out_h*out_w, C*filter_h*filter_w)：
    col has shape (N*out_h*out_w, C*filter_h*filter_w):
        行按 (n, oh, ow) 排列 / rows are ordered (n, oh, ow):
            row = n*out_h*out_w + oh*out_w + ow
        列按 (c, kh, kw) 排列 / columns are ordered (c, kh, kw):
            column = c*filter_h*filter_w + kh*filter_w + kw
        col[row, column] = x_pad[n, c, oh*stride + kh, ow*stride + kw]
    其中 x_pad 是四周各补 pad 个 0 后的图像。
    where x_pad is x with pad zeros added on each side of H and W.
"""

import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """
    把图像展开为二维矩阵 / Unfold images into a 2-D matrix.

    Parameters
    ----------
    input_data : numpy.ndarray, 形状 / shape (N, C, H, W)
        输入图像 / input images
    filter_h, filter_w : int
        滤波器（窗口）的高、宽 / filter (window) height and width
    stride : int
        步幅 / stride
    pad : int
        四周补零的宽度 / zero padding added on each side

    Returns
    -------
    col : numpy.ndarray, 形状 / shape (N*out_h*out_w, C*filter_h*filter_w)
        行按 (n, oh, ow)、列按 (c, kh, kw) 排列。
        Rows ordered (n, oh, ow), columns ordered (c, kh, kw).
    """
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1

    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], 'constant')
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))

    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]

    col = col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)
    return col


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """
    im2col 的逆向操作（伴随）：把二维矩阵还原为图像。
    The reverse (adjoint) of im2col: fold a 2-D matrix back into images.

    col 中的每个元素被加回到它在输入中对应的位置：窗口重叠（stride < filter）时，
    同一位置的多个值要累加（+=）；落在补零区域的值被裁掉。
    Every entry of col is ADDED back to the input position it was copied from:
    where windows overlap (stride < filter) the values are summed (+=); values that
    fall on the zero padding are cropped away.

    Parameters
    ----------
    col : numpy.ndarray, 形状 / shape (N*out_h*out_w, C*filter_h*filter_w)
        行按 (n, oh, ow)、列按 (c, kh, kw) 排列 / rows (n, oh, ow), columns (c, kh, kw)
    input_shape : tuple (N, C, H, W)
        原输入的形状（不含补零）/ shape of the original input (without padding)
    filter_h, filter_w : int
        滤波器的高、宽 / filter height and width
    stride : int
        步幅 / stride
    pad : int
        补零宽度 / zero padding

    Returns
    -------
    img : numpy.ndarray, 形状 / shape (N, C, H, W)
    """
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)

    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1))
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]

    return img[:, :, pad:H + pad, pad:W + pad]
