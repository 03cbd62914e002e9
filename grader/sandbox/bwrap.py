"""The bwrap backend: whether bubblewrap can run here, and the sandboxes it builds.

A new mount, pid, net, ipc, uts and cgroup namespace (and a user namespace when the grader is
not root); a file system empty but for read-only binds of what ``layout`` shows (the
interpreter, its standard library with its package folders covered, numpy, the files the dynamic
loader opens to run them): neither the grader package nor any other installed code is
importable, and the task's reference, tests and the grader's files are never mounted. A private
tmpfs of ``scratch_mb`` is the only writable place. The environment is ``SANDBOX_ENV`` alone.

Two command lines, one sandbox: ``runner_command`` for a single grading (the runner as its
program) and ``worker_command`` for a warm worker (``pool``; the warm worker as its program,
which drops each child to the submission's uid itself). ``plan`` is what ``launch.start`` runs.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from . import confined, layout
from . import limits as sandbox_limits
from .confined import seccomp
from .limits import Limits
from .plan import Plan

# Per process and privilege: bwrap's verdict once known, else the probe started to learn it.
_verdicts: dict[bool, str | None] = {}
_started_probes: dict[bool, subprocess.Popen] = {}
# What root needs to keep inside a sandbox to drop the student's processes to a uid of their own.
_SWITCH_UID = ("CAP_SETUID", "CAP_SETGID")


def missing(as_root: bool) -> str | None:
    """Why bwrap cannot even be tried here (a program not installed), else None."""
    if not shutil.which("bwrap"):
        return "bubblewrap (bwrap) is not installed"
    if as_root and not shutil.which("setpriv"):
        return "setpriv (util-linux) is not installed"
    return None


def _probe(as_root: bool) -> subprocess.Popen:
    command = [shutil.which("bwrap"), *_namespace_flags(as_root), "--ro-bind", "/", "/", "--proc", "/proc",
               "--dev", "/dev", "true"]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start_probe() -> None:
    """Start ``problem``'s probe in the background, so that it runs while the caller does
    other work (``grader grade`` loads its task meanwhile); ``problem`` collects it."""
    as_root = os.geteuid() == 0
    if as_root in _verdicts or as_root in _started_probes or missing(as_root):
        return
    try:
        _started_probes[as_root] = _probe(as_root)
    except OSError:
        pass  # problem() probes again and says why


def probe_started(as_root: bool) -> bool:
    return as_root in _started_probes


def problem(as_root: bool) -> str | None:
    """None when bwrap can start a sandbox here, else why not (probed once per process)."""
    if as_root not in _verdicts:
        _verdicts[as_root] = _probe_verdict(as_root)
    return _verdicts[as_root]


def known_problem(as_root: bool) -> str | None:
    """The probe's verdict if it is known already (None: works, or not known yet)."""
    return _verdicts.get(as_root)


def _probe_verdict(as_root: bool) -> str | None:
    missing_program = missing(as_root)
    if missing_program:
        return missing_program
    try:
        probe = _started_probes.pop(as_root, None) or _probe(as_root)
    except OSError as exc:
        return f"bwrap failed to start: {exc}"
    try:
        _, stderr = probe.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        probe.kill()
        probe.wait()
        return "bwrap failed to start: it did not finish within 10 s"
    finally:
        from .reaping import reap_strays  # (a grading collects the probe after its sandbox started)

        reap_strays()
    if probe.returncode != 0:
        return "bwrap cannot create namespaces here: " + stderr.decode("utf-8", "replace").strip()[:300]
    return None


def _namespace_flags(as_root: bool) -> list[str]:
    common = ["--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid", "--unshare-net",
              "--unshare-uts", "--unshare-cgroup-try"]
    # As root, bwrap mounts without a user namespace; the uid is dropped inside (setpriv),
    # so the student is an ordinary uid on the host and RLIMIT_NPROC applies.
    return common if as_root else ["--unshare-user", *common]


@lru_cache(maxsize=1)
def landlock_abi() -> int:
    """The kernel's Landlock ABI as the grader sees it (0: none), asked once per process."""
    from .confined import landlock  # ctypes: asked only where the runner confines itself (not root)

    return landlock.abi_version()


def _sandbox(limits: Limits, as_root: bool, setpriv: Path | None) -> list[str]:
    """bwrap and every option of the sandbox itself: namespaces, environment, what of the host is
    shown, the private tmpfs. ``setpriv``: also shown (with the files it needs), for root to run it."""
    lay = layout.layout()
    args = [shutil.which("bwrap"), *_namespace_flags(as_root), "--clearenv"]
    for name, value in layout.SANDBOX_ENV.items():
        args += ["--setenv", name, value]
    # The host's top-level symlinks (/lib -> usr/lib), through which the loader names libraries.
    for link in ("lib", "lib32", "lib64", "libx32"):
        if os.path.islink(f"/{link}"):
            args += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
    # The interpreter and its standard library, where they are on the host (no package folder);
    # the loader, the shared libraries, the loader's cache, the locale; numpy alone, at
    # SANDBOX_SITE. Nothing else of the system.
    others = (setpriv,) if setpriv else ()
    binds = [(str(lay.python_executable), str(lay.python_executable)), (str(lay.stdlib), str(lay.stdlib))]
    binds += layout.runtime_files(lay.python_executable, lay.stdlib, lay.numpy_dirs, others)
    binds += [(str(path), str(path)) for path in (layout.LOADER_CACHE, layout.LOCALE, *others) if path.exists()]
    binds += [(str(directory), f"{layout.SANDBOX_SITE}/{directory.name}") for directory in lay.numpy_dirs]
    # Every folder above them listable by the student uid (bwrap would make them 0700).
    folders = {str(parent) for _, shown in binds for parent in Path(shown).parents if parent != Path("/")}
    for folder in sorted(folders, key=lambda path: (path.count("/"), path)):
        args += ["--perms", "0755", "--dir", folder]
    for source, shown in binds:
        args += ["--ro-bind", source, shown]
    for folder in layout.hidden_in_stdlib(lay.stdlib):
        args += ["--tmpfs", str(folder)]
    args += ["--proc", "/proc", "--dev", "/dev"]
    # The only writable place: a private tmpfs of bounded size, gone when the sandbox ends.
    args += ["--size", str(limits.scratch_mb * 1024 * 1024), "--perms", "1777", "--tmpfs", "/tmp",
             "--perms", "0777", "--dir", layout.SANDBOX_SCRATCH, "--chdir", layout.SANDBOX_SCRATCH]
    return args


