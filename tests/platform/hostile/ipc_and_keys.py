"""Leaves SysV IPC objects, a POSIX message queue and kernel keys for a later submission."""
import ctypes
import platform

libc = ctypes.CDLL(None, use_errno=True)
IPC_CREAT = 0o1000
libc.shmget(0x5EC2E7, 4096, IPC_CREAT | 0o666)
libc.msgget(0x5EC2E7, IPC_CREAT | 0o666)
libc.semget(0x5EC2E7, 1, IPC_CREAT | 0o666)
try:
    rt = ctypes.CDLL("librt.so.1", use_errno=True)
    rt.mq_open(b"/pool-secret", 0o100 | 0o2, 0o666, None)
except OSError:
    pass
ADD_KEY = {"x86_64": 248, "aarch64": 217}.get(platform.machine())
if ADD_KEY:
    for keyring in (-4, -5):  # the user and user-session keyrings
        libc.syscall(ADD_KEY, b"user", b"pool-secret", b"from an earlier submission", 26, ctypes.c_int(keyring))


class Convolution:
    pass
