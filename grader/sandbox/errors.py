"""How a sandbox fails before the student's code ran."""

from __future__ import annotations


class SandboxUnavailable(RuntimeError):
    """The requested backend cannot run on this machine."""
