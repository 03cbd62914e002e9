"""The warm worker: runs INSIDE a bwrap sandbox, imports numpy once, forks one child per submission.

Started by ``grader/pool.py`` as ``python -I -B -S -c WORKER NUMPY_DIR CONTROL_FD SETTINGS
RUNNER_SOURCE LANDLOCK_SOURCE`` inside the same bwrap sandbox as a single grading (same mounts,
rlimits, namespaces), with the part of the runner's request that every submission of the batch
shares (header and input arrays) on stdin. Like the runner it is self-contained (the grader
package is not in the sandbox); it loads the runner's and the Landlock module's own source, so
a submission is run by exactly the code that runs it in a single grading (``runner.serve``).

The worker itself never runs student code and never reads what a child writes. For each job
the trusted side sends, over the control socket, the four pipe ends of one submission (request,
results, stdout, stderr); the worker forks a child that becomes the runner for that submission:

* a fresh copy of the worker's memory (fork): whatever the submission patches - numpy,
  sys.modules, the runner itself - dies with the child;
* a new session, only its four pipes open, a fresh private scratch folder as its cwd;
* the rlimits of a single grading, counted from zero (CPU time is per process);
* a Landlock domain of its own where the kernel has it: writes only in its scratch folder, no
  signal to and no abstract socket of anything outside its domain (so not the worker);
* when the worker is root (the grader runs as root): another uid than the worker's, taken from
  the grader's uid slots, so it cannot signal, trace or read the worker whatever Landlock does.

After the child exits (or the trusted side asks for a kill at its deadline), every process the
submission left is killed, its SysV IPC objects removed, its kernel keyrings cleared and its
files deleted; only then does the worker report, and it takes the next job. If anything is
left that it cannot remove, it says so and exits, and the trusted side starts a fresh sandbox.
The worker is not dumpable: nothing of the submission's uid can ptrace it or read its memory.
"""

import ctypes
import fcntl
import json
import os
import platform
import resource
import select
import shutil
import signal
import socket
import sys
import time
import traceback
import types

SCRATCH_ROOT = "/tmp/work"
PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 4, 38
KILL_PATIENCE_SECONDS = 2.0
# keyctl(2) by architecture; KEYCTL_CLEAR on the user (-4) and user-session (-5) keyrings.
KEYCTL = {"x86_64": 250, "aarch64": 219}.get(platform.machine())
KEYCTL_CLEAR, USER_KEYRINGS = 7, (-4, -5)
IPC_RMID = 0
SYSV_TABLES = {"shm": "shmctl", "msg": "msgctl", "sem": "semctl"}

libc = ctypes.CDLL(None, use_errno=True)


def load_module(name, source):
    module = types.ModuleType(name)
    exec(compile(source, "<%s>" % name, "exec"), module.__dict__)
    return module


# --- the child: one submission --------------------------------------------------------------


def become_runner(fds, scratch, settings, shared, runner, landlock, abi):
    """In the forked child: isolate, then serve the submission's request; never returns.

    ``fds`` become the child's 0, 1, 2 (request, stdout, stderr) and 3 (the result channel).
    The request pipe carries one frame: the submission's files, added to the ``shared``
    (header, arrays) the worker read for the whole batch.
    """
    status = 1
    try:
        os.setsid()
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 16) for fd in fds]
        for target, fd in enumerate(high):
            os.dup2(fd, target)
        # Signal dispositions are a fresh interpreter's: the worker never installs a handler.
        os.closerange(4, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        os.chdir(scratch)
        for which, value in settings["rlimits"]:
            resource.setrlimit(which, (value, value))
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        if abi:
            everything = os.open("/", os.O_PATH | os.O_CLOEXEC)
            own = os.open(scratch, os.O_PATH | os.O_CLOEXEC)
            landlock.restrict(abi, [(everything, True)], [own])
            os.close(everything)
            os.close(own)
        uid = settings["child_uid"]
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
        sys.path[:0] = [os.getcwd()]
        header, arrays = shared
        files = json.loads(runner.read_frame(sys.stdin.buffer))
        sys.stdin.close()
        header = dict(header, files=dict(header["files"], **files))
        runner.serve(header, arrays, runner.ResultChannel(3))
        status = 0
    except BaseException:
        try:
            traceback.print_exc()
        except BaseException:
            pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
        os._exit(status)


# --- after a submission: leave nothing behind --------------------------------------------------


def kill_everything_killable():
    """SIGKILL every process of the sandbox but init, this process and its parent (the worker,
    or bwrap's init) until none is left, zombies included; False if some remain after
    KILL_PATIENCE_SECONDS. The pid namespace holds nothing else: those are the submission's."""
    spared = {1, os.getpid(), os.getppid()}
    deadline = time.monotonic() + KILL_PATIENCE_SECONDS
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if not [name for name in os.listdir("/proc") if name.isdigit() and int(name) not in spared]:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)


def remove_sysv_objects():
    """Remove every SysV IPC object this uid may remove; True when none is left."""
    left = 0
    for table, control in SYSV_TABLES.items():
        function = getattr(libc, control)
        with open("/proc/sysvipc/" + table) as listing:
            rows = listing.read().splitlines()[1:]
        for row in rows:
            identifier = int(row.split()[1])
            if table == "sem":
                result = function(identifier, 0, IPC_RMID)
            else:
                result = function(identifier, IPC_RMID, None)
            if result != 0:
                left += 1
    return left == 0


