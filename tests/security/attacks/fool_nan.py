# task: im2col
# family: fool
# expect: failed
# codes: NOT_FINITE
# why: NaN compares false with everything: a comparison written as "error > tolerance" lets it pass
import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    return np.full((N * out_h * out_w, C * filter_h * filter_w), np.nan)
