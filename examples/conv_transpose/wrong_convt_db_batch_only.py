# WRONG: db summed over the batch axis only (axis=0), shape (C_out, out_h, out_w) instead of (C_out,).
# -*- coding: utf-8 -*-
"""
转置卷积（反卷积）的前向与反向传播
Forward and backward pass of a transposed convolution ("deconvolution")

任务 / Task
    本题有两个空：在两处 Begin 与 End 之间分别补全 ConvTranspose.forward 和
    ConvTranspose.backward 的方法体（包括 return 语句）。
    This task has two blanks: fill in the bodies of ConvTranspose.forward and
    ConvTranspose.backward (including their return statements) between the two pairs
    of Begin and End markers.

    转置卷积是卷积的伴随（转置）运算，与 torch.nn.functional.conv_transpose2d 相同：
    输入的每个元素 x[n, ci, i, j] 乘以滤波器 W[ci, co]（FH x FW）后，加到补零画布上
    以 (i*stride, j*stride) 为左上角的区域；重叠部分累加；最后四周各裁掉 pad 行/列，
    再加上偏置 b[co]。
    The transposed convolution is the adjoint (transpose) of the convolution, the same
    as torch.nn.functional.conv_transpose2d: every input entry x[n, ci, i, j] times the
    filter W[ci, co] (FH x FW) is added to a padded canvas at the window whose top-left
    corner is (i*stride, j*stride); overlaps are summed; finally pad rows/columns are
    cropped on each side and the bias b[co] is added.

        out_pad[n, co, i*stride + kh, j*stride + kw] += x[n, ci, i, j] * W[ci, co, kh, kw]
        out = out_pad[:, :, pad:pad+out_h, pad:pad+out_w] + b

    提示 / Hints
        forward:  col = x 的 (N*H*W, C_in) 矩阵 @ W.reshape(C_in, -1)，形状
                  (N*H*W, C_out*FH*FW)，正好是 im2col 的布局；用 col2im 把它
                  “折叠”成 (N, C_out, out_h, out_w)。
                  col = (x as an (N*H*W, C_in) matrix) @ W.reshape(C_in, -1), shape
                  (N*H*W, C_out*FH*FW), exactly the im2col layout; fold it into
                  (N, C_out, out_h, out_w) with col2im.
        backward: dcol = im2col(dout, FH, FW, stride, pad)，形状 (N*H*W, C_out*FH*FW)。
                  dcol = im2col(dout, FH, FW, stride, pad), shape (N*H*W, C_out*FH*FW).

形状 / Shapes
    W:    (C_in, C_out, FH, FW)
    b:    (C_out,)
    x:    (N, C_in, H, W)
    out:  (N, C_out, out_h, out_w)
        out_h = (H - 1)*stride - 2*pad + FH
        out_w = (W - 1)*stride - 2*pad + FW
    im2col / col2im 的矩阵 / matrices: 行按 (n, oh, ow)、列按 (c, kh, kw) 排列 /
        rows ordered (n, oh, ow), columns ordered (c, kh, kw)
    反向传播 / backward:
        dout:    (N, C_out, out_h, out_w)  输入 / input
        dx:      (N, C_in, H, W)           返回值，与 x 形状相同 / returned, same shape as x
        self.dW: (C_in, C_out, FH, FW)     与 W 形状相同 / same shape as W
        self.db: (C_out,)                  与 b 形状相同 / same shape as b
"""

import numpy as np
from utils import im2col, col2im


class ConvTranspose:
    def __init__(self, W, b, stride=1, pad=0):
        """
        转置卷积层的初始化 / Initialise the transposed convolution layer.

        Parameters
        ----------
        W : numpy.ndarray, 形状 / shape (C_in, C_out, FH, FW)
            滤波器（权重）/ filters (weights)
        b : numpy.ndarray, 形状 / shape (C_out,)
            偏置 / bias
        stride : int
            步幅 / stride
        pad : int
            裁掉的宽度（对应卷积的补零）/ cropping (the padding of the matching convolution)
        """
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad

        # 中间数据（backward 时使用）/ intermediate data (used by backward)
        self.x = None

        # 权重和偏置参数的梯度 / gradients of the weights and the bias
        self.dW = None
        self.db = None

    def forward(self, x):
        """
        转置卷积的前向传播 / Forward pass.

        Parameters
        ----------
        x : numpy.ndarray, 形状 / shape (N, C_in, H, W)

        Returns
        -------
        out : numpy.ndarray, 形状 / shape (N, C_out, out_h, out_w)
            out_h = (H - 1)*stride - 2*pad + FH, out_w = (W - 1)*stride - 2*pad + FW
            （请把 x 保存到 self.x，反向传播时会用到 / keep x in self.x for backward）
        """
        ########## Begin ##########
        C_in, C_out, FH, FW = self.W.shape
        N, _, H, W = x.shape
        out_h = (H - 1) * self.stride - 2 * self.pad + FH
        out_w = (W - 1) * self.stride - 2 * self.pad + FW
        x_row = x.transpose(0, 2, 3, 1).reshape(-1, C_in)
        col = np.dot(x_row, self.W.reshape(C_in, -1))
        out = col2im(col, (N, C_out, out_h, out_w), FH, FW, self.stride, self.pad)
        out = out + self.b.reshape(1, C_out, 1, 1)
        self.x = x
        return out
        ########## End ##########

    def backward(self, dout):
        """
        转置卷积的反向传播 / Backward pass.

        Parameters
        ----------
        dout : numpy.ndarray, 形状 / shape (N, C_out, out_h, out_w)
            损失对输出 out 的梯度 / gradient of the loss w.r.t. the output out

        Returns
        -------
        dx : numpy.ndarray, 形状 / shape (N, C_in, H, W)
            损失对输入 x 的梯度 / gradient of the loss w.r.t. the input x

        此外还需设置 / Must also set:
            self.dW : 形状 / shape (C_in, C_out, FH, FW)，损失对 W 的梯度 / gradient w.r.t. W
            self.db : 形状 / shape (C_out,)，损失对 b 的梯度 / gradient w.r.t. b
        """
        ########## Begin ##########
        C_in, C_out, FH, FW = self.W.shape
        N, _, H, W = self.x.shape
        dcol = im2col(dout, FH, FW, self.stride, self.pad)
        self.db = np.sum(dout, axis=0)
        x_rows = self.x.transpose(0, 2, 3, 1).reshape(-1, C_in)
        self.dW = np.dot(x_rows.T, dcol).reshape(C_in, C_out, FH, FW)
        dx_row = np.dot(dcol, self.W.reshape(C_in, -1).T)
        return dx_row.reshape(N, H, W, C_in).transpose(0, 3, 1, 2)
        ########## End ##########
