# task: im2col
# family: forge
# expect: failed
# codes: PROTOCOL_ERROR
# why: junk on the result channel: invalid JSON, a bad .npy header, a huge length prefix, random bytes
import os
import struct


def result_fds():
    for fd in range(3, 256):
        try:
            os.fstat(fd)
            yield fd
        except OSError:
            pass


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    junk = (struct.pack(">I", 9) + b"{not json" + struct.pack(">I", 12) + b"\x93NUMPY\x09\x00xxxx"
            + struct.pack(">I", 0xFFFFFFF0) + os.urandom(4096))
    for fd in result_fds():
        try:
            os.write(fd, junk)
        except OSError:
            pass
    raise SystemExit(0)
