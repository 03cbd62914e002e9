# task: im2col
# family: crash
# expect: failed
# codes: COMPILE_ERROR
# why: tabs and spaces mixed in one indentation (TabError)
import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N = input_data.shape[0]
	if N:
	    return np.zeros((1, 1))
        return None
