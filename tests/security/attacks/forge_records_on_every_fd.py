# task: im2col
# family: forge
# expect: failed
# codes: MISSING_OUTPUT PROTOCOL_ERROR
# why: write well-formed "case"/"done" records claiming success on every inherited descriptor
import json
import os
import struct

import numpy as np


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def forge():
    records = b""
    for index in range(64):
        records += frame(json.dumps({"type": "case", "case": index, "outputs": {}, "error": None, "status": "passed",
                                     "stdout": "", "stdout_dropped": 0}).encode())
    records += frame(json.dumps({"type": "done", "status": "passed"}).encode())
    for fd in range(0, 256):
        try:
            os.fstat(fd)
            os.write(fd, records)
        except OSError:
            pass


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    forge()
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    return np.zeros((N * out_h * out_w, C * filter_h * filter_w))
