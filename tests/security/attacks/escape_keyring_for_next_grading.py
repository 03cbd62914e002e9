# task: im2col
# family: escape
# expect: passed
# why: a key added to the uid's kernel keyring would outlive the grading and be read by the next one under the same uid
import ctypes

import numpy as np

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
# add_key("user", "cnn-grader-leak", "secret", 6, KEY_SPEC_USER_KEYRING): refused by the filter.
KEY_ADDED = _libc.syscall(248, b"user", b"cnn-grader-leak", b"secret", 6, -4) >= 0
if KEY_ADDED:
    raise SystemExit("a key was added to the uid's keyring")


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for y in range(filter_h):
        for x in range(filter_w):
            col[:, :, y, x, :, :] = img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)
