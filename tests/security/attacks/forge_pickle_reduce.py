# task: im2col
# family: forge
# expect: failed
# codes: PROTOCOL_ERROR
# why: a pickle whose __reduce__ plants a marker file, sent as an object .npy frame and as a return value
import io
import json
import os
import pickle
import struct

import numpy as np


class Plant:
    def __reduce__(self):
        return (os.system, ("touch @@OUTSIDE@@/unpickled-@@MARKER@@",))


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    evil = np.empty(4, dtype=object)
    evil[:] = [Plant(), Plant(), Plant(), Plant()]
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, evil, allow_pickle=True)
    payload = json.dumps({"type": "case", "case": 999, "outputs": {"col": {"kind": "ndarray", "frame": True}},
                          "error": None, "stdout": ""}).encode()
    raw = pickle.dumps(Plant())
    for fd in sorted({int(__import__("sys").argv[2]), *range(3, 64)}):  # argv[2]: the result channel
        try:
            os.fstat(fd)
            os.write(fd, struct.pack(">I", len(payload)) + payload + struct.pack(">I", len(buffer.getvalue())) + buffer.getvalue())
            os.write(fd, struct.pack(">I", len(raw)) + raw)
        except OSError:
            pass
    return evil
