"""What each backend enforces, as root and as an ordinary user, and what the process backend refuses.

The feedback's ``sandbox.enforced`` list is the backend's own account of what held for a
grading; these tests pin it per mode, so that a protection that silently stops applying
(a kernel without Landlock, a container without CAP_SYS_ADMIN) shows up as a failure here
rather than as an attack that suddenly works.
"""

import os
import resource
import shutil
import subprocess
import sys

import pytest

from grader.sandbox import launch as sandbox
from grader.sandbox.confined import landlock, seccomp
from grader.sandbox.errors import SandboxUnavailable
from grader.sandbox.limits import Limits, rlimit_pairs

harness = sys.modules["cnn_security_harness"]

PROCESS = {"rlimits", "new-session", "empty-environment", "private-scratch", "landlock-filesystem", "landlock-no-tcp",
           "landlock-scoped-signals-and-sockets", "seccomp-no-new-session-no-sockets"}
# What only a grader running as root can add: the uid switch, namespaces, a mount.
ROOT_ONLY = {"own-uid", "new-network-namespace", "private-tmpfs"}
BWRAP = {"bwrap-namespaces", "read-only-system", "no-network", "rlimits", "private-tmpfs", "empty-environment",
         "own-uid", "seccomp-no-new-session-no-sockets"}
EXPECTED = {
    "bwrap": BWRAP,
    "process": PROCESS | {"own-uid", "new-network-namespace", "private-tmpfs"},
    # The runner's own Landlock domain keeps the student from bwrap's init, of the same uid.
    "bwrap-unprivileged": BWRAP - {"own-uid"} | {"landlock-filesystem", "landlock-no-tcp", "landlock-scoped-signals-and-sockets"},
    "process-unprivileged": PROCESS,
}


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_the_feedback_says_what_the_backend_enforced(mode):
    problem = harness.mode_problem(mode)
    if problem:
        pytest.skip(f"mode {mode} cannot run here: {problem}")
    if landlock.abi_version() < 6 or not seccomp.supported():
        pytest.skip("this kernel or architecture lacks Landlock ABI 6 or the seccomp filter (see docs/security.md)")
    graded = harness.grade(mode, "im2col", harness.correct_example("im2col"))
    assert not graded.problems, graded.problems
    enforced = set(graded.feedback["sandbox"]["enforced"])
    root_only = {"own-uid"} if mode.startswith("bwrap") else ROOT_ONLY  # bwrap's tmpfs needs no root
    expected = EXPECTED[mode] if os.geteuid() == 0 else EXPECTED[mode] - root_only
    assert enforced == expected, enforced ^ expected
    assert graded.feedback["status"] == "passed"


def test_without_landlock_an_unprivileged_grader_refuses_the_process_backend(monkeypatch):
    monkeypatch.setattr(landlock, "abi_version", lambda: 0)
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 4242)
    limits = Limits.from_dict(harness.LIMITS)
    with pytest.raises(SandboxUnavailable, match="needs Landlock"):
        sandbox.start(limits, "process", {"first": 61000, "count": 64})


def test_the_seccomp_filter_denies_what_it_says_and_nothing_numpy_needs():
    if not seccomp.supported():
        pytest.skip("no seccomp filter for this architecture")
    probe = '''
import os, socket, threading
from grader.sandbox.confined import seccomp
seccomp.install()
def denied(call):
    try:
        call()
    except OSError:
        return True
    return False
assert denied(os.setsid) and denied(lambda: os.setpgid(0, 0))
assert denied(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
assert denied(lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM))
assert denied(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
socket.socketpair()[0].close()
thread = threading.Thread(target=lambda: None)
thread.start()
thread.join()
pid = os.fork()
if pid == 0:
    os._exit(0)
assert os.waitpid(pid, 0)[1] == 0
import numpy
numpy.linalg.inv(numpy.eye(3))
print("ok")
'''
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert completed.stdout.strip() == "ok", completed.stderr


