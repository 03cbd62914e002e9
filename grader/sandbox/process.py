"""The process backend: the fallback where namespaces are not allowed (e.g. Docker's default
seccomp profile).

The student's interpreter is the grader's own (as root, a system one the sandbox uid can reach:
``interpreter``), started in a fresh work folder under the host's temporary folder, with an empty
environment, in a new session, and confined between fork and exec: a Landlock allow-list
(read-only: the same files bwrap shows; writable: the work folder only; no TCP; no signals
outside), the seccomp filter (no new session or process group, no socket, no namespaces), every
rlimit; as root also a new network, IPC and UTS namespace, a tmpfs of ``scratch_mb`` over the
work folder in a mount namespace of its own, and a uid of its own. Without Landlock it refuses
to run unless it is root (the uid switch is then the file barrier). The work folder is deleted
afterwards with ``removal``, whatever the student did to it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import confined, layout
from . import limits as sandbox_limits
from .confined import removal, seccomp
from .errors import SandboxUnavailable
from .limits import Limits
from .plan import Plan

_CLONE_NEWNET, _CLONE_NEWIPC, _CLONE_NEWUTS, _CLONE_NEWNS = 0x40000000, 0x08000000, 0x04000000, 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000


def _reachable_by_others(path: Path) -> bool:
    """Whether a uid with no special rights can reach ``path`` (every folder above it o+x)."""
    try:
        if not path.stat().st_mode & 0o005:
            return False
        return all(parent.stat().st_mode & 0o001 for parent in path.parents)
    except OSError:
        return False


def interpreter(as_root: bool) -> tuple[Path, Path]:
    """(executable, stdlib folder) the process backend runs the student with.

    As root the student runs as another uid, which must be able to reach the interpreter:
    an installation under a private home (e.g. pyenv in /root) is replaced by a system
    Python of the same version.
    """
    lay = layout.layout()
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [(lay.python_executable, lay.stdlib)]
    if as_root:
        candidates += [(Path(f"{prefix}/bin/python{version}"), Path(f"{prefix}/lib/python{version}"))
                       for prefix in ("/usr/local", "/usr")]
    for executable, stdlib in candidates:
        if not as_root or (_reachable_by_others(executable) and _reachable_by_others(stdlib / "os.py")):
            if executable.exists() and (stdlib / "os.py").exists():
                return executable, stdlib
    raise SandboxUnavailable(
        f"no Python {version} installation is readable by the sandbox uid (the grader's own "
        f"is under a private folder); install python{version} system-wide or use the bwrap backend"
    )


def plan(limits: Limits, uid: int | None, result_fd: int) -> Plan:
    """A single grading under the process backend, as ``launch.start`` runs it."""
    import tempfile  # only this backend uses it, and `grader grade` starts bwrap without it

    workdir = Path(tempfile.mkdtemp(prefix="cnn-grader-"))
    opened: list[int] = []
    try:
        scratch = workdir / "work"
        scratch.mkdir()
        os.chmod(workdir, 0o755)
        if uid is not None:
            os.chown(scratch, uid, uid)
        scratch.chmod(0o700)
        command, before_exec, facts, status = _confined_child(limits, uid, scratch, result_fd, opened)
    except BaseException:
        _close_all(opened)
        _remove_work_folder(workdir)
        raise
    env = dict(layout.SANDBOX_ENV, HOME=str(scratch))
    # The Landlock ruleset serves the child between fork and exec only.
    return Plan(command, env, (result_fd,), before_exec, facts, close_after_start=opened,
                cleanup=[lambda: _remove_work_folder(workdir)], status=status)


def _confined_child(limits: Limits, uid: int | None, scratch: Path, result_fd: int, opened: list[int]):
    """The runner's command, the function the child runs before exec, the facts of the sandbox
    known before it runs, and the status pipe on which the child adds the others. ``opened`` gets the descriptor
    of the Landlock ruleset, to close once the child has started."""
    # Imported here, where only this backend pays for them; in the parent, so that the child's
    # before_exec (landlock, seccomp.install) finds them loaded between fork and exec.
    import ctypes

    from .confined import landlock

    lay = layout.layout()
    executable, stdlib = interpreter(uid is not None)
    numpy_site = scratch.parent / "site"
    numpy_site.mkdir()
    for directory in lay.numpy_dirs:
        (numpy_site / directory.name).symlink_to(directory)
    abi = landlock.abi_version()
    if not abi and uid is None:
        raise SandboxUnavailable("the process backend needs Landlock when the grader is not root: the student's code "
                                 "would run as the grader's own uid and could read every file the grader can, the "
                                 "reference included (use bwrap, or run the grader as root)")
    # What bwrap shows (see layout.Layout), as Landlock rules: the interpreter, its standard
    # library but its package folders, numpy, the files the loader opens, and two devices.
    visible = [executable, *lay.numpy_dirs, numpy_site]
    visible += [entry for entry in stdlib.iterdir() if entry.name not in layout.HIDDEN_IN_STDLIB]
    visible += [Path(source) for source, _ in layout.runtime_files(executable, stdlib, lay.numpy_dirs)]
    visible += [path for path in (layout.LOADER_CACHE, layout.LOCALE, Path("/dev/null"), Path("/dev/urandom"))
                if path.exists()]
    rules = None
    if abi:
        # Added here, each path's descriptor closed at once: the child inherits one descriptor,
        # the ruleset's (and a batch's concurrent sandboxes hold one each, not one per path).
        rules = landlock.ruleset(abi)
        opened.append(rules)
        for path in visible:
            try:
                landlock.allow_path(rules, path, landlock.read_only_access(os.path.isdir(path)))
            except OSError:
                pass  # a path the grader cannot reach is left out: nothing is allowed there
        # The standard library's folder itself may be listed, as Python does to import from it;
        # its package folders' names are then listable too, never their files.
        landlock.allow_path(rules, stdlib, landlock.READ_DIR)
    facts = {"backend": "process", "own_uid": uid is not None, "landlock_abi": abi}
    as_root = uid is not None
    libc = ctypes.CDLL(None, use_errno=True)
    rlimits = sandbox_limits.rlimit_pairs(limits)
    status_read, status_write = os.pipe()

    def before_exec():
        notes = []
        try:
            if as_root and libc.unshare(_CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS) == 0:
                notes.append("network_namespace")
            if as_root and _mount_scratch_tmpfs(libc, scratch, limits.scratch_mb, uid):
                notes.append("scratch_tmpfs")
            if rules is not None:
                # Here, in the child: the rule must name the tmpfs if one is now mounted there,
                # not the folder under it. (The ruleset is this sandbox's alone.)
                landlock.allow_path(rules, scratch, landlock.handled_fs(abi))
                landlock.restrict_self(rules)
            if seccomp.supported():
                seccomp.install()
                notes.append("seccomp")
            sandbox_limits.apply(rlimits)
            if as_root:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            os.chdir(scratch)
        except BaseException as exc:
            os.write(status_write, f"failed:{type(exc).__name__}: {exc}".encode()[:400])
            raise
        os.write(status_write, ",".join(notes).encode())
        os.close(status_write)

    command = confined.argv(executable, "runner", str(numpy_site), str(result_fd))
    return command, before_exec, facts, (status_read, status_write)


def _close_all(descriptors: list[int]) -> None:
    for fd in descriptors:
        os.close(fd)


def _remove_work_folder(workdir: Path) -> None:
    """Delete the process backend's work folder, whatever the student did to it; if that fails,
    say so (it takes room in the host's temporary folder), but the grading stands."""
    try:
        removal.remove_tree(workdir)
    except OSError as exc:
        print(f"grader: the sandbox's work folder {workdir} could not be deleted and takes room there: {exc}",
              file=sys.stderr)


def _mount_scratch_tmpfs(libc, scratch: Path, size_mb: int, uid: int) -> bool:
    """As root: make the scratch folder a tmpfs of ``size_mb`` in a mount namespace of the
    child's own, so that a disk flood stops at scratch_mb as under bwrap. False if refused
    (e.g. a container without CAP_SYS_ADMIN); the scratch folder is then a plain folder."""
    if libc.unshare(_CLONE_NEWNS) != 0:
        return False
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return False
    options = f"size={size_mb}m,mode=0700,uid={uid},gid={uid}".encode()
    return libc.mount(b"tmpfs", bytes(scratch), b"tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, options) == 0
