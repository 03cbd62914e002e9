# WRONG: gives the gradient to every position equal to the window's maximum (a mask x == max), not to the first one only.
# -*- coding: utf-8 -*-
"""
最大池化层的反向传播
Backward pass of a max-pooling layer

任务 / Task
    在 Begin 与 End 之间补全 MaxPool.backward 的方法体（包括 return 语句），返回 dx。
    forward 已经给出。
    Fill in the body of MaxPool.backward (including its return statement) between Begin
    and End and return dx. forward is given.

    每个窗口的梯度 dout 只传给该窗口中最大值所在的位置（forward 中用 np.argmax 记录在
    self.arg_max 中，有多个最大值时取第一个），窗口中其他位置的梯度为 0。
    The gradient dout of each window goes only to the position of the window's maximum
    (recorded by forward in self.arg_max with np.argmax: the first maximum on ties);
    every other position of the window gets 0.

    * 窗口重叠（stride < pool）时，同一位置从多个窗口得到的梯度要累加。
      Where windows overlap (stride < pool) the gradients a position receives from
      several windows must be summed.
    * forward 用 0 补零（补的 0 也参与取最大值）；传到补零位置的梯度要裁掉，
      dx 的形状与 x 相同。
      forward pads with zeros (the padding zeros take part in the max); gradient routed
      to the padding is cropped away: dx has the shape of x.

    可以使用 utils 中的 im2col 和 col2im（col2im 会累加重叠部分并裁掉补零）。
    You may use im2col and col2im from utils (col2im sums overlaps and crops the padding).

形状 / Shapes
    x:            (N, C, H, W)
    out:          (N, C, out_h, out_w)
        out_h = (H + 2*pad - pool_h) // stride + 1
        out_w = (W + 2*pad - pool_w) // stride + 1
    self.arg_max: (N*out_h*out_w*C,)  每个窗口最大值在窗口内的下标 0..pool_h*pool_w-1，
                  窗口按 (n, oh, ow, c) 排列 / index 0..pool_h*pool_w-1 of each window's
                  maximum, windows ordered (n, oh, ow, c)
    im2col 的结果 / result of im2col: (N*out_h*out_w, C*pool_h*pool_w),
                  行按 (n, oh, ow)、列按 (c, kh, kw) 排列 / rows (n, oh, ow), columns (c, kh, kw)
    反向传播 / backward:
        dout: (N, C, out_h, out_w)  输入 / input
        dx:   (N, C, H, W)          返回值，与 x 形状相同 / returned, same shape as x
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
        """
        N, C, H, W = x.shape
        out_h = (H + 2 * self.pad - self.pool_h) // self.stride + 1
        out_w = (W + 2 * self.pad - self.pool_w) // self.stride + 1

        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)

        arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

        self.x = x
        self.arg_max = arg_max

        return out

    def backward(self, dout):
        """
        最大池化层的反向传播 / Backward pass.

        Parameters
        ----------
        dout : numpy.ndarray, 形状 / shape (N, C, out_h, out_w)
            损失对输出 out 的梯度 / gradient of the loss w.r.t. the output out

        Returns
        -------
        dx : numpy.ndarray, 形状 / shape (N, C, H, W)
            损失对输入 x 的梯度；重叠窗口的梯度累加，补零部分裁掉 /
            gradient of the loss w.r.t. x; overlapping windows summed, padding cropped

        提示 / Hints
            dout 先转成 (N, out_h, out_w, C)，展开后的顺序才与 self.arg_max 一致。
            Transpose dout to (N, out_h, out_w, C) first so that its flattened order
            matches self.arg_max.
        """
        ########## Begin ##########
        dout = dout.transpose(0, 2, 3, 1)

        pool_size = self.pool_h * self.pool_w
        col = im2col(self.x, self.pool_h, self.pool_w, self.stride, self.pad).reshape(-1, pool_size)
        is_max = col == np.max(col, axis=1, keepdims=True)
        dmax = is_max * dout.reshape(-1, 1)

        dcol = dmax.reshape(-1, self.x.shape[1] * pool_size)
        dx = col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)

        return dx
        ########## End ##########
