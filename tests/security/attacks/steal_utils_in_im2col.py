# task: im2col
# family: steal
# expect: failed
# codes: IMPORT_ERROR
# why: the im2col task gives no utils module: importing its im2col must fail
import numpy as np
from utils import im2col as given_im2col


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    return given_im2col(input_data, filter_h, filter_w, stride, pad)
