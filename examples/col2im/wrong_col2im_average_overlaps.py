# WRONG: averages overlapping entries (divides by the overlap count) instead of summing them.
# -*- coding: utf-8 -*-
"""
col2im：把二维矩阵还原为图像（im2col 的逆向操作）
col2im: fold a 2-D matrix back into images (the reverse of im2col)

任务 / Task
    在 Begin 与 End 之间补全函数 col2im 的函数体（包括 return 语句）。
    Fill in the body of col2im (including its return statement) between Begin and End.

    col2im 是 im2col 的伴随（转置）操作，卷积层反向传播时用它把 dcol 还原为 dx：
    col 中的每个元素都要加回到它在输入中对应的位置。
    col2im is the adjoint (transpose) of im2col; the backward pass of a convolution uses
    it to turn dcol into dx: every entry of col is ADDED back to the input position it
    was copied from.

    * 窗口重叠（stride < filter）时，同一位置的多个值必须累加（用 +=，不能用 =）。
      Where windows overlap (stride < filter) the values must be summed (+=, not =).
    * 落在补零区域的值要裁掉：返回的形状是 input_shape，不含补零。
      Values that fall on the zero padding are cropped: the result has input_shape,
      without the padding.
    只能使用 numpy，不能导入其他模块。/ Use numpy only; do not import anything else.

形状 / Shapes
    输入 / input:  col, (N*out_h*out_w, C*filter_h*filter_w)
    输出 / output: img, input_shape = (N, C, H, W)
        out_h = (H + 2*pad - filter_h) // stride + 1
        out_w = (W + 2*pad - filter_w) // stride + 1

排列顺序（与 im2col 相同）/ Layout (the same as im2col)
    行按 (n, oh, ow) 排列 / rows ordered (n, oh, ow):
        row = n*out_h*out_w + oh*out_w + ow
    列按 (c, kh, kw) 排列 / columns ordered (c, kh, kw):
        column = c*filter_h*filter_w + kh*filter_w + kw
    col[row, column] 要加到 x_pad[n, c, oh*stride + kh, ow*stride + kw] 上，
    最后返回 x_pad[:, :, pad:pad+H, pad:pad+W]。
    col[row, column] is added to x_pad[n, c, oh*stride + kh, ow*stride + kw];
    finally x_pad[:, :, pad:pad+H, pad:pad+W] is returned.
"""

import numpy as np


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """
    把二维矩阵还原为图像，重叠部分累加 / Fold a 2-D matrix into images, summing overlaps.

    Parameters
    ----------
    col : numpy.ndarray, 形状 / shape (N*out_h*out_w, C*filter_h*filter_w)
        行按 (n, oh, ow)、列按 (c, kh, kw) 排列 / rows (n, oh, ow), columns (c, kh, kw)
    input_shape : tuple (N, C, H, W)
        原输入的形状（不含补零）/ shape of the original input (without padding)
    filter_h : int
        滤波器的高 / filter height
    filter_w : int
        滤波器的宽 / filter width
    stride : int
        步幅 / stride
    pad : int
        补零宽度 / zero padding

    Returns
    -------
    img : numpy.ndarray, 形状 / shape (N, C, H, W)
        重叠窗口的值已累加、补零部分已裁掉 /
        overlapping windows summed, padding cropped away
    """
    ########## Begin ##########
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)

    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1))
    count = np.zeros(img.shape)
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]
            count[:, :, y:y_max:stride, x:x_max:stride] += 1

    img = img / np.maximum(count, 1)
    return img[:, :, pad:H + pad, pad:W + pad]
    ########## End ##########
