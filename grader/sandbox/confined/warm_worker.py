"""The warm worker: runs INSIDE a bwrap sandbox, imports numpy once, forks one child per submission.

Started by ``grader/sandbox/pool.py`` as ``python -I -B -S -c WORKER NUMPY_DIR CONTROL_FD SETTINGS
RUNNER_SOURCE LANDLOCK_SOURCE SECCOMP_SOURCE REMOVAL_SOURCE`` inside the same bwrap sandbox as a
single grading (same mounts, rlimits, namespaces), with the part of the runner's request that every
submission of the batch shares (header and input arrays) on stdin - or, for a worker that serves
submissions on cases of their own (``grader serve``), nothing: each child then reads a single
grading's whole request, exactly as the runner does. Like the runner it is
self-contained (the grader package is not in the sandbox); it loads the runner's, the Landlock
module's, the seccomp module's and the removal module's own source, so a submission is run by
exactly the code, and under the same system-call filter, as in a single grading (``runner.serve``,
``seccomp.install``), and what it wrote is deleted as the process backend deletes it (``removal``).

The worker itself never runs student code and never reads what a child writes. For each job
the trusted side sends, over the control socket, the four pipe ends of one submission (request,
stdout, stderr, results); the worker forks a child that becomes the runner for that submission:

* a fresh copy of the worker's memory (fork): whatever the submission patches - numpy,
  sys.modules, the runner itself - dies with the child;
* a new session, only its four pipes open, a fresh private scratch folder as its cwd;
* every rlimit of a single grading, as the trusted side decided them (never the worker's own),
  counted from zero (CPU time is per process);
* a single grading's seccomp filter (``seccomp.py``: no new session or process group, no
  socket, no namespace, no io_uring, none of the kernel objects that would outlive the child
  in this sandbox - SysV IPC objects, POSIX message queues and keys -, no change to another
  process such as the worker: its rlimits, priority or CPUs);
* a Landlock domain of its own where the kernel has it: writes only in its scratch folder, no
  signal to and no abstract socket of anything outside its domain (so not the worker);
* when the worker is root (the grader runs as root): another uid than the worker's, taken from
  the grader's uid slots, with no capability left, so it cannot signal, trace or read the
  worker whatever Landlock does.

After the child exits (or the trusted side asks for a kill at its deadline), every process the
submission left is killed and reaped and every file it wrote deleted; the worker checks that no IPC
object exists, that /tmp holds nothing but the empty work folder and that its own rlimits, priority
and CPUs are those it started with (the seccomp filter keeps a child from changing them; this is the
second line), and only then reports and takes the next job. If anything is left, it says so and
exits, and the trusted side starts a fresh sandbox. The worker is not dumpable: nothing of the
submission's uid can trace it or read its memory. As root it keeps CAP_KILL, CAP_DAC_OVERRIDE and
CAP_FOWNER (inside this sandbox, whose only writable place is /tmp and whose only processes are its
children) to do that cleaning.
"""

import ctypes
import gc
import json
import os
import platform
import resource
import select
import signal
import socket
import sys
import time
import traceback
import types

SCRATCH_ROOT = "/tmp/work"
PR_SET_DUMPABLE = 4
KILL_PATIENCE_SECONDS = 2.0

libc = ctypes.CDLL(None, use_errno=True)


def load_module(name, source):
    module = types.ModuleType(name)
    exec(compile(source, "<%s>" % name, "exec"), module.__dict__)
    return module


# --- the child: one submission --------------------------------------------------------------


