"""The sandbox: where and how student code runs, and what it is denied.

Read top to bottom, this module is the list of what the student's process gets.
Two backends, chosen by ``sandbox: auto|bwrap|process`` (auto = bwrap when it works):

bwrap   (bubblewrap) a new mount, pid, net, ipc, uts and cgroup namespace; the filesystem is
        empty but for read-only binds of the interpreter, its standard library (its
        site-packages covered by an empty tmpfs), numpy's folder and the few system files the
        dynamic loader opens to run them (``Layout``): neither the grader package nor any other
        installed code is importable; a size-limited private tmpfs is the only writable place.
        The task's reference, tests and the grader's files are never mounted.
process fallback where namespaces are not allowed (e.g. Docker's default seccomp profile):
        Landlock allow-list (read-only: the same files as bwrap shows; writable: the scratch
        folder only; no TCP; no signals outside), a seccomp filter (no new session or
        process group, no socket, no namespaces), an empty environment, a
        private scratch folder; as root also a new network namespace and a scratch tmpfs
        of scratch_mb. Without Landlock it refuses to run unless it is root (uid switch).

Both: a new session; every rlimit decided by the grader (CPU, address space, processes, file
size, open files, no core, no locked memory, no message queue, no raised priority; see ``_rlimits``);
when the grader runs as root, the student code runs as a uid/gid of its own taken from
``sandbox_uids`` (root would ignore RLIMIT_NPROC and could read everything); a wall-clock
kill of the whole process group; -I -B -S so no environment, bytecode cache or .pth file
is honoured. The feedback records which backend ran and what it enforced; it never
falls back silently to no isolation.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from collections import namedtuple
from functools import lru_cache
from pathlib import Path

from .confined import removal
from .confined import seccomp

RUNNER_SOURCE = (Path(__file__).resolve().parent / "confined" / "runner.py").read_text(encoding="utf-8")
SANDBOX_SITE = "/opt/site"
SANDBOX_SCRATCH = "/tmp/work"
# Machine-wide, whatever TMPDIR a grader runs with: every grader on the machine must see the
# same locks, or two gradings could be given the same uid.
SLOT_DIR = Path("/tmp/cnn-grader-slots")
# numpy's BLAS starts a thread per core and reserves memory per thread, which fails under
# RLIMIT_AS; one thread keeps the student's numpy inside the address-space limit.
# numpy asks for transparent huge pages for arrays of 4 MiB and more; on a host whose memory
# is fragmented the kernel then compacts memory inside the page fault, which cost a 512 MiB
# allocation 1.2-1.7 s of system time here instead of 6 ms: a student's large arrays would
# run into the wall clock (TIMEOUT, not MEMORY_LIMIT) at a pace set by the host's state.
SANDBOX_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": SANDBOX_SCRATCH,
    "LANG": "C.UTF-8",
    "PYTHONIOENCODING": "utf-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMPY_MADVISE_HUGEPAGE": "0",
}
_CLONE_NEWNET, _CLONE_NEWIPC, _CLONE_NEWUTS, _CLONE_NEWNS = 0x40000000, 0x08000000, 0x04000000, 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000


class SandboxUnavailable(RuntimeError):
    """The requested backend cannot run on this machine."""


class Limits(namedtuple("Limits", "cpu_seconds wall_seconds memory_mb processes file_size_mb scratch_mb "
                                 "open_files output_kb result_mb")):
    """Every limit of one sandbox, as grader.yaml names them (units and meaning: its schema)."""

    __slots__ = ()

    @classmethod
    def from_dict(cls, values: dict) -> "Limits":
        return cls(**{name: values[name] for name in cls._fields})


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


# --- what the sandbox is allowed to see --------------------------------------------------


# What of the host the student's interpreter is shown, in every backend: the interpreter's
# executable and its standard library (lib-dynload's extension modules inside it; any
# site-packages or dist-packages folder in it hidden); numpy's folder and, in wheels, numpy.libs
# (its bundled OpenBLAS); and of the rest of the system only the files the dynamic loader opens
# to run those (``runtime_files``): the loader itself and the shared libraries they need. No
# other installed package - the distribution's /usr/lib/python3/dist-packages, the grader's own
# site-packages - is there to be imported. Every path is shown where it is on the host, so an
# interpreter built with --enable-shared finds its libpython by its RUNPATH.
Layout = namedtuple("Layout", "python_executable stdlib numpy_dirs")
HIDDEN_IN_STDLIB = ("site-packages", "dist-packages")


@lru_cache(maxsize=1)
def layout() -> Layout:
    """The grader's own interpreter, standard library and numpy (bwrap shows these; the process
    backend as root may use another interpreter: ``process_interpreter``)."""
    prefix = Path(sys.base_prefix).resolve()
    executable = Path(os.path.realpath(sys.executable))
    if not executable.is_relative_to(prefix):
        executable = prefix / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    stdlib = Path(sysconfig.get_paths(vars={"base": sys.base_prefix, "installed_base": sys.base_prefix})["stdlib"]).resolve()
    numpy_spec = importlib.util.find_spec("numpy")
    numpy_dir = Path(numpy_spec.origin).resolve().parent
    numpy_dirs = [numpy_dir] + [p for p in [numpy_dir.parent / "numpy.libs"] if p.is_dir()]
    return Layout(executable, stdlib, tuple(numpy_dirs))


def hidden_in_stdlib(stdlib: Path) -> list[Path]:
    """The package folders inside a standard library folder, which no sandbox shows."""
    return [stdlib / name for name in HIDDEN_IN_STDLIB if (stdlib / name).is_dir()]


def runtime_files(executable: Path, stdlib: Path, numpy_dirs: tuple[Path, ...],
                  others: tuple[Path, ...] = ()) -> list[tuple[str, str]]:
    """(host file, where the sandbox shows it) of every file of the system the dynamic loader
    opens to run ``executable``, the extension modules of ``stdlib/lib-dynload`` and of numpy,
    and the ``others`` programs (bwrap as root runs setpriv): see ``elfdeps``. A file is shown
    under its own name in the real folder of the path the loader asks for (the host's top
    symlinks, /lib -> usr/lib, are the sandbox's too). Files inside numpy's folders are left out:
    those are shown whole anyway.

    Following every library takes tens of milliseconds, more than a grading can spare: the
    answer is cached (``doccache``), keyed by the programs' and the loader cache's identity."""
    from ..spec import doccache

    dynload = stdlib / "lib-dynload"
    watched = [executable, dynload, *numpy_dirs, *others, _LOADER_CACHE]
    key = "\n".join(f"{path}:{_identity(path)}" for path in watched)

    def follow() -> list[list[str]]:
        from . import elfdeps

        programs = [executable, *others, *sorted(dynload.glob("*.so"))]
        programs += [path for folder in numpy_dirs for path in sorted(folder.rglob("*.so*")) if path.is_file()]
        shown = []
        for path in elfdeps.needed(programs):
            source = os.path.realpath(path)
            if not any(Path(source).is_relative_to(folder) for folder in numpy_dirs):
                shown.append([source, os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))])
        return shown

    return [tuple(pair) for pair in doccache.cached("runtime-files", key.encode(), follow)]


_LOADER_CACHE = Path("/etc/ld.so.cache")
# The C library's data for the LANG the sandbox sets (its locale: C.UTF-8).
_LOCALE = Path("/usr/lib/locale/C.utf8")


def _identity(path: Path) -> str:
    try:
        info = path.stat()
    except OSError:
        return "absent"
    return f"{info.st_dev}:{info.st_ino}:{info.st_mtime_ns}:{info.st_size}"


# --- uid slots: one uid per concurrent grading when running as root ----------------------


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


# --- limits --------------------------------------------------------------------------------


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


def _apply_rlimits(pairs: list[tuple[int, int, int]]) -> None:
    for which, soft, hard in pairs:
        resource.setrlimit(which, (soft, hard))


# --- backends ------------------------------------------------------------------------------


# Per process and privilege: bwrap's verdict once known, else the probe started to learn it.
_bwrap_verdicts: dict[bool, str | None] = {}
_started_probes: dict[bool, subprocess.Popen] = {}


def _missing_for_bwrap(as_root: bool) -> str | None:
    if not shutil.which("bwrap"):
        return "bubblewrap (bwrap) is not installed"
    if as_root and not shutil.which("setpriv"):
        return "setpriv (util-linux) is not installed"
    return None


def _probe(as_root: bool) -> subprocess.Popen:
    command = [shutil.which("bwrap"), *_namespace_flags(as_root), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
               "true"]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start_bwrap_probe() -> None:
    """Start ``bwrap_problem``'s probe in the background, so that it runs while the caller does
    other work (``grader grade`` loads its task meanwhile); ``bwrap_problem`` collects it."""
    as_root = os.geteuid() == 0
    if as_root in _bwrap_verdicts or as_root in _started_probes or _missing_for_bwrap(as_root):
        return
    try:
        _started_probes[as_root] = _probe(as_root)
    except OSError:
        pass  # bwrap_problem probes again and says why


def bwrap_problem(as_root: bool) -> str | None:
    """None when bwrap can start a sandbox here, else why not (probed once per process)."""
    if as_root not in _bwrap_verdicts:
        _bwrap_verdicts[as_root] = _probe_verdict(as_root)
    return _bwrap_verdicts[as_root]


def _probe_verdict(as_root: bool) -> str | None:
    missing = _missing_for_bwrap(as_root)
    if missing:
        return missing
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
        reap_strays()
    if probe.returncode != 0:
        return "bwrap cannot create namespaces here: " + stderr.decode("utf-8", "replace").strip()[:300]
    return None


def _namespace_flags(as_root: bool) -> list[str]:
    common = ["--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    # As root, bwrap mounts without a user namespace; the uid is dropped inside (setpriv),
    # so the student is an ordinary uid on the host and RLIMIT_NPROC applies.
    return common if as_root else ["--unshare-user", *common]


def expected_backend(requested: str) -> str | None:
    """The backend ``choose_backend`` will most likely choose, without waiting for bwrap's probe:
    bwrap wherever it is installed and the probe has not said no yet; None where there is nothing
    to guess (``choose_backend`` answers at once). ``grader grade`` starts its sandbox on this
    guess and replaces it when the guess was wrong."""
    as_root = os.geteuid() == 0
    if requested == "process":
        return "process"
    if _missing_for_bwrap(as_root) or _bwrap_verdicts.get(as_root):
        return None
    return "bwrap"


def choose_backend(requested: str) -> tuple[str, str | None]:
    """(backend, why bwrap was not used). Raises SandboxUnavailable if bwrap was demanded."""
    as_root = os.geteuid() == 0
    if requested == "process":
        if as_root in _started_probes:
            bwrap_problem(as_root)  # the probe `grade` started on a guess: waited for, not left a zombie
        return "process", None
    problem = bwrap_problem(as_root)
    if problem is None:
        return "bwrap", None
    if requested == "bwrap":
        raise SandboxUnavailable(problem)
    return "process", problem


LANDLOCK_SOURCE = (Path(__file__).resolve().parent / "confined" / "landlock.py").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _landlock_abi() -> int:
    from .confined import landlock

    return landlock.abi_version()


def _bwrap_command(limits: Limits, uid: int | None, result_fd: int, seccomp_fd: int | None = None,
                   confine: bool = False) -> list[str]:
    """bwrap's command line for a single grading. ``confine``: the runner puts itself in a
    Landlock domain of its own before the student's code runs (``runner.confine``): as an
    ordinary uid, bwrap's own init process in the sandbox has the student's uid and no seccomp
    filter, and could otherwise be traced, its memory written (/proc/1/mem) or signalled."""
    lay = layout()
    setpriv = Path(os.path.realpath(shutil.which("setpriv"))) if uid is not None else None
    args = [shutil.which("bwrap"), *_namespace_flags(uid is not None), "--clearenv"]
    for name, value in SANDBOX_ENV.items():
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
    binds += runtime_files(lay.python_executable, lay.stdlib, lay.numpy_dirs, others)
    binds += [(str(path), str(path)) for path in (_LOADER_CACHE, _LOCALE, *others) if path.exists()]
    binds += [(str(directory), f"{SANDBOX_SITE}/{directory.name}") for directory in lay.numpy_dirs]
    # Every folder above them listable by the student uid (bwrap would make them 0700).
    folders = {str(parent) for _, shown in binds for parent in Path(shown).parents if parent != Path("/")}
    for folder in sorted(folders, key=lambda path: (path.count("/"), path)):
        args += ["--perms", "0755", "--dir", folder]
    for source, shown in binds:
        args += ["--ro-bind", source, shown]
    for folder in hidden_in_stdlib(lay.stdlib):
        args += ["--tmpfs", str(folder)]
    args += ["--proc", "/proc", "--dev", "/dev"]
    # The only writable place: a private tmpfs of bounded size, gone when the sandbox ends.
    args += ["--size", str(limits.scratch_mb * 1024 * 1024), "--perms", "1777", "--tmpfs", "/tmp",
             "--perms", "0777", "--dir", SANDBOX_SCRATCH, "--chdir", SANDBOX_SCRATCH]
    python = [str(lay.python_executable), "-I", "-B", "-S", "-c", RUNNER_SOURCE, SANDBOX_SITE, str(result_fd),
              *([LANDLOCK_SOURCE] if confine else [])]
    if seccomp_fd is not None:
        # The process backend's filter: above all, no user namespaces, which bwrap as root
        # would otherwise let the student create (a large kernel surface, no use here).
        args += ["--seccomp", str(seccomp_fd)]
    if uid is not None:
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
                 str(setpriv), f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", *python]
    else:
        args += ["--", *python]
    return args


def _reachable_by_others(path: Path) -> bool:
    """Whether a uid with no special rights can reach ``path`` (every folder above it o+x)."""
    try:
        if not path.stat().st_mode & 0o005:
            return False
        return all(parent.stat().st_mode & 0o001 for parent in path.parents)
    except OSError:
        return False


def process_interpreter(as_root: bool) -> tuple[Path, Path]:
    """(executable, stdlib folder) the process backend runs the student with.

    As root the student runs as another uid, which must be able to reach the interpreter:
    an installation under a private home (e.g. pyenv in /root) is replaced by a system
    Python of the same version.
    """
    lay = layout()
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [(lay.python_executable, lay.stdlib)]
    if as_root:
        candidates += [(Path(f"{prefix}/bin/python{version}"), Path(f"{prefix}/lib/python{version}")) for prefix in ("/usr/local", "/usr")]
    for executable, stdlib in candidates:
        if not as_root or (_reachable_by_others(executable) and _reachable_by_others(stdlib / "os.py")):
            if executable.exists() and (stdlib / "os.py").exists():
                return executable, stdlib
    raise SandboxUnavailable(f"no Python {version} installation is readable by the sandbox uid (the grader's own is under a private folder); "
                             f"install python{version} system-wide or use the bwrap backend")


def _process_plan(limits: Limits, uid: int | None, scratch: Path, result_fd: int):
    """The process backend's command and the function the child runs before exec."""
    # Imported here, where only this backend pays for them; in the parent, so that the child's
    # before_exec (landlock, seccomp.install) finds them loaded between fork and exec.
    import ctypes

    from .confined import landlock

    lay = layout()
    executable, stdlib = process_interpreter(uid is not None)
    numpy_site = scratch.parent / "site"
    numpy_site.mkdir()
    for directory in lay.numpy_dirs:
        (numpy_site / directory.name).symlink_to(directory)
    abi = landlock.abi_version()
    if not abi and uid is None:
        raise SandboxUnavailable("the process backend needs Landlock when the grader is not root: the student's code "
                                 "would run as the grader's own uid and could read every file the grader can, the "
                                 "reference included (use bwrap, or run the grader as root)")
    read_only: list[tuple[int, bool]] = []
    # What bwrap shows (see Layout), as Landlock rules: the interpreter, its standard library
    # but its package folders, numpy, the files the loader opens, and two devices.
    visible = [executable, *lay.numpy_dirs, numpy_site]
    visible += [entry for entry in stdlib.iterdir() if entry.name not in HIDDEN_IN_STDLIB]
    visible += [Path(source) for source, _ in runtime_files(executable, stdlib, lay.numpy_dirs)]
    visible += [path for path in (_LOADER_CACHE, _LOCALE, Path("/dev/null"), Path("/dev/urandom")) if path.exists()]
    opened: list[int] = []
    listable: list[int] = []
    if abi:
        for path in visible:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            opened.append(fd)
            read_only.append((fd, os.path.isdir(path)))
        # The standard library's folder itself may be listed, as Python does to import from it;
        # its package folders' names are then listable too, never their files.
        listable.append(os.open(stdlib, os.O_PATH | os.O_CLOEXEC))
        opened += listable
        scratch_fd = os.open(scratch, os.O_PATH | os.O_CLOEXEC)
        opened.append(scratch_fd)
    enforced = ["rlimits", "new-session", "empty-environment", "private-scratch"]
    if uid is not None:
        enforced.append("own-uid")
    enforced += landlock.what_it_enforces(abi)
    as_root = uid is not None
    libc = ctypes.CDLL(None, use_errno=True)
    rlimits = rlimit_pairs(limits)
    status_read, status_write = os.pipe()

    def before_exec():
        notes = []
        try:
            writable = [scratch_fd] if abi else []
            if as_root and libc.unshare(_CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS) == 0:
                notes.append("new-network-namespace")
            if as_root and _mount_scratch_tmpfs(libc, scratch, limits.scratch_mb, uid):
                notes.append("private-tmpfs")
                # The rule must name the tmpfs now mounted there, not the folder under it.
                writable = [os.open(scratch, os.O_PATH | os.O_CLOEXEC)] if abi else []
            # Landlock first: the rule fds would not fit under the open-files limit.
            if abi:
                landlock.restrict(abi, read_only, writable, listable)
            if seccomp.supported():
                seccomp.install()
                notes.append(seccomp.ENFORCED)
            _apply_rlimits(rlimits)
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

    python = [str(executable), "-I", "-B", "-S", "-c", RUNNER_SOURCE, str(numpy_site), str(result_fd)]
    return python, before_exec, enforced, opened, (status_read, status_write)


def _remove_work_folder(workdir: Path) -> None:
    """Delete the process backend's work folder, whatever the student did to it; if that fails,
    say so (it takes room in the host's temporary folder), but the grading stands."""
    try:
        removal.remove_tree(workdir)
    except OSError as exc:
        print(f"grader: the sandbox's work folder {workdir} could not be deleted and takes room there: {exc}",
              file=sys.stderr)


def _readable_pipe(data: bytes) -> int:
    """The read end of a pipe holding ``data`` (small enough for the pipe's buffer)."""
    read, write = os.pipe()
    os.write(write, data)
    os.close(write)
    return read


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


# --- running ---------------------------------------------------------------------------------


class Launch:
    """A started sandbox whose runner waits for its request; ``send`` sets the deadline."""

    def __init__(self, process: subprocess.Popen, backend: str, enforced: list[str], limits: Limits,
                 result_read: int, cleanup: list):
        self.process, self.backend, self.enforced, self.limits = process, backend, enforced, limits
        self.result_read, self.cleanup = result_read, cleanup
        self.started = time.monotonic()
        self.deadline: float | None = None


PIPE_BYTES = 1 << 20


def widen_pipe(fd: int) -> None:
    """Let a pipe hold a whole case's outputs: the runner goes on with the next case while the
    trusted side is busy (computing the reference, judging), and both sides wake up less."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except OSError:
        pass  # over the system's pipe-max-size: the default size works too


def start(limits: Limits, backend: str, uid_range: dict) -> Launch:
    """Start the runner in the sandbox; it waits for its request on stdin."""
    as_root = os.geteuid() == 0
    slot = Slot(uid_range["first"], uid_range["count"]) if as_root else None
    uid = slot.uid if slot else None
    cleanup: list = [slot.release] if slot else []
    result_read, result_write = os.pipe()
    widen_pipe(result_write)
    preexec, status_pipe, seccomp_fd = None, None, None
    try:
        if backend == "bwrap":
            if seccomp.supported():
                seccomp_fd = _readable_pipe(seccomp.program())
            confine = uid is None and _landlock_abi() > 0
            command = _bwrap_command(limits, uid, result_write, seccomp_fd, confine)
            enforced = ["bwrap-namespaces", "read-only-system", "no-network", "rlimits", "private-tmpfs", "empty-environment"]
            if uid is not None:
                enforced.append("own-uid")
            if seccomp_fd is not None:
                enforced.append(seccomp.ENFORCED)
            if confine:
                from .confined import landlock

                enforced += landlock.what_it_enforces(_landlock_abi())

            # As an ordinary uid, bwrap itself must stay free to clone into its new namespaces:
            # RLIMIT_NPROC would count every process of the grader's uid (concurrent gradings
            # too) and refuse that clone. The runner sets it inside (``runner.main``), where it
            # counts the user namespace's processes alone, the sandbox's.
            rlimits = [pair for pair in rlimit_pairs(limits) if uid is not None or pair[0] != resource.RLIMIT_NPROC]

            def preexec():
                _apply_rlimits(rlimits)
        else:
            import tempfile

            workdir = Path(tempfile.mkdtemp(prefix="cnn-grader-"))
            cleanup.append(lambda: _remove_work_folder(workdir))
            scratch = workdir / "work"
            scratch.mkdir()
            os.chmod(workdir, 0o755)
            if uid is not None:
                os.chown(scratch, uid, uid)
            scratch.chmod(0o700)
            command, preexec, enforced, opened, status_pipe = _process_plan(limits, uid, scratch, result_write)
            cleanup.extend(lambda fd=fd: os.close(fd) for fd in opened)
        env = dict(SANDBOX_ENV)
        if backend == "process":
            env["HOME"] = str(workdir / "work")
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, close_fds=True, pass_fds=(result_write,) if seccomp_fd is None else (result_write, seccomp_fd),
            start_new_session=True, preexec_fn=preexec,
        )
    except BaseException as exc:
        os.close(result_read)
        os.close(result_write)
        if seccomp_fd is not None:
            os.close(seccomp_fd)
        for step in reversed(cleanup):
            step()
        if status_pipe:
            os.close(status_pipe[1])
            why = os.read(status_pipe[0], 500).decode("utf-8", "replace")
            os.close(status_pipe[0])
            if why.startswith("failed:"):
                raise SandboxUnavailable(f"the process backend could not set up: {why[7:]}") from exc
        raise
    os.close(result_write)
    if seccomp_fd is not None:
        os.close(seccomp_fd)
    if status_pipe:
        os.close(status_pipe[1])
        notes = os.read(status_pipe[0], 200).decode()
        os.close(status_pipe[0])
        enforced += [n for n in notes.split(",") if n]
    return Launch(process, backend, enforced, limits, result_read, cleanup)


def send(launch: Launch, request: bytes) -> None:
    """Hand the runner its request: the student's code starts, and so does the wall clock (the
    sandbox may have been started while the trusted side was still importing numpy, which is
    no time of the student's). The caller may work on, then ``finish``."""
    launch.deadline = time.monotonic() + launch.limits.wall_seconds
    threading.Thread(target=_write_request, args=(launch.process.stdin, request), daemon=True).start()


@contextlib.contextmanager
def aborted_on_failure(launch: Launch | None):
    """Abort ``launch`` (if any) when the block raises; the exception goes on."""
    try:
        yield
    except BaseException:
        if launch is not None:
            abort(launch)
        raise


def abort(launch: Launch) -> Outcome:
    """Stop a sandbox whose grading cannot go on (before or after its request), leaving nothing."""
    _kill(launch)
    if launch.deadline is None:
        launch.deadline = time.monotonic() + launch.limits.wall_seconds
        launch.process.stdin.close()
    return finish(launch)


def finish(launch: Launch, request: bytes | None = None) -> Outcome:
    """Send the request (unless ``send`` did), collect every stream within the limits, then make
    sure nothing is left."""
    from .protocol import ResultParser

    if request is not None:
        send(launch, request)
    limits = launch.limits
    process = launch.process
    output_cap = limits.output_kb * 1024
    parser = ResultParser(output_cap=output_cap)
    result_cap = limits.result_mb * 1024 * 1024
    captured = {"stdout": bytearray(), "stderr": bytearray()}
    dropped = 0
    result_bytes = 0
    timed_out = result_limited = leader_gone = False

    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, "stdout")
    selector.register(process.stderr, selectors.EVENT_READ, "stderr")
    selector.register(launch.result_read, selectors.EVENT_READ, "result")
    deadline = launch.deadline
    try:
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            if not leader_gone and _has_exited(process.pid):
                # What the runner wrote is in the pipes; a process it left behind holding them
                # open would keep the streams from ending until the wall clock runs out.
                leader_gone = True
                _kill(launch)
            for key, _ in selector.select(timeout=min(remaining, 0.5)):
                fd = key.fd if key.data == "result" else key.fileobj.fileno()
                chunk = os.read(fd, PIPE_BYTES)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                if key.data == "result":
                    result_bytes += len(chunk)
                    if result_bytes > result_cap:
                        result_limited = True
                        selector.unregister(key.fileobj)
                        _kill(launch)
                        continue
                    parser.feed(chunk)
                    if parser.results.corrupt:
                        # Nothing after a corrupt frame can be judged: stop the sandbox now.
                        selector.unregister(key.fileobj)
                        _kill(launch)
                else:
                    buffer = captured[key.data]
                    room = output_cap - len(buffer)
                    buffer += chunk[:max(room, 0)]
                    dropped += max(0, len(chunk) - max(room, 0))
    finally:
        selector.close()
        _kill(launch)
        try:
            process.wait(timeout=5)
            reap_strays(process.pid)
        except subprocess.TimeoutExpired:
            pass
        for stream in (process.stdout, process.stderr, process.stdin):
            try:
                stream.close()
            except OSError:
                pass
        os.close(launch.result_read)
        for step in reversed(launch.cleanup):
            step()
    returncode = process.returncode
    return Outcome(
        backend=launch.backend, enforced=launch.enforced, results=parser.close(), returncode=returncode,
        timed_out=timed_out, result_limited=result_limited,
        stdout=captured["stdout"].decode("utf-8", "replace"), stderr=captured["stderr"].decode("utf-8", "replace"),
        dropped=dropped, elapsed=time.monotonic() - launch.started,
    )


def _write_request(stream, request: bytes) -> None:
    try:
        stream.write(request)
        stream.close()
    except (BrokenPipeError, OSError, ValueError):
        pass


# --- what reaches the grader of a sandbox's processes ------------------------------------------


@lru_cache(maxsize=1)
def _orphans_come_here() -> bool:
    """Whether the kernel hands orphaned processes to this one: it is a container's first
    process (pid 1, as the grader is in its image) or a subreaper. Elsewhere they go to the
    machine's init, and nothing of a sandbox can become the grader's child (seccomp refuses
    CLONE_PARENT)."""
    if os.getpid() == 1:
        return True
    import ctypes

    flag = ctypes.c_int(0)
    ctypes.CDLL(None).prctl(37, ctypes.byref(flag), 0, 0, 0)  # PR_GET_CHILD_SUBREAPER
    return bool(flag.value)


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


def _has_exited(pid: int) -> bool:
    """Whether the sandbox's first process has ended, without reaping it (its pid, and so its
    process group id, stays reserved until ``process.wait``)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _kill(launch: Launch) -> None:
    """Kill the sandbox's whole process group (bwrap's pid namespace takes the rest with it)."""
    try:
        os.killpg(launch.process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
