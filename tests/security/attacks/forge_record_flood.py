# task: im2col
# family: forge
# expect: failed
# codes: PROTOCOL_ERROR
# why: millions of tiny well-formed records (a case for every index) to exhaust the grader's memory
import json
import os
import struct


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    fd = int(__import__("sys").argv[2])
    batch = []
    for index in range(10 ** 7):
        payload = json.dumps({"type": "case", "case": 1000 + index, "outputs": {}}).encode()
        batch.append(struct.pack(">I", len(payload)) + payload)
        if len(batch) == 1000:
            os.write(fd, b"".join(batch))
            batch = []
