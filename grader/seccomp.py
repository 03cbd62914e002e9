"""A seccomp filter for the process backend: the few system calls Landlock and rlimits leave open.

Owns the filter's program and its installation (classic BPF, x86_64 and aarch64). Without
namespaces (the process backend as an ordinary user, e.g. in a container), the sandboxed
code could otherwise

* leave its process group with ``setsid``/``setpgid``, so that killing the group at the end
  of a grading misses it and it outlives the grading;
* open sockets Landlock does not govern: UDP and raw packets (Landlock governs TCP only) and
  unix socket files on the host (Landlock does not govern connecting to one): ``socket``
  is denied altogether (``socketpair``, which reaches nothing outside, stays allowed);
* get around that through io_uring, or create namespaces (``unshare``, ``clone`` with a
  namespace flag, ``setns``), a large kernel surface with no use in a numpy exercise;
* leave data for a later grading in the kernel keyrings (``add_key``, ``keyctl``,
  ``request_key``), which belong to the uid and outlive its processes, while uids are reused.

Denied calls fail with an errno (EPERM, EACCES, ENOSYS: ``clone3`` too, so that the C library
falls back to ``clone``, whose flags can be checked); a call made through another
architecture's ABI kills the process. Installed in the child just before exec, after
PR_SET_NO_NEW_PRIVS; it is inherited by every process the student starts and cannot be lifted.
"""

from __future__ import annotations

import errno
import os
import struct

_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_RET_ALLOW, _RET_ERRNO, _RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
_LD_W_ABS, _JEQ_K, _JGE_K, _JSET_K, _RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
_OFFSET_NR, _OFFSET_ARCH, _OFFSET_ARG0 = 0, 4, 16  # struct seccomp_data, little-endian low word of args[0]
_NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
_X32_BIT = 0x40000000

# (audit arch, syscall numbers) of the architectures the filter knows.
_ARCHES = {
    "x86_64": (0xC000003E, {"setsid": 112, "setpgid": 109, "socket": 41, "clone": 56, "clone3": 435, "unshare": 272,
                            "setns": 308, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
                            "add_key": 248, "request_key": 249, "keyctl": 250}),
    "aarch64": (0xC00000B7, {"setsid": 157, "setpgid": 154, "socket": 198, "clone": 220, "clone3": 435, "unshare": 97,
                             "setns": 268, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
                             "add_key": 217, "request_key": 218, "keyctl": 219}),
}
ENFORCED = "seccomp-no-new-session-no-sockets"


def supported() -> bool:
    return os.uname().machine in _ARCHES


def _instruction(code: int, k: int, jump_true: int = 0, jump_false: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jump_true, jump_false, k)


def program() -> bytes:
    """The filter for this machine's architecture, as packed ``struct sock_filter`` entries."""
    arch, numbers = _ARCHES[os.uname().machine]
    allow = _instruction(_RET_K, _RET_ALLOW)

    def deny(code: int) -> bytes:
        return _instruction(_RET_K, _RET_ERRNO | code)

    parts = [
        _instruction(_LD_W_ABS, _OFFSET_ARCH),
        _instruction(_JEQ_K, arch, 1, 0),
        _instruction(_RET_K, _RET_KILL_PROCESS),
        _instruction(_LD_W_ABS, _OFFSET_NR),
    ]
    if os.uname().machine == "x86_64":
        parts += [_instruction(_JGE_K, _X32_BIT, 0, 1), _instruction(_RET_K, _RET_KILL_PROCESS)]
    denied = {"setsid": errno.EPERM, "setpgid": errno.EPERM, "socket": errno.EACCES, "unshare": errno.EPERM,
              "setns": errno.EPERM, "clone3": errno.ENOSYS, "io_uring_setup": errno.ENOSYS,
              "io_uring_enter": errno.ENOSYS, "io_uring_register": errno.ENOSYS,
              "add_key": errno.EPERM, "request_key": errno.EPERM, "keyctl": errno.EPERM}
    for name, code in denied.items():
        parts += [_instruction(_JEQ_K, numbers[name], 0, 1), deny(code)]
    # clone(flags, ...): no new namespace. The block returns on every path once entered.
    parts += [_instruction(_JEQ_K, numbers["clone"], 0, 4), _instruction(_LD_W_ABS, _OFFSET_ARG0),
              _instruction(_JSET_K, _NAMESPACE_FLAGS, 0, 1), deny(errno.EPERM), allow]
    parts.append(allow)
    return b"".join(parts)


def install() -> None:
    """Apply the filter to the calling thread (and its future children). Raises OSError."""
    import ctypes  # here: the trusted side only builds the program, and `grader grade` starts sooner

    class _Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

    code = program()
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = _Program(len(code) // 8, ctypes.cast(buffer, ctypes.c_char_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")
