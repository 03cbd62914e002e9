# WRONG: imports im2col from utils, which this task does not give.
import numpy as np
from utils import im2col as given_im2col


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    return given_im2col(input_data, filter_h, filter_w, stride, pad)
