# task: im2col
# family: crash
# expect: failed
# codes: COMPILE_ERROR
# why: a syntax error
import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    return np.zeros((1, 1)
