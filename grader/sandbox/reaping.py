"""What reaches the grader of a sandbox's processes: orphans handed to it, reaped here.

Owns reaping the processes of finished sandboxes that the kernel hands to the grader (when it
is a container's pid 1 or a subreaper): each would stay a zombie, counted against the
container's pids limit, until the grader exits.
"""

from __future__ import annotations

import os
import sys
import time
from functools import lru_cache


@lru_cache(maxsize=1)
def _orphans_come_here() -> bool:
    """Whether the kernel hands orphaned processes to this one: it is a container's first
    process (pid 1, as the grader is in its image) or a subreaper. Elsewhere they go to the
    machine's init, and nothing of a sandbox can become the grader's child (seccomp refuses
    CLONE_PARENT)."""
    if os.getpid() == 1:
        return True
    import ctypes  # here: asked once, after the first sandbox of a grading has started

    flag = ctypes.c_int(0)
    ctypes.CDLL(None).prctl(37, ctypes.byref(flag), 0, 0, 0)  # PR_GET_CHILD_SUBREAPER
    return bool(flag.value)


def become_subreaper() -> None:
    """Have the kernel hand this process the orphans of its descendants, as a container's pid 1 gets
    them: bwrap's init process in the sandbox, which waited for the student's process, then comes
    here and what they used can be read (``launch.finish``); every orphan is reaped as in pid 1."""
    import ctypes

    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    _orphans_come_here.cache_clear()


def reap_strays(group: int | None = None, patience: float = 2.0) -> None:
    """Reap the processes of finished sandboxes that were handed to the grader as orphans: each
    would stay a zombie, counted against the container's pids limit, until the grader exits.

    Two kinds, neither of which the grader started (so no ``Popen`` of its own loses its exit
    status): members of the process ``group`` of a sandbox just killed (the process backend's
    orphans, which cannot leave it: seccomp refuses setsid and setpgid), and children living in a
    pid namespace below the grader's (bwrap's own init process, orphaned whenever bwrap's outer
    process ends; the grader never starts a process in a new pid namespace itself).
    """
    if not _orphans_come_here():
        return
    deadline = time.monotonic() + patience
    while group is not None:
        try:
            if os.waitid(os.P_PGID, group, os.WEXITED | os.WNOHANG) is not None:
                continue
        except ChildProcessError:
            break  # no child of ours is left in the group
        if time.monotonic() > deadline:
            break
        time.sleep(0.005)
    nested = _children_in_nested_pid_namespaces()
    while nested:
        for pid in list(nested):
            try:
                if os.waitpid(pid, os.WNOHANG) == (0, 0):
                    continue
            except ChildProcessError:
                pass
            nested.remove(pid)
        if time.monotonic() > deadline:
            break
        time.sleep(0.005)
    if nested:
        print(f"grader: processes {sorted(nested)} of finished sandboxes are still alive", file=sys.stderr)


def _children_in_nested_pid_namespaces() -> list[int]:
    me = os.getpid()
    depth = _pid_namespace_depth("self")
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                parent = int(handle.read().rsplit(b")", 1)[1].split()[1])
            if parent == me and _pid_namespace_depth(entry) > depth:
                found.append(int(entry))
        except (OSError, ValueError, IndexError):
            pass
    return found


def _pid_namespace_depth(pid: str) -> int:
    """How many pid namespaces ``pid`` is seen from (its NSpid line), zombies included."""
    with open(f"/proc/{pid}/status", "rb") as handle:
        for line in handle:
            if line.startswith(b"NSpid:"):
                return len(line.split()) - 1
    return 1
