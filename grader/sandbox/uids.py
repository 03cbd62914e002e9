"""Uid slots: one uid of its own for every concurrent grading when the grader runs as root.

Owns handing out a uid/gid from ``sandbox_uids`` (root would ignore RLIMIT_NPROC and could
read everything) and making sure nothing of it is left when it is handed back: every process
of that uid is killed before the next grading may take it.
"""

from __future__ import annotations

import fcntl
import os
import signal
from pathlib import Path

from .errors import SandboxUnavailable

# Machine-wide, whatever TMPDIR a grader runs with: every grader on the machine must see the
# same locks, or two gradings could be given the same uid.
SLOT_DIR = Path("/tmp/cnn-grader-slots")


class Slot:
    """An exclusive uid/gid for one grading, held by a lock file until released."""

    def __init__(self, first: int, count: int):
        SLOT_DIR.mkdir(mode=0o755, exist_ok=True)
        for offset in range(count):
            handle = open(SLOT_DIR / f"{first + offset}.lock", "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            self.uid = first + offset
            self._handle = handle
            return
        raise SandboxUnavailable(f"all {count} sandbox uids are busy")

    def release(self) -> None:
        kill_all_of_uid(self.uid)
        self._handle.close()


def take(uid_range: dict) -> Slot | None:
    """A slot of ``uid_range`` (grader.yaml's ``sandbox_uids``) when the grader is root, else None:
    an ordinary uid cannot switch uids, and its sandbox runs as the grader's own."""
    return Slot(uid_range["first"], uid_range["count"]) if os.geteuid() == 0 else None


def kill_all_of_uid(uid: int) -> None:
    """SIGKILL every process of ``uid``: a child becomes that uid and calls kill(-1)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        os._exit(0)
    os.waitpid(pid, 0)
