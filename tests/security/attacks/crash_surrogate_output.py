# task: im2col
# family: crash
# expect: passed
# why: a correct answer that prints lone surrogates, NULs, terminal escapes and invalid UTF-8
import os
import sys

import numpy as np

print("\ud800 lone \udfff surrogates \x00 NUL \x1b[31m red \x1b[0m \u202e bidi")
os.write(1, b"\xff\xfe\xc3(invalid utf-8)\x00")


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    print("\udcff\udcfe", "\x00" * 10)
    sys.stderr.write("\ud83d half an emoji\n")
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for y in range(filter_h):
        for x in range(filter_w):
            col[:, :, y, x] = img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)