def become_runner(fds, scratch, settings, shared, runner, landlock, abi, single_filter):
    """In the forked child: isolate, then serve the submission's request; never returns.

    ``fds`` become the child's 0, 1, 2 (request, stdout, stderr) and 3 (the result channel,
    ``runner.RESULT_FD``), as in a single grading's runner.
    With ``shared`` (header, arrays) the worker read for the whole batch, the request pipe carries
    one frame: the submission's files, added to it. Without (None), it carries a single grading's
    whole request (``runner.main`` reads the same), its rlimits set again before any student code.
    """
    status = 1
    try:
        os.setsid()
        single_filter.install()  # a single grading's filter (it refuses setsid: after it)
        runner.settle_descriptors(fds)
        # Signal dispositions are a fresh interpreter's: the worker never installs a handler.
        os.closerange(4, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        os.chdir(scratch)
        for which, soft, hard in settings["rlimits"]:
            resource.setrlimit(which, (soft, hard))
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
            os.setuid(uid)  # from root to another uid: every capability is gone
        sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
        # The process a single grading's runner is: `python -c RUNNER NUMPY_DIR 3`, as __main__.
        sys.argv = ["-c", settings["numpy_dir"], str(runner.RESULT_FD)]
        runner.__name__ = "__main__"
        sys.modules["__main__"] = runner
        sys.path[:0] = [os.getcwd(), settings["numpy_dir"]]
        if shared is None:
            header = json.loads(runner.read_frame(sys.stdin.buffer))
            for which, soft, hard in header["rlimits"]:
                resource.setrlimit(which, (soft, hard))
            raw_arrays = [runner.read_frame(sys.stdin.buffer) for _ in header["arrays"]]
            sys.stdin.close()
            arrays = runner.read_arrays(header, raw_arrays, sys.modules["numpy"])
        else:
            header, arrays = shared
            files = json.loads(runner.read_frame(sys.stdin.buffer))
            sys.stdin.close()
            header = dict(header, files=dict(header["files"], **files))
        runner.serve(header, arrays, runner.ResultChannel(runner.RESULT_FD))
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
        # A forked child never returns into the worker's loop nor runs its teardown.
        os._exit(status)


# --- after a submission: leave nothing behind --------------------------------------------------


def kill_everything_killable(patience=KILL_PATIENCE_SECONDS):
    """SIGKILL every process of the sandbox but init and this worker until none is left,
    zombies included; False if some remain after ``patience`` seconds. The pid namespace holds
    nothing else: those are the submission's."""
    spared = {1, os.getpid()}
    deadline = time.monotonic() + patience
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


def own_state():
    """What no child may change in its worker: every rlimit (Linux has 16), the priority, the CPUs."""
    return ([resource.getrlimit(which) for which in range(16)], os.getpriority(os.PRIO_PROCESS, 0),
            sorted(os.sched_getaffinity(0)))


def no_sysv_objects():
    for table in ("shm", "msg", "sem"):
        with open("/proc/sysvipc/" + table) as listing:
            if len(listing.read().splitlines()) > 1:
                return False
    return True


def clean_up(removal, starting_state):
    """Kill and delete everything the submission left; True when the sandbox is pristine again:
    no other process, no SysV object, /tmp holding only the empty work folder, the worker in
    ``starting_state`` (its ``own_state()`` before the first child)."""
    try:
        killed = kill_everything_killable()
        os.chmod("/tmp", 0o755)  # a submission of the worker's own uid could have changed them
        os.chmod(SCRATCH_ROOT, 0o755)
        removal.empty_folder("/tmp", keep=("work",))
        removal.empty_folder(SCRATCH_ROOT)
        return (killed and no_sysv_objects() and os.listdir("/tmp") == ["work"] and not os.listdir(SCRATCH_ROOT)
                and own_state() == starting_state)
    except (OSError, RecursionError):
        return False


# --- the worker's loop ------------------------------------------------------------------------


def main():
    numpy_dir, control_fd, settings = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    settings["numpy_dir"] = numpy_dir
    single_filter = load_module("seccomp", sys.argv[6])
    if not single_filter.supported():
        sys.exit("warm worker: no seccomp filter for the architecture " + platform.machine())
    sys.path.insert(0, numpy_dir)
    import numpy  # every child starts with numpy loaded: the point of the worker

    runner = load_module("runner", sys.argv[4])
    landlock = load_module("landlock", sys.argv[5])
    removal = load_module("removal", sys.argv[7])
    abi = landlock.abi_version()
    shared = None
    if settings["shared"]:
        header = json.loads(runner.read_frame(sys.stdin.buffer))
        shared = (
            header,
            runner.read_arrays(header, [runner.read_frame(sys.stdin.buffer) for _ in header["arrays"]], numpy),
        )
    sys.stdin.close()
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    child_uid = settings["child_uid"]
    starting_state = own_state()
    clean_up(removal, starting_state)  # also locks /tmp: only each job's own folder is writable by its submission
    # Every object the worker has is shared with its children until written to: frozen, the
    # children's garbage collector never walks (and so never copies) them.
    gc.collect()
    gc.freeze()
    control = socket.socket(fileno=control_fd)
    control.send(json.dumps({"ready": True, "landlock_abi": abi}).encode())
    jobs = 0
    while True:
        message, fds, _, _ = socket.recv_fds(control, 4096, 4)
        if not message:
            break
        request = json.loads(message)
        if "job" not in request:  # a kill that crossed the report of a child already gone
            for fd in fds:
                os.close(fd)
            continue
        job = request["job"]
        jobs += 1
        scratch = os.path.join(SCRATCH_ROOT, "job-%d" % jobs)
        os.mkdir(scratch, 0o700)
        if child_uid is not None:
            os.chown(scratch, child_uid, child_uid)
        child = os.fork()
        if child == 0:
            control.close()
            become_runner(fds, scratch, settings, shared, runner, landlock, abi, single_filter)
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
                kill_everything_killable(patience=0)
        os.close(finished)
        # The child's resource use, as the kernel counted it for its parent (this worker, which
        # the child cannot change): the trusted side checks it is plausible before reporting it.
        _, status, usage = os.wait4(child, 0)
        clean = clean_up(removal, starting_state)
        if lost_trusted_side:
            break
        control.send(json.dumps({"job": job, "returncode": os.waitstatus_to_exitcode(status), "clean": clean,
                                 "cpu_seconds": usage.ru_utime + usage.ru_stime,
                                 "max_rss_kb": usage.ru_maxrss}).encode())
        if not clean:
            break


if __name__ == "__main__":
    main()
    os._exit(0)  # the worker's sandbox ends with it: no teardown of numpy to wait for
