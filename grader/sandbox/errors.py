"""Every way a sandbox can fail that is not the student's doing: one base, ``SandboxError``.

Such a failure is the grader's, never the student's: the platform is told "error" (exit 3),
retries, and does not count the attempt. Callers catch ``SandboxError``; the subclasses say
where it happened, and ``grading.failures.reason`` words each for the platform.
"""

from __future__ import annotations


class SandboxError(RuntimeError):
    """A sandbox failed before the student's code ran, or from outside while it ran."""


class SandboxUnavailable(SandboxError):
    """The requested backend cannot run on this machine (bwrap demanded where it cannot run, no
    Landlock for an unprivileged process backend, every sandbox uid busy, ...)."""


class SandboxFailure(SandboxError):
    """A sandbox or its runner failed before the student's code could run (it could not be
    started, or never said it was ready), or the sandbox was killed from outside while it ran."""


class WorkerLost(SandboxError):
    """A warm worker died, hung or could not start; its sandbox was killed."""
