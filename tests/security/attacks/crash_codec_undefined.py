# -*- coding: undefined -*-
# task: im2col
# family: crash
# expect: failed
# codes: COMPILE_ERROR
# why: a coding declaration naming a codec that always fails (a bare UnicodeError was the grader's "error", and the process backend left its folder in /tmp)
import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    return np.zeros(1)
