"""A seccomp filter for every sandbox: the few system calls Landlock, namespaces and rlimits leave open.

Owns the filter's program and its installation (classic BPF, x86_64 and aarch64). It is the
process backend's, bwrap's (``--seccomp``) and every warm worker's child's: the same rules
wherever student code runs. Without namespaces (the process backend as an ordinary user,
e.g. in a container) the sandboxed code could otherwise

* leave its process group with ``setsid``/``setpgid``, so that killing the group at the end
  of a grading misses it and it outlives the grading;
* open sockets Landlock does not govern: UDP and raw packets (Landlock governs TCP only) and
  unix socket files on the host (Landlock does not govern connecting to one): ``socket``
  is denied altogether (``socketpair``, which reaches nothing outside, stays allowed);
* get around that through io_uring, or create namespaces (``unshare``, ``clone`` with a
  namespace flag, ``setns``), a large kernel surface with no use in a numpy exercise;
* leave data or memory for a later grading in kernel objects that belong to the uid or the
  IPC namespace and outlive its processes, while uids are reused: keys (``add_key``,
  ``keyctl``, ``request_key``), SysV shared memory, queues and semaphores (``shmget``,
  ``msgget``, ``semget``) and POSIX message queues (``mq_open``);
* change another process of the same uid - the grader itself, a concurrent grading's
  sandbox, a warm worker (its parent) - through calls whose only check is "same uid", which
  Landlock does not scope: its resource limits (``prlimit64``), its scheduling (``setpriority``,
  ``sched_setaffinity``, ``sched_setscheduler``, ``sched_setparam``, ``sched_setattr``,
  ``ioprio_set``) or where its memory lives (``migrate_pages``, ``move_pages``). These work on
  the caller alone: the pid argument must be 0 (glibc's ``setrlimit`` and ``getrlimit`` call
  ``prlimit64(0, ...)``, ``os.nice`` calls ``setpriority(PRIO_PROCESS, 0, ...)``), and
  ``setpriority``/``ioprio_set`` accept only the caller's own process or process group, never
  "every process of my uid". Calls that reach another process through
  ``ptrace_may_access`` (ptrace, ``process_vm_readv``, ``kcmp``, ``pidfd_getfd``,
  ``process_madvise``, ``/proc/PID/mem``) are left to Landlock, which scopes ptrace access at
  every ABI, and to the pid namespaces and uids of the other backends; ``perf_event_open``
  (another process's or a whole CPU's events, and a large kernel surface) is denied;
* make a process the child of its parent (``clone`` with ``CLONE_PARENT``): the grader, or a
  warm worker, would have to reap a child it never started.

Denied calls fail with an errno: EPERM, as if the target belonged to another user (EACCES for
``socket``; ENOSYS for ``clone3``, so that the C library falls back to ``clone``, whose flags
can be checked, and for io_uring). A call made through another architecture's ABI kills the
process. Installed in the child just before exec, after PR_SET_NO_NEW_PRIVS; it is inherited by
every process the student starts and cannot be lifted.
"""

from __future__ import annotations

import errno
import os
import struct

_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_RET_ALLOW, _RET_ERRNO, _RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
_LD_W_ABS, _JEQ_K, _JGE_K, _JSET_K, _RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
_OFFSET_NR, _OFFSET_ARCH = 0, 4
_NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
_CLONE_PARENT = 0x00008000
_PRIO_USER, _IOPRIO_WHO_USER = 2, 3  # "every process of the caller's uid"
_X32_BIT = 0x40000000

