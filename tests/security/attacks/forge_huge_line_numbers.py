# task: im2col
# family: forge
# expect: failed
# codes: RUNTIME_ERROR PROTOCOL_ERROR
# why: forged case records whose error names 4000-digit line and column numbers (valid JSON; JavaScript reads Infinity) and a huge dropped-output count
import json
import os
import struct
import sys


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    huge = int("9" * 4000)
    error = {"exception": "ValueError", "message": "forged", "line": huge, "column": huge, "file": "im2col.py",
             "frames": [{"file": "im2col.py", "line": huge, "function": "im2col", "text": "x"},
                        {"file": "utils.py", "line": huge, "function": "f", "text": "x"}]}
    records = b"".join(frame(json.dumps({"type": "case", "case": index, "outputs": {}, "error": error, "stdout": "x",
                                         "stdout_dropped": huge}).encode()) for index in range(64))
    os.write(int(sys.argv[2]), records)
    raise ValueError("a real error, on a line the module has")
