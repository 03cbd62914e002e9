# task: im2col
# family: forge
# expect: failed
# codes: PROTOCOL_ERROR
# why: a forged case record whose .npy frame claims a shape whose product overflows int64 (the parser's OverflowError was the grader's "error", an uncounted attempt)
import json
import os
import struct
import sys


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    header = repr({"descr": "<f8", "fortran_order": False, "shape": (2**63, 2**63, 10**30)}).encode("latin1")
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\0" * 64
    record = json.dumps({"type": "case", "case": 123456, "outputs": {"col": {"kind": "ndarray", "frame": True}},
                         "error": None, "stdout": ""}).encode()
    os.write(int(sys.argv[2]), frame(record) + frame(npy))
    raise SystemExit(0)
