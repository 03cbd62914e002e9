# WRONG: db summed over axis=1 (the outputs) instead of axis=0 (the batch).
# -*- coding: utf-8 -*-
"""
Affine（全连接）层的反向传播
Backward pass of an Affine (fully connected) layer

任务 / Task
    在 Begin 与 End 之间补全 Affine.backward 的方法体（包括 return 语句）：
    计算 self.dW、self.db，并返回 dx。forward 已经给出。
    Fill in the body of Affine.backward (including its return statement) between Begin
    and End: compute self.dW and self.db and return dx. forward is given.

        out = x @ W + b
        dx = dout @ W.T,   dW = x.T @ dout,   db = dout 沿第 0 轴求和 / summed over axis 0

    输入 x 可以是任意 (N, ...) 形状的数组（例如卷积层输出的四维张量 (N, C, H, W)）：
    forward 先把它展开为 (N, D)，所以 dx 最后要还原成 x 原来的形状
    （forward 保存在 self.original_x_shape 中）。
    The input x may be any (N, ...) array (for example the 4-D output (N, C, H, W) of a
    convolution layer): forward flattens it to (N, D), so dx must be reshaped back to
    the original shape of x (kept by forward in self.original_x_shape).

形状 / Shapes
    W:      (D, M)
    b:      (M,)
    x:      (N, ...)，D = 除第 0 维外各维大小之积 / D = product of the non-batch dims
    self.x: (N, D)   展开后的 x / the flattened x
    out:    (N, M)
    反向传播 / backward:
        dout:    (N, M)          输入 / input
        dx:      x 原来的形状 / the original shape of x   返回值 / returned
        self.dW: (D, M)          与 W 形状相同 / same shape as W
        self.db: (M,)            与 b 形状相同 / same shape as b
"""

import numpy as np


class Affine:
    def __init__(self, W, b):
        """
        Affine 层的初始化 / Initialise the Affine layer.

        Parameters
        ----------
        W : numpy.ndarray, 形状 / shape (D, M)
            权重 / weights
        b : numpy.ndarray, 形状 / shape (M,)
            偏置 / bias
        """
        self.W = W
        self.b = b

        self.x = None
        self.original_x_shape = None

        # 权重和偏置参数的梯度 / gradients of the weights and the bias
        self.dW = None
        self.db = None

    def forward(self, x):
        """
        Affine 层的前向传播 / Forward pass.

        Parameters
        ----------
        x : numpy.ndarray, 形状 / shape (N, ...)

        Returns
        -------
        out : numpy.ndarray, 形状 / shape (N, M)
        """
        # 对应张量 / support tensors such as (N, C, H, W)
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x

        out = np.dot(self.x, self.W) + self.b

        return out

    def backward(self, dout):
        """
        Affine 层的反向传播 / Backward pass.

        Parameters
        ----------
        dout : numpy.ndarray, 形状 / shape (N, M)
            损失对输出 out 的梯度 / gradient of the loss w.r.t. the output out

        Returns
        -------
        dx : numpy.ndarray, x 原来的形状 / the original shape of x (self.original_x_shape)
            损失对输入 x 的梯度 / gradient of the loss w.r.t. the input x

        此外还需设置 / Must also set:
            self.dW : 形状 / shape (D, M)，损失对 W 的梯度 / gradient w.r.t. W
            self.db : 形状 / shape (M,)，损失对 b 的梯度 / gradient w.r.t. b
        """
        ########## Begin ##########
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=1)
        dx = dx.reshape(*self.original_x_shape)
        return dx
        ########## End ##########
