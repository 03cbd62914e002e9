# WRONG: db summed over the wrong axis (axis=1 of the (N*out_h*out_w, FN) matrix) instead of axis=0.
# -*- coding: utf-8 -*-
"""
卷积层的反向传播
Backward pass of a convolution layer

任务 / Task
    在 Begin 与 End 之间补全 Convolution.backward 的方法体（包括 return 语句）：
    计算 self.dW、self.db，并返回 dx。forward 已经给出。
    Fill in the body of Convolution.backward (including its return statement) between
    Begin and End: compute self.dW and self.db and return dx. forward is given.

    可以使用 utils 中的 im2col 和 col2im（col2im 会把重叠窗口的梯度累加并裁掉补零）。
    You may use im2col and col2im from utils (col2im sums the gradients of overlapping
    windows and crops the padding away).

形状 / Shapes
    W:    (FN, C, FH, FW)        FN 个滤波器 / FN filters
    b:    (FN,)
    x:    (N, C, H, W)
    out:  (N, FN, out_h, out_w)
        out_h = (H + 2*pad - FH) // stride + 1
        out_w = (W + 2*pad - FW) // stride + 1
    self.col:   im2col(x) 的结果 / the result of im2col(x), (N*out_h*out_w, C*FH*FW),
                行按 (n, oh, ow)、列按 (c, kh, kw) 排列 / rows (n, oh, ow), columns (c, kh, kw)
    self.col_W: W.reshape(FN, -1).T, (C*FH*FW, FN)
    反向传播 / backward:
        dout:    (N, FN, out_h, out_w)  输入 / input
        dx:      (N, C, H, W)           返回值，与 x 形状相同 / returned, same shape as x
        self.dW: (FN, C, FH, FW)        与 W 形状相同 / same shape as W
        self.db: (FN,)                  与 b 形状相同 / same shape as b
"""

import numpy as np
from utils import im2col, col2im


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        """
        卷积层的初始化 / Initialise the convolution layer.

        Parameters
        ----------
        W : numpy.ndarray, 形状 / shape (FN, C, FH, FW)
            滤波器（权重）/ filters (weights)
        b : numpy.ndarray, 形状 / shape (FN,)
            偏置 / bias
        stride : int
            步幅 / stride
        pad : int
            补零宽度 / zero padding
        """
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad

        # 中间数据（backward 时使用）/ intermediate data (used by backward)
        self.x = None
        self.col = None
        self.col_W = None

        # 权重和偏置参数的梯度 / gradients of the weights and the bias
        self.dW = None
        self.db = None

    def forward(self, x):
        """
        卷积层的前向传播 / Forward pass.

        Parameters
        ----------
        x : numpy.ndarray, 形状 / shape (N, C, H, W)

        Returns
        -------
        out : numpy.ndarray, 形状 / shape (N, FN, out_h, out_w)
        """
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = (H + 2 * self.pad - FH) // self.stride + 1
        out_w = (W + 2 * self.pad - FW) // self.stride + 1

        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T

        out = np.dot(col, col_W) + self.b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)

        self.x = x
        self.col = col
        self.col_W = col_W

        return out

    def backward(self, dout):
        """
        卷积层的反向传播 / Backward pass.

        Parameters
        ----------
        dout : numpy.ndarray, 形状 / shape (N, FN, out_h, out_w)
            损失对输出 out 的梯度 / gradient of the loss w.r.t. the output out

        Returns
        -------
        dx : numpy.ndarray, 形状 / shape (N, C, H, W)
            损失对输入 x 的梯度 / gradient of the loss w.r.t. the input x

        此外还需设置 / Must also set:
            self.dW : 形状 / shape (FN, C, FH, FW)，损失对 W 的梯度 / gradient w.r.t. W
            self.db : 形状 / shape (FN,)，损失对 b 的梯度 / gradient w.r.t. b

        提示 / Hints
            dout 先转成 (N, out_h, out_w, FN) 再展开成 (N*out_h*out_w, FN)，行顺序才与
            self.col 一致；dx 要用 col2im 还原（重叠部分累加）。
            Transpose dout to (N, out_h, out_w, FN) before reshaping it to
            (N*out_h*out_w, FN) so that its rows match self.col; fold dcol back into dx
            with col2im (overlaps are summed).
        """
        ########## Begin ##########
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)

        self.db = np.sum(dout, axis=1)
        self.dW = np.dot(self.col.T, dout)
        self.dW = self.dW.transpose(1, 0).reshape(FN, C, FH, FW)

        dcol = np.dot(dout, self.col_W.T)
        dx = col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)

        return dx
        ########## End ##########