def test_the_seccomp_filter_lets_a_process_change_itself_alone():
    # Same-uid calls Landlock does not scope: on another pid they changed the grader and the
    # sandboxes of concurrent gradings; on the caller itself they must keep working. The probe
    # aims at a process of its own (and runs as a uid of its own when the tests are root): a
    # filter that let a call through must not renice or limit the machine's other processes.
    if not seccomp.supported():
        pytest.skip("no seccomp filter for this architecture")
    probe = '''
import ctypes, errno, os, resource, signal
from grader.sandbox.confined import seccomp

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def refused(call):
    try:
        call()
    except PermissionError:
        return True
    return False


def refused_raw(number, *args):
    return libc.syscall(number, *args) == -1 and ctypes.get_errno() == errno.EPERM


def check(victim):
    seccomp.install()
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
    assert resource.prlimit(0, resource.RLIMIT_FSIZE) == resource.getrlimit(resource.RLIMIT_FSIZE)
    assert refused(lambda: resource.prlimit(victim, resource.RLIMIT_FSIZE, (0, 0)))
    assert refused(lambda: resource.prlimit(victim, resource.RLIMIT_NOFILE))
    os.nice(1)
    os.setpriority(os.PRIO_PROCESS, 0, 2)
    os.setpriority(os.PRIO_PGRP, 0, 3)
    assert refused(lambda: os.setpriority(os.PRIO_PROCESS, victim, 19))
    assert refused(lambda: os.setpriority(os.PRIO_USER, 0, 19))
    assert refused(lambda: os.setpriority(os.PRIO_USER, os.getuid(), 19))
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    assert refused(lambda: os.sched_setaffinity(victim, cpus))
    os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    assert refused(lambda: os.sched_setscheduler(victim, os.SCHED_IDLE, os.sched_param(0)))
    assert refused(lambda: os.sched_setparam(victim, os.sched_param(0)))
    assert refused_raw(314, victim, (ctypes.c_uint32 * 14)(56, 5), 0)  # sched_setattr: SCHED_IDLE
    who_process, who_user, idle = 1, 3, 3 << 13
    assert libc.syscall(251, who_process, 0, idle) == 0  # ioprio_set on itself
    assert refused_raw(251, who_process, victim, idle)
    assert refused_raw(251, who_user, 0, idle)
    assert refused_raw(256, victim, 64, None, None)  # migrate_pages
    assert refused_raw(298, None, victim, -1, -1, 0)  # perf_event_open
    # clone(CLONE_PARENT | SIGCHLD): the child would be the caller's parent's to reap.
    assert refused_raw(56, 0x8000 | 17, None, None, None, None)
    # SysV IPC and POSIX message queues outlive the process.
    assert refused_raw(29, 0, 4096, 0o1600)  # shmget(IPC_PRIVATE)
    assert refused_raw(240, b"/cnn-grader-test", 0o100 | 2, 0o600, None)  # mq_open


victim = os.fork()
if victim == 0:
    signal.pause()
    os._exit(0)
try:
    check(victim)
finally:
    os.kill(victim, signal.SIGKILL)
print("ok")
'''
    prefix = harness._unprivileged_prefix(harness.UNPRIVILEGED_UID - 1) if os.geteuid() == 0 else []
    completed = subprocess.run([*prefix, sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                               cwd=harness.CHECKOUT, start_new_session=True)
    assert completed.stdout.strip() == "ok", completed.stderr


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_the_students_numpy_asks_for_no_huge_pages(mode):
    # With them, a large allocation's page faults compact the host's memory: seconds of
    # system time that a memory bomb spent on the wall clock (TIMEOUT) before MEMORY_LIMIT.
    problem = harness.mode_problem(mode)
    if problem:
        pytest.skip(f"mode {mode} cannot run here: {problem}")
    probe = (b"from numpy._core import multiarray as _multiarray\n"
             b"if _multiarray._get_madvise_hugepage():\n"
             b"    raise RuntimeError('numpy madvises huge pages')\n")
    graded = harness.grade(mode, "im2col", probe + harness.correct_example("im2col"))
    assert not graded.problems, graded.problems
    assert graded.feedback["status"] == "passed", [test.get("code") for test in graded.feedback["tests"]]


# Soft limits of the grader's own (each within its hard limit here), none of which may reach the sandbox.
ODD_GRADER_LIMITS = {resource.RLIMIT_DATA: 123456789, resource.RLIMIT_STACK: 4194304, resource.RLIMIT_MEMLOCK: 12345,
                     resource.RLIMIT_RSS: 7654321, resource.RLIMIT_MSGQUEUE: 4321, resource.RLIMIT_RTTIME: 5000000}
_PRLIMIT_OPTIONS = {resource.RLIMIT_DATA: "--data", resource.RLIMIT_STACK: "--stack", resource.RLIMIT_MEMLOCK: "--memlock",
                    resource.RLIMIT_RSS: "--rss", resource.RLIMIT_MSGQUEUE: "--msgqueue", resource.RLIMIT_RTTIME: "--rttime"}


def rlimits_probe(limits) -> bytes:
    """A submission that fails at import unless its process has exactly ``limits``' rlimits and
    none of ``ODD_GRADER_LIMITS``."""
    expected = {which: (soft, hard) for which, soft, hard in rlimit_pairs(limits)}
    return (f"import resource\nEXPECTED = {expected!r}\nODD = {ODD_GRADER_LIMITS!r}\n"
            "wrong = {w: resource.getrlimit(w) for w, pair in EXPECTED.items() if resource.getrlimit(w) != pair}\n"
            "wrong.update({w: resource.getrlimit(w) for w, soft in ODD.items() if resource.getrlimit(w)[0] == soft})\n"
            "if wrong:\n    raise RuntimeError(f'rlimits not as the grader decided: {wrong}')\n").encode()


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_every_rlimit_of_the_students_process_is_the_graders_decision(mode):
    # None is inherited from the process that starts the sandbox (the grader, a warm worker),
    # whose limits may be anything.
    problem = harness.mode_problem(mode)
    if problem:
        pytest.skip(f"mode {mode} cannot run here: {problem}")
    if not shutil.which("prlimit"):
        pytest.skip("prlimit (util-linux) is not installed")
    probe = rlimits_probe(Limits.from_dict(harness.LIMITS))
    wrapper = ["prlimit", *(f"{_PRLIMIT_OPTIONS[which]}={soft}:" for which, soft in ODD_GRADER_LIMITS.items())]
    graded = harness.grade(mode, "im2col", probe + harness.correct_example("im2col"), wrapper=tuple(wrapper))
    assert not graded.problems, graded.problems
    assert graded.feedback["status"] == "passed", graded.feedback["tests"][0]["message"]


def test_the_rlimits_cover_every_resource_linux_has():
    pairs = rlimit_pairs(Limits.from_dict(harness.LIMITS))
    assert sorted(which for which, _, _ in pairs) == list(range(16))  # RLIM_NLIMITS
