# task: im2col
# family: exhaust
# expect: passed
# why: non-daemon threads that spin, sleep and scribble on stdout and stderr while and after the answer is given
import os
import threading
import time

import numpy as np


def spin():
    while True:
        pass


def scribble():
    while True:
        time.sleep(0.05)
        for fd in (1, 2):
            try:
                os.write(fd, b"\0\0\0\x05junk!")
            except OSError:
                pass


def sleeper():
    time.sleep(10 ** 6)


started = []
for target in (spin, sleeper):
    try:
        thread = threading.Thread(target=target)
        thread.start()
        started.append(thread)
    except RuntimeError:
        pass


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    if input_data.size > 5000 and len(started) < 3:
        try:
            started.append(threading.Thread(target=scribble))
            started[-1].start()
        except RuntimeError:
            pass
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for y in range(filter_h):
        for x in range(filter_w):
            col[:, :, y, x] = img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)
