# WRONG: transpose(0, 3, 2, 1) instead of (0, 3, 1, 2): out_h and out_w swapped.
# -*- coding: utf-8 -*-
"""
最大池化层的前向传播
Forward pass of a max-pooling layer

任务 / Task
    在 Begin 与 End 之间补全 MaxPool.forward 的方法体（包括 return 语句）：
    对每个通道、每个 pool_h x pool_w 窗口取最大值，返回 out。
    Fill in the body of MaxPool.forward (including its return statement) between Begin
    and End: take the maximum of every pool_h x pool_w window of every channel and
    return out.

        out[n, c, i, j] = max_{kh, kw} x_pad[n, c, i*stride + kh, j*stride + kw]

    x_pad 是在高、宽方向四周各补 pad 个 0 后的 x：补的 0 也参与取最大值
    （与 utils.im2col 的补零一致）。
    x_pad is x with pad zeros added on each side of H and W: the padding zeros take
    part in the max (the same zero padding as utils.im2col).

    建议用 utils 中的 im2col 展开 x，再 reshape 成 (-1, pool_h*pool_w) 按行取最大值
    （也请把 x 和 np.argmax 的结果保存到 self.x、self.arg_max，反向传播时会用到）。
    Suggested: unfold x with im2col from utils, reshape it to (-1, pool_h*pool_w) and
    take the maximum of every row (please also keep x and the np.argmax of the rows in
    self.x and self.arg_max for the backward pass).

形状 / Shapes
    x:   (N, C, H, W)           输入 / input
    out: (N, C, out_h, out_w)   返回值 / returned
        out_h = (H + 2*pad - pool_h) // stride + 1
        out_w = (W + 2*pad - pool_w) // stride + 1
        （不能整除时向下取整 / floored when the sizes do not divide）
    im2col(x, pool_h, pool_w, stride, pad): (N*out_h*out_w, C*pool_h*pool_w),
        行按 (n, oh, ow)、列按 (c, kh, kw) 排列 / rows (n, oh, ow), columns (c, kh, kw);
        reshape(-1, pool_h*pool_w) 之后每行是一个窗口，按 (n, oh, ow, c) 排列 /
        after reshape(-1, pool_h*pool_w) each row is one window, ordered (n, oh, ow, c)
"""

import numpy as np
from utils import im2col, col2im


class MaxPool:
    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        """
        最大池化层的初始化 / Initialise the max-pooling layer.

        Parameters
        ----------
        pool_h : int
            池化窗口的高 / window height
        pool_w : int
            池化窗口的宽 / window width
        stride : int
            步幅 / stride
        pad : int
            补零宽度 / zero padding
        """
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad

        # 中间数据（backward 时使用）/ intermediate data (used by backward)
        self.x = None
        self.arg_max = None

    def forward(self, x):
        """
        最大池化层的前向传播 / Forward pass.

        Parameters
        ----------
        x : numpy.ndarray, 形状 / shape (N, C, H, W)

        Returns
        -------
        out : numpy.ndarray, 形状 / shape (N, C, out_h, out_w)
            out_h = (H + 2*pad - pool_h) // stride + 1,
            out_w = (W + 2*pad - pool_w) // stride + 1
        """
        ########## Begin ##########
        N, C, H, W = x.shape
        out_h = (H + 2 * self.pad - self.pool_h) // self.stride + 1
        out_w = (W + 2 * self.pad - self.pool_w) // self.stride + 1
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 2, 1)
        self.x = x
        self.arg_max = arg_max
        return out
        ########## End ##########
