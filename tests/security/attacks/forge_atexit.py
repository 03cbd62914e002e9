# task: im2col
# family: forge
# expect: failed
# codes: RUNTIME_ERROR
# why: an atexit hook that claims success, then sys.exit from inside the graded call
import atexit
import json
import os
import struct
import sys


def claim():
    payload = json.dumps({"type": "done", "status": "passed"}).encode()
    for fd in range(1, 64):
        try:
            os.write(fd, struct.pack(">I", len(payload)) + payload)
        except OSError:
            pass


atexit.register(claim)


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    sys.exit(0)
