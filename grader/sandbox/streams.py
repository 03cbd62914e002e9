"""The streams between the trusted side and a running sandbox.

Owns the pipes' size and what the collection makes of them (``Outcome``).
"""

from __future__ import annotations

import fcntl
from collections import namedtuple

PIPE_BYTES = 1 << 20


def widen_pipe(fd: int) -> None:
    """Let a pipe hold a whole case's outputs: the runner goes on with the next case while the
    trusted side is busy (computing the reference, judging), and both sides wake up less."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except OSError:
        pass  # over the system's pipe-max-size: the default size works too


class Outcome(namedtuple("Outcome", "backend enforced results returncode timed_out result_limited stdout stderr "
                                    "dropped elapsed", defaults=(None, False, False, "", "", 0, 0.0))):
    """What happened in the sandbox (``results``: the parsed result stream, a
    ``channel.Results``); verdicts are decided elsewhere."""

    __slots__ = ()

    @property
    def signal(self) -> int | None:
        """The signal that ended the student's process, if one did."""
        if self.returncode is None:
            return None
        if self.returncode < 0:
            return -self.returncode
        # bwrap reports a child killed by signal N as exit status 128 + N.
        if self.backend == "bwrap" and self.returncode > 128:
            return self.returncode - 128
        return None
