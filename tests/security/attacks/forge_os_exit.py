# task: im2col
# family: forge
# expect: failed
# codes: CRASHED
# why: os._exit(0) at the first call: a clean exit status with no outputs
import os


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    os._exit(0)
