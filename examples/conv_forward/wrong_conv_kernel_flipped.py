# WRONG: flips the filter in both directions (the convolution of signal processing), where deep learning's convolution is a cross-correlation.
# -*- coding: utf-8 -*-
"""
卷积层的前向传播
Forward pass of a convolution layer

任务 / Task
    在 Begin 与 End 之间补全 Convolution.forward 的方法体（包括 return 语句）：
    对 N 张图像分别用 FN 个滤波器做卷积并加上偏置，返回 out。
    Fill in the body of Convolution.forward (including its return statement) between
    Begin and End: convolve each of the N images with each of the FN filters, add the
    bias and return out.

        out[n, f, i, j] = b[f] + sum_{c, kh, kw} W[f, c, kh, kw] * x_pad[n, c, i*stride + kh, j*stride + kw]

    x_pad 是在高、宽方向四周各补 pad 个 0 后的 x。
    x_pad is x with pad zeros added on each side of H and W.

    建议用 utils 中的 im2col 把 x 展开后做一次矩阵乘法（也请把 x、col、col_W 保存到
    self.x、self.col、self.col_W，反向传播时会用到）。
    Suggested: unfold x with im2col from utils and use one matrix product (please also
    keep x, col and col_W in self.x, self.col and self.col_W for the backward pass).

形状 / Shapes
    W:   (FN, C, FH, FW)        FN 个滤波器 / FN filters
    b:   (FN,)
    x:   (N, C, H, W)           输入 / input
    out: (N, FN, out_h, out_w)  返回值 / returned
        out_h = (H + 2*pad - FH) // stride + 1
        out_w = (W + 2*pad - FW) // stride + 1
        （不能整除时向下取整 / floored when the sizes do not divide）
    im2col(x, FH, FW, stride, pad): (N*out_h*out_w, C*FH*FW),
        行按 (n, oh, ow)、列按 (c, kh, kw) 排列 / rows (n, oh, ow), columns (c, kh, kw)
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

    def forward(self, x):
        """
        卷积层的前向传播 / Forward pass.

        Parameters
        ----------
        x : numpy.ndarray, 形状 / shape (N, C, H, W)

        Returns
        -------
        out : numpy.ndarray, 形状 / shape (N, FN, out_h, out_w)
            out_h = (H + 2*pad - FH) // stride + 1, out_w = (W + 2*pad - FW) // stride + 1

        提示 / Hints
            col = im2col(x, FH, FW, stride, pad) 的形状为 (N*out_h*out_w, C*FH*FW)，
            col_W = W.reshape(FN, -1).T 的形状为 (C*FH*FW, FN)；矩阵乘积的行按
            (n, oh, ow) 排列，要先 reshape 成 (N, out_h, out_w, FN) 再转置为
            (N, FN, out_h, out_w)。
            col = im2col(x, FH, FW, stride, pad) is (N*out_h*out_w, C*FH*FW) and
            col_W = W.reshape(FN, -1).T is (C*FH*FW, FN); the rows of their product are
            ordered (n, oh, ow): reshape it to (N, out_h, out_w, FN), then transpose it
            to (N, FN, out_h, out_w).
        """
        ########## Begin ##########
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = (H + 2 * self.pad - FH) // self.stride + 1
        out_w = (W + 2 * self.pad - FW) // self.stride + 1
        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W[:, :, ::-1, ::-1].reshape(FN, -1).T
        out = np.dot(col, col_W) + self.b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)
        self.x = x
        self.col = col
        self.col_W = col_W
        return out
        ########## End ##########
