"""Landlock (Linux >= 5.13): an unprivileged, irrevocable allow-list for the process backend.

Owns the three syscalls and their structs. A ``ruleset``, the rules it ``allow``s, then
``restrict_self`` (or all three at once: ``restrict``) in the sandboxed child just before exec
(the process backend adds its read-only rules in the grader beforehand: ``process.plan``):
afterwards the process and everything it starts can read and execute only the listed trees,
write only in its scratch folder, make no TCP connection or listener (ABI >= 4), and send no
signal and reach no abstract unix socket outside itself (ABI >= 6).
"""

from __future__ import annotations

import ctypes
import os

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1, 2, 4, 8
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR, MAKE_REG = 16, 32, 64, 128, 256
MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 512, 1024, 2048, 4096
REFER, TRUNCATE, IOCTL_DEV = 8192, 16384, 32768
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2

READ_ONLY = EXECUTE | READ_FILE | READ_DIR
_WRITE_ALL = (WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_CHAR | MAKE_DIR | MAKE_REG
              | MAKE_SOCK | MAKE_FIFO | MAKE_BLOCK | MAKE_SYM)

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi_version() -> int:
    """The kernel's Landlock ABI, or 0 when Landlock is absent or blocked (e.g. by seccomp)."""
    version = _libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def handled_fs(abi: int) -> int:
    handled = READ_ONLY | _WRITE_ALL
    if abi >= 2:
        handled |= REFER
    if abi >= 3:
        handled |= TRUNCATE
    if abi >= 5:
        handled |= IOCTL_DEV
    return handled


def ruleset(abi: int) -> int:
    """A new, empty ruleset (its descriptor, close-on-exec): everything it handles is refused
    but what ``allow`` adds. Raises OSError if the kernel refuses."""
    attr = _RulesetAttr(handled_fs(abi), NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    created = _libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if created < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    return created


def allow(rules: int, fd: int, access: int) -> None:
    """Allow ``access`` beneath the file or folder ``fd`` (O_PATH is enough; it may be closed after)."""
    rule = _PathBeneathAttr(access, fd)
    if _libc.syscall(_SYS_ADD_RULE, ctypes.c_int(rules), ctypes.c_int(_RULE_PATH_BENEATH), ctypes.byref(rule),
                     ctypes.c_uint32(0)) < 0:
        raise OSError(ctypes.get_errno(), "landlock_add_rule")


def allow_path(rules: int, path, access: int) -> None:
    """``allow`` beneath ``path``, through a descriptor of its own closed at once."""
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        allow(rules, fd, access)
    finally:
        os.close(fd)


def read_only_access(is_dir: bool) -> int:
    return READ_ONLY if is_dir else EXECUTE | READ_FILE


def restrict_self(rules: int) -> None:
    """Put the calling process (and all it starts) under ``rules``, irrevocably."""
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if _libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(rules), ctypes.c_uint32(0)) < 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self")


def restrict(abi: int, read_only: list[tuple[int, bool]], writable: list[int], listable: list[int] = ()) -> None:
    """Apply the allow-list to the calling process. Raises OSError if the kernel refuses.

    ``read_only`` holds (O_PATH fd, is a directory) pairs; ``writable`` O_PATH fds of directories;
    ``listable`` O_PATH fds of directories whose entries (and their folders' entries) may be
    listed, not read: Python lists a folder before it imports from it.
    """
    rules = ruleset(abi)
    try:
        for fd, is_dir in read_only:
            allow(rules, fd, read_only_access(is_dir))
        for fd in writable:
            allow(rules, fd, handled_fs(abi))
        for fd in listable:
            allow(rules, fd, READ_DIR)
        restrict_self(rules)
    finally:
        os.close(rules)