def _setpriv() -> Path:
    return Path(os.path.realpath(shutil.which("setpriv")))


def runner_command(limits: Limits, uid: int | None, result_fd: int, seccomp_fd: int | None = None,
                   confine: bool = False, info_fd: int | None = None) -> list[str]:
    """A single grading's command line: the runner in the sandbox, its results on ``result_fd``.

    ``uid``: as root, the runner runs as that uid, through setpriv with no capability left.
    ``seccomp_fd``: a readable pipe holding the seccomp filter, which bwrap installs before the
    runner starts (above all: no user namespaces, which bwrap as root would otherwise let the
    student create - a large kernel surface, no use here). ``confine``: the runner puts itself in a
    Landlock domain of its own before the student's code runs (``runner.confine``): as an ordinary
    uid, bwrap's own init process in the sandbox has the student's uid and no seccomp filter, and
    could otherwise be traced, its memory written (/proc/1/mem) or signalled. ``info_fd``: where
    bwrap writes the host pid of its init process in the sandbox (``launch.finish`` reads what it used)."""
    setpriv = _setpriv() if uid is not None else None
    args = _sandbox(limits, uid is not None, setpriv)
    extra = [confined.source("landlock")] if confine else []
    runner = confined.argv(layout.layout().python_executable, "runner", layout.SANDBOX_SITE, str(result_fd), *extra)
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    if uid is None:
        return [*args, "--", *runner]
    return [*args, *_capabilities(_SWITCH_UID), "--",
            str(setpriv), f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", *runner]


def worker_command(limits: Limits, child_uid: int | None, program: list[str]) -> list[str]:
    """A warm worker's command line: the sandbox of a single grading (same namespaces, binds,
    tmpfs and environment) running ``program``, the warm worker, which installs the seccomp
    filter and the uid switch in each child itself. ``child_uid``: as root, the uid every child
    drops to; the worker keeps what it needs for that (CAP_SETUID, CAP_SETGID) and to kill and
    delete what a child of another uid left (CAP_KILL, CAP_DAC_OVERRIDE, CAP_FOWNER)."""
    if child_uid is None:
        return [*_sandbox(limits, False, None), "--", *program]
    keep = (*_SWITCH_UID, "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER")
    return [*_sandbox(limits, True, _setpriv()), *_capabilities(keep), "--", *program]


def _capabilities(names) -> list[str]:
    return [option for name in names for option in ("--cap-add", name)]


def _readable_pipe(data: bytes) -> int:
    """The read end of a pipe holding ``data`` (small enough for the pipe's buffer)."""
    read, write = os.pipe()
    os.write(write, data)
    os.close(write)
    return read


def single_facts(own_uid: bool, seccomp_installed: bool) -> dict:
    """The facts (``guarantees.Setup``) of a single grading's sandbox: as an ordinary uid the
    runner confines itself with Landlock where the kernel has it; as root it runs as a uid of its own."""
    confine = not own_uid and landlock_abi() > 0
    return {"backend": "bwrap", "own_uid": own_uid, "seccomp": seccomp_installed,
            "landlock_abi": landlock_abi() if confine else 0}


def plan(limits: Limits, uid: int | None, result_fd: int) -> Plan:
    """A single grading under bwrap, as ``launch.start`` runs it."""
    seccomp_fd = _readable_pipe(seccomp.program()) if seccomp.supported() else None
    info_read, info_write = os.pipe()
    confine = uid is None and landlock_abi() > 0
    try:
        command = runner_command(limits, uid, result_fd, seccomp_fd, confine, info_write)
    except BaseException:
        for fd in (seccomp_fd, info_read, info_write):
            if fd is not None:
                os.close(fd)
        raise
    facts = single_facts(uid is not None, seccomp_fd is not None)
    # As an ordinary uid, bwrap itself must stay free to clone into its new namespaces:
    # RLIMIT_NPROC would count every process of the grader's uid (concurrent gradings
    # too) and refuse that clone. The runner sets it inside (``runner.main``), where it
    # counts the user namespace's processes alone, the sandbox's.
    rlimits = [
        pair for pair in sandbox_limits.rlimit_pairs(limits) if uid is not None or pair[0] != resource.RLIMIT_NPROC
    ]
    child_only = [info_write] + ([] if seccomp_fd is None else [seccomp_fd])  # bwrap reads or writes them
    return Plan(command, dict(layout.SANDBOX_ENV), (result_fd, *child_only), lambda: sandbox_limits.apply(rlimits),
                facts, close_after_start=child_only, cleanup=[lambda: os.close(info_read)], info_fd=info_read)
