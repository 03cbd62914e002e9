# task: im2col
# family: crash
# expect: failed
# codes: ENCODING_ERROR
# why: bytes that are not UTF-8 and no coding declaration
import numpy as np

# caf@@BYTE_FF@@ au lait


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    return np.zeros((1, 1))