def clear_keyrings():
    if KEYCTL is None:
        return True
    cleared = True
    for keyring in USER_KEYRINGS:
        if libc.syscall(KEYCTL, KEYCTL_CLEAR, ctypes.c_long(keyring)) != 0:
            cleared = cleared and ctypes.get_errno() in (1, 38)  # EPERM/ENOSYS: keyrings unavailable
    return cleared


def unlock(folder):
    """Give the owner back every right on ``folder`` and the folders under it (not via symlinks)."""
    os.chmod(folder, 0o700)
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            unlock(entry.path)


def remove_contents(folder, keep=()):
    """Delete everything inside ``folder`` but ``keep``, never following symlinks. True when
    nothing else is left."""
    for entry in os.scandir(folder):
        if entry.name in keep:
            continue
        if entry.is_dir(follow_symlinks=False):
            unlock(entry.path)
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
    return set(os.listdir(folder)) <= set(keep)


def as_submission_uid(child_uid, action):
    """Run ``action`` in a helper that has become the submission's uid; its success."""
    helper = os.fork()
    if helper == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(child_uid)
            os.setuid(child_uid)
            code = 0 if action() else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(helper, 0)
    return os.waitstatus_to_exitcode(status) == 0


def kill_submission(child_uid):
    """The deadline passed: SIGKILL the submission's processes now (clean_up follows)."""

    def kill_once():
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return True

    if child_uid is None:
        kill_once()
    else:
        as_submission_uid(child_uid, kill_once)


def clean_up(child_uid):
    """Kill, remove and clear everything the submission left; True when nothing is left.

    As root the submission ran as ``child_uid``, which this root worker (without CAP_KILL) may
    not signal: a helper becomes that uid, so kill(-1) reaches exactly the submission's
    processes. Otherwise the submission shares the worker's uid, and the worker's own kill(-1)
    reaches every process of the namespace but itself and init.
    """
    try:
        if child_uid is None:
            return _clean_up_as_self()
        return as_submission_uid(child_uid, _clean_up_as_self)
    except (OSError, RecursionError):
        return False


def _clean_up_as_self():
    killed = kill_everything_killable()
    removed = remove_sysv_objects()
    cleared = clear_keyrings()
    if os.stat("/tmp").st_uid == os.getuid():  # same uid as the submission: /tmp was writable too
        os.chmod("/tmp", 0o755)
        os.chmod(SCRATCH_ROOT, 0o755)
        deleted = remove_contents("/tmp", keep=("work",))
    else:
        deleted = True
    for job in os.listdir(SCRATCH_ROOT):
        folder = os.path.join(SCRATCH_ROOT, job)
        unlock(folder)
        deleted = remove_contents(folder) and deleted
    return killed and removed and cleared and deleted


def back_to_pristine(scratch):
    """Remove the emptied job folder; True when /tmp holds nothing but the empty work folder."""
    try:
        os.rmdir(scratch)
        return os.listdir("/tmp") == ["work"] and not os.listdir(SCRATCH_ROOT)
    except OSError:
        return False


# --- the worker's loop ------------------------------------------------------------------------


def main():
    numpy_dir, control_fd, settings = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    settings["numpy_dir"] = numpy_dir
    sys.path.insert(0, numpy_dir)
    import numpy  # every child starts with numpy loaded: the point of the worker

    runner = load_module("runner", sys.argv[4])
    landlock = load_module("landlock", sys.argv[5])
    abi = landlock.abi_version()
    header = json.loads(runner.read_frame(sys.stdin.buffer))
    shared = (header, runner.read_arrays(header, [runner.read_frame(sys.stdin.buffer) for _ in header["arrays"]], numpy))
    sys.stdin.close()
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    # Only the job folders, created per submission, may be written by a submission.
    os.chmod("/tmp", 0o755)
    os.chmod(SCRATCH_ROOT, 0o755)
    child_uid = settings["child_uid"]
    control = socket.socket(fileno=control_fd)
    control.send(json.dumps({"ready": True, "landlock_abi": abi}).encode())
    jobs = 0
    while True:
        message, fds, _, _ = socket.recv_fds(control, 4096, 4)
        if not message:
            break
        job = json.loads(message)["job"]
        jobs += 1
        scratch = os.path.join(SCRATCH_ROOT, "job-%d" % jobs)
        os.mkdir(scratch, 0o700)
        if child_uid is not None:
            os.chown(scratch, child_uid, child_uid)
        child = os.fork()
        if child == 0:
            control.close()
            become_runner(fds, scratch, settings, shared, runner, landlock, abi)
        for fd in fds:
            os.close(fd)
        finished = os.pidfd_open(child)
        lost_trusted_side = False
        while True:
            readable, _, _ = select.select([finished, control], [], [])
            if finished in readable:
                break
            request = control.recv(4096)
            if not request:
                lost_trusted_side = True
            if not request or json.loads(request).get("kill") == job:
                kill_submission(child_uid)
        os.close(finished)
        _, status = os.waitpid(child, 0)
        clean = clean_up(child_uid) and back_to_pristine(scratch)
        if lost_trusted_side:
            break
        control.send(json.dumps({"job": job, "returncode": os.waitstatus_to_exitcode(status), "clean": clean}).encode())
        if not clean:
            break


if __name__ == "__main__":
    main()
    os._exit(0)
