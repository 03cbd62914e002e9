# task: im2col
# family: exhaust
# expect: failed
# codes: OUTPUT_LIMIT
# why: announce a 4 GB array frame on the result channel and stream zeros into it
import json
import os
import struct
import sys


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    record = json.dumps({"type": "case", "case": 0, "outputs": {"col": {"kind": "ndarray", "frame": True}},
                         "error": None, "stdout": ""}).encode()
    block = b"\0" * (1024 * 1024)
    # The result channel is argv[2]; in a busy grader (a batch) its number can be high.
    for fd in sorted({int(sys.argv[2]), *range(3, 64)}):
        try:
            os.fstat(fd)
        except OSError:
            continue
        try:
            os.write(fd, struct.pack(">I", len(record)) + record + struct.pack(">I", 0xFFFFFFFF))
            for _ in range(4096):
                os.write(fd, block)
        except OSError:
            pass
