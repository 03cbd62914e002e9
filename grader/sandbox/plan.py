"""What a backend hands ``launch.start``: one sandbox's command line and how its child is prepared.

Each backend (``bwrap``, ``process``) decides these; ``launch.start`` runs any plan the same way.
"""

from __future__ import annotations

import os


class Plan:
    """``command`` run with ``env`` alone, inheriting ``pass_fds``; ``prepare`` runs in the child
    between fork and exec; ``facts``: the facts of the sandbox its labels come from (the fields of
    ``guarantees.Setup``, built once the sandbox runs). ``close_after_start``: descriptors only the
    child needed; ``cleanup``: what to undo once the sandbox has ended (or failed to start), in
    reverse order. ``status``: a pipe (read, write) on which ``prepare`` writes the facts it could
    establish (names of ``Setup`` fields, comma-separated), or ``failed:`` and why it could not.
    ``info_fd``: where bwrap says the host pid of its first process in the sandbox (``--info-fd``)."""

    def __init__(self, command: list[str], env: dict[str, str], pass_fds: tuple[int, ...], prepare,
                 facts: dict, close_after_start: list[int] = (), cleanup: list = (),
                 status: tuple[int, int] | None = None, info_fd: int | None = None):
        self.command, self.env, self.pass_fds, self.prepare = command, env, pass_fds, prepare
        self.info_fd = info_fd
        self.facts = dict(facts)
        self.close_after_start = list(close_after_start)
        self.cleanup = list(cleanup)
        self.status = status

    def started(self) -> None:
        """The child runs the command: close what only it needed, and add what it established."""
        self.facts.update(dict.fromkeys((fact for fact in self._close().split(",") if fact), True))

    def failed(self) -> str | None:
        """The child did not start: why its preparation failed, if it said so."""
        notes = self._close()
        return notes[len("failed:"):] if notes.startswith("failed:") else None

    def _close(self) -> str:
        for fd in self.close_after_start:
            os.close(fd)
        self.close_after_start = []
        if self.status is None:
            return ""
        read, write = self.status
        self.status = None
        os.close(write)
        try:
            return os.read(read, 500).decode("utf-8", "replace")
        finally:
            os.close(read)
