"""Every limit of one sandbox, and every resource limit the student's process gets.

Owns ``Limits`` (grader.yaml's ``limits``, as its schema names them) and turning them into the
rlimits of the sandboxed process: all sixteen of Linux, decided here on the trusted side, so that
a sandbox never keeps a value of the process that starts it (a warm worker, the grader).
"""

from __future__ import annotations

import resource
from collections import namedtuple


class Limits(namedtuple("Limits", "cpu_seconds wall_seconds memory_mb processes file_size_mb scratch_mb "
                                 "open_files output_kb result_mb")):
    """Every limit of one sandbox, as grader.yaml names them (units and meaning: its schema)."""

    __slots__ = ()

    @classmethod
    def from_dict(cls, values: dict) -> Limits:
        return cls(**{name: values[name] for name in cls._fields})


_RLIMIT_LOCKS = 10  # Linux's number; Python's resource module does not name it
# RLIMIT_STACK: the usual default, which CPython's recursion limit is made for.
_STACK_BYTES = 8 * 1024 * 1024


def _rlimits(limits: Limits) -> dict[int, int]:
    """Every resource limit Linux has (RLIM_NLIMITS is 16), decided here: the sandbox never keeps
    a value of the process that starts it (a warm worker, the grader), whatever that one has."""
    mib = 1024 * 1024
    memory = limits.memory_mb * mib
    return {
        resource.RLIMIT_CPU: limits.cpu_seconds,
        resource.RLIMIT_AS: memory,
        resource.RLIMIT_DATA: memory,  # within the address space anyway
        resource.RLIMIT_RSS: memory,  # (Linux ignores it)
        resource.RLIMIT_STACK: _STACK_BYTES,
        resource.RLIMIT_NPROC: limits.processes,
        resource.RLIMIT_FSIZE: limits.file_size_mb * mib,
        resource.RLIMIT_NOFILE: limits.open_files,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_MEMLOCK: 0,  # no memory locked away from the host
        resource.RLIMIT_MSGQUEUE: 0,  # no POSIX message queue: it would outlive the grading
        resource.RLIMIT_NICE: 0,  # no raising its own priority
        resource.RLIMIT_RTPRIO: 0,  # no real-time scheduling...
        resource.RLIMIT_RTTIME: 0,  # ...so no real-time CPU time either
        # Queued signals and file locks: the grader's own values (the kernel's defaults).
        resource.RLIMIT_SIGPENDING: resource.getrlimit(resource.RLIMIT_SIGPENDING)[1],
        _RLIMIT_LOCKS: resource.getrlimit(_RLIMIT_LOCKS)[1],
    }


def rlimit_pairs(limits: Limits) -> list[tuple[int, int, int]]:
    """(resource, soft, hard) of every limit, as the sandboxed process gets them (a warm worker's
    every child too), computed on the trusted side. None above the grader's own hard limit,
    which an unprivileged process could not raise: the sandbox then gets that lower value."""
    pairs = []
    for which, value in _rlimits(limits).items():
        # A second of grace above the CPU soft limit, so that SIGXCPU (reported as a timeout)
        # arrives before the kernel's SIGKILL.
        soft, hard = value, value + 1 if which == resource.RLIMIT_CPU else value
        ceiling = resource.getrlimit(which)[1]
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        pairs.append((which, soft, hard))
    return pairs


def apply(pairs: list[tuple[int, int, int]]) -> None:
    """Set ``pairs`` (``rlimit_pairs``) on the calling process: a child between fork and exec."""
    for which, soft, hard in pairs:
        resource.setrlimit(which, (soft, hard))
