# WRONG: columns ordered (kh, kw, c) instead of (c, kh, kw) (transpose(0, 4, 5, 2, 3, 1)).
# -*- coding: utf-8 -*-
"""
im2col：把输入图像展开为二维矩阵
im2col: unfold a batch of images into a 2-D matrix

任务 / Task
    在 Begin 与 End 之间补全函数 im2col 的函数体（包括 return 语句）。
    Fill in the body of im2col (including its return statement) between Begin and End.

    im2col 把每个卷积窗口（滤波器覆盖的区域）展开成矩阵的一行，这样卷积就可以用一次
    矩阵乘法完成。只能使用 numpy，不能导入其他模块。
    im2col turns every window covered by the filter into one row of a matrix, so that a
    convolution becomes a single matrix product. Use numpy only; do not import anything else.

形状 / Shapes
    输入 / input:  input_data, (N, C, H, W)
    输出 / output: col, (N*out_h*out_w, C*filter_h*filter_w)
        out_h = (H + 2*pad - filter_h) // stride + 1
        out_w = (W + 2*pad - filter_w) // stride + 1
        （不能整除时向下取整，多余的行列不构成窗口 /
          floored when the sizes do not divide: leftover rows/columns form no window）

排列顺序 / Layout
    行按 (n, oh, ow) 排列 / rows ordered (n, oh, ow):
        row = n*out_h*out_w + oh*out_w + ow
    列按 (c, kh, kw) 排列 / columns ordered (c, kh, kw):
        column = c*filter_h*filter_w + kh*filter_w + kw
    col[row, column] = x_pad[n, c, oh*stride + kh, ow*stride + kw]
    x_pad 是在高、宽两个方向上四周各补 pad 个 0 后的图像。
    x_pad is the input with pad zeros added on each side of H and W.
"""

import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """
    把图像展开为二维矩阵 / Unfold images into a 2-D matrix.

    Parameters
    ----------
    input_data : numpy.ndarray, 形状 / shape (N, C, H, W)
        由 N 张图像组成的输入，每张 C 个通道 / N input images with C channels each
    filter_h : int
        滤波器的高 / filter height
    filter_w : int
        滤波器的宽 / filter width
    stride : int
        步幅 / stride
    pad : int
        四周补零的宽度 / zero padding added on each side

    Returns
    -------
    col : numpy.ndarray, 形状 / shape (N*out_h*out_w, C*filter_h*filter_w)
        行按 (n, oh, ow)、列按 (c, kh, kw) 排列 /
        rows ordered (n, oh, ow), columns ordered (c, kh, kw)
    """
    ########## Begin ##########
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

    col = col.transpose(0, 4, 5, 2, 3, 1).reshape(N * out_h * out_w, -1)
    return col
    ########## End ##########
