# task: im2col
# family: escape
# expect: passed
# why: connect to the test's TCP listener on loopback and on every host address, and to the outside world
import socket

import numpy as np

for address in @@HOST_ADDRS@@ + ["8.8.8.8", "1.1.1.1"]:
    port = @@TCP_PORT@@ if address not in ("8.8.8.8", "1.1.1.1") else 53
    try:
        connection = socket.create_connection((address, port), timeout=1)
        connection.sendall(b"hello from the sandbox @@MARKER@@")
        connection.close()
    except OSError:
        pass
try:
    socket.getaddrinfo("example.com", 80)
except OSError:
    pass


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for y in range(filter_h):
        for x in range(filter_w):
            col[:, :, y, x] = img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)