# (audit arch, syscall numbers) of the architectures the filter knows.
_ARCHES = {
    "x86_64": (0xC000003E, {"setsid": 112, "setpgid": 109, "socket": 41, "clone": 56, "clone3": 435, "unshare": 272,
                            "setns": 308, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
                            "add_key": 248, "request_key": 249, "keyctl": 250, "shmget": 29, "msgget": 68,
                            "semget": 64, "mq_open": 240, "perf_event_open": 298, "prlimit64": 302,
                            "sched_setaffinity": 203, "sched_setscheduler": 144, "sched_setparam": 142,
                            "sched_setattr": 314, "migrate_pages": 256, "move_pages": 279, "setpriority": 141,
                            "ioprio_set": 251}),
    "aarch64": (0xC00000B7, {"setsid": 157, "setpgid": 154, "socket": 198, "clone": 220, "clone3": 435, "unshare": 97,
                             "setns": 268, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
                             "add_key": 217, "request_key": 218, "keyctl": 219, "shmget": 194, "msgget": 186,
                             "semget": 190, "mq_open": 180, "perf_event_open": 241, "prlimit64": 261,
                             "sched_setaffinity": 122, "sched_setscheduler": 119, "sched_setparam": 118,
                             "sched_setattr": 274, "migrate_pages": 238, "move_pages": 239, "setpriority": 140,
                             "ioprio_set": 30}),
}
_DENIED = {"setsid": errno.EPERM, "setpgid": errno.EPERM, "socket": errno.EACCES, "unshare": errno.EPERM,
           "setns": errno.EPERM, "clone3": errno.ENOSYS, "io_uring_setup": errno.ENOSYS,
           "io_uring_enter": errno.ENOSYS, "io_uring_register": errno.ENOSYS,
           "add_key": errno.EPERM, "request_key": errno.EPERM, "keyctl": errno.EPERM,
           "shmget": errno.EPERM, "msgget": errno.EPERM, "semget": errno.EPERM, "mq_open": errno.EPERM,
           "perf_event_open": errno.EPERM}
# The first argument is a pid: allowed for 0 (the caller) only.
_SELF_ONLY = ("prlimit64", "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr",
              "migrate_pages", "move_pages")
# (which, who, ...): allowed for who = 0 (the caller's own process or group), never for its whole uid.
_OWN_PROCESS_OR_GROUP = {"setpriority": _PRIO_USER, "ioprio_set": _IOPRIO_WHO_USER}


def supported() -> bool:
    return os.uname().machine in _ARCHES


def _instruction(code: int, k: int, jump_true: int = 0, jump_false: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jump_true, jump_false, k)


def _argument(index: int) -> bytes:
    """Load the low 32 bits of argument ``index`` (struct seccomp_data, little-endian): pids and
    the "which"/"who" ints are 32-bit, and the kernel ignores the upper half of the register."""
    return _instruction(_LD_W_ABS, 16 + 8 * index)


_ALLOW = _instruction(_RET_K, _RET_ALLOW)


def _deny(code: int) -> bytes:
    return _instruction(_RET_K, _RET_ERRNO | code)


def _when(number: int, block: list[bytes]) -> list[bytes]:
    """``block`` for the system call ``number``; it returns on every path, so that the next
    test still finds the number in the accumulator when the call is another."""
    return [_instruction(_JEQ_K, number, 0, len(block)), *block]


def program() -> bytes:
    """The filter for this machine's architecture, as packed ``struct sock_filter`` entries."""
    arch, numbers = _ARCHES[os.uname().machine]
    parts = [
        _instruction(_LD_W_ABS, _OFFSET_ARCH),
        _instruction(_JEQ_K, arch, 1, 0),
        _instruction(_RET_K, _RET_KILL_PROCESS),
        _instruction(_LD_W_ABS, _OFFSET_NR),
    ]
    if os.uname().machine == "x86_64":
        parts += [_instruction(_JGE_K, _X32_BIT, 0, 1), _instruction(_RET_K, _RET_KILL_PROCESS)]
    for name, code in _DENIED.items():
        parts += _when(numbers[name], [_deny(code)])
    for name in _SELF_ONLY:
        parts += _when(numbers[name], [_argument(0), _instruction(_JEQ_K, 0, 0, 1), _ALLOW, _deny(errno.EPERM)])
    for name, whole_uid in _OWN_PROCESS_OR_GROUP.items():
        parts += _when(numbers[name], [_argument(1), _instruction(_JEQ_K, 0, 0, 3),
                                       _argument(0), _instruction(_JEQ_K, whole_uid, 1, 0),
                                       _ALLOW, _deny(errno.EPERM)])
    # clone(flags, ...): no new namespace, no child handed to the caller's parent.
    parts += _when(numbers["clone"], [_argument(0), _instruction(_JSET_K, _NAMESPACE_FLAGS | _CLONE_PARENT, 0, 1),
                                      _deny(errno.EPERM), _ALLOW])
    parts.append(_ALLOW)
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
