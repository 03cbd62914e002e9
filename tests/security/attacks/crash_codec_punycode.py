# -*- coding: punycode -*-
# task: im2col
# family: crash
# expect: failed
# codes: COMPILE_ERROR
# why: a coding declaration naming a codec that is no encoding of Python source (its UnicodeError was the grader's "error")
import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    return np.zeros(1)
