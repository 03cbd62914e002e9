"""Prepended to a correct solution: fail at import if an earlier submission left anything."""
import builtins as _builtins
import ctypes as _ctypes
import io as _io
import os as _os
import platform as _platform
import signal as _signal
import sys as _sys

_problems = []
_here = sorted(_os.listdir("."))
if not set(_here) <= {"utils.py", "solution.py"}:
    _problems.append(f"own folder holds {_here}")
if _os.listdir("/tmp") != ["work"] or len(_os.listdir("/tmp/work")) != 1:
    _problems.append(f"/tmp holds {_os.listdir('/tmp')}, /tmp/work {_os.listdir('/tmp/work')}")
_others = sorted(int(p) for p in _os.listdir("/proc") if p.isdigit() and int(p) not in (1, _os.getpid(), _os.getppid()))
if _others:
    _problems.append(f"other processes are alive: {_others}")
for _table in ("shm", "msg", "sem"):
    with open(f"/proc/sysvipc/{_table}") as _listing:
        if len(_listing.read().splitlines()) > 1:
            _problems.append(f"a SysV {_table} object is left")
_libc = _ctypes.CDLL(None, use_errno=True)
_request_key = {"x86_64": 249, "aarch64": 218}.get(_platform.machine())
if _request_key and _libc.syscall(_request_key, b"user", b"pool-secret", None, 0) > 0:
    _problems.append("a key of an earlier submission is readable")
try:
    _rt = _ctypes.CDLL("librt.so.1", use_errno=True)
    if _rt.mq_open(b"/pool-secret", 0) >= 0:
        _problems.append("a POSIX message queue of an earlier submission is left")
except OSError:
    pass
import numpy as _numpy  # noqa: E402

if _numpy.dot.__name__ != "dot" or _numpy.sum.__name__ != "sum" or hasattr(_numpy, "_hostile_marker"):
    _problems.append("numpy is patched")
if _builtins.open is not _io.open or "utils" in _sys.modules or "/tmp/evil" in _sys.path:
    _problems.append("the interpreter is patched")
if "HOSTILE" in _os.environ:
    _problems.append("the environment is patched")
if _signal.getsignal(_signal.SIGTERM) != _signal.SIG_DFL:
    _problems.append("signal dispositions are changed")
if _problems:
    raise RuntimeError("contaminated: " + "; ".join(_problems))
