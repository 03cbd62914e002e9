# WRONG: zeroes the gradient where x > 0 (~self.mask) instead of where x <= 0.
# -*- coding: utf-8 -*-
"""
ReLU 层的反向传播
Backward pass of a ReLU layer

任务 / Task
    在 Begin 与 End 之间补全 Relu.backward 的方法体（包括 return 语句），返回 dx。
    forward 已经给出。
    Fill in the body of Relu.backward (including its return statement) between Begin and
    End and return dx. forward is given.

        y = x    (x > 0)          dy/dx = 1    (x > 0)
        y = 0    (x <= 0)         dy/dx = 0    (x <= 0)

    forward 把 x <= 0 的位置记录在 self.mask 中。反向传播时，这些位置的梯度为 0，其余
    位置原样传递 dout。请不要直接修改传入的 dout（先复制一份）。
    forward records the positions where x <= 0 in self.mask. In the backward pass the
    gradient there is 0 and dout passes through unchanged elsewhere. Do not modify the
    dout you are given in place (copy it first).

形状 / Shapes
    x, out, self.mask: 任意形状，三者相同 / any shape, all three the same
    dout:              与 out 相同 / same as out       输入 / input
    dx:                与 x 相同 / same as x           返回值 / returned
"""

import numpy as np


class Relu:
    def __init__(self):
        # x <= 0 的位置（forward 时设置）/ where x <= 0 (set by forward)
        self.mask = None

    def forward(self, x):
        """
        ReLU 的前向传播 / Forward pass.

        Parameters
        ----------
        x : numpy.ndarray, 任意形状 / any shape

        Returns
        -------
        out : numpy.ndarray, 与 x 形状相同 / same shape as x
        """
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0

        return out

    def backward(self, dout):
        """
        ReLU 的反向传播 / Backward pass.

        Parameters
        ----------
        dout : numpy.ndarray, 与 forward 的输出形状相同 / same shape as the forward output
            损失对输出的梯度 / gradient of the loss w.r.t. the output

        Returns
        -------
        dx : numpy.ndarray, 与 x 形状相同 / same shape as x
            x <= 0 处为 0，其余处等于 dout（不要修改 dout 本身）/
            0 where x <= 0, dout elsewhere (do not modify dout itself)
        """
        ########## Begin ##########
        dout = dout.copy()
        dout[~self.mask] = 0
        dx = dout
        return dx
        ########## End ##########
