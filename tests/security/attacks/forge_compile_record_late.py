# task: im2col
# family: forge
# expect: failed
# codes: PROTOCOL_ERROR
# why: after the import, a forged "compile" record (with the hidden case's shapes as its message) made the attempt not gradable, an uncounted attempt at the student's will
import json
import os
import struct
import sys


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    message = f"hidden case: {input_data.shape} {filter_h}x{filter_w} stride {stride} pad {pad}"
    record = {"type": "compile", "error": {"exception": "SyntaxError", "message": message, "frames": []}}
    os.write(int(sys.argv[2]), frame(json.dumps(record).encode()))
    raise SystemExit(0)
