"""The trusted side of isolation: starting sandboxes, feeding them, reading them, and what they guarantee.

    launch      one grading's sandbox: which backend (choose_backend), start, send, finish, abort
    bwrap       the bwrap backend: its probe, and the command lines of a single grading and a warm worker
    process     the process backend (Landlock, seccomp, rlimits; as root namespaces, a tmpfs, a uid)
    plan        what a backend hands launch.start
    layout      what of the host a sandbox shows (in every backend) and its environment
    elfdeps     the system files the dynamic loader opens for the sandbox's interpreter and numpy
    limits      every limit and rlimit of the student's process
    uids        uid slots: a uid of its own per concurrent grading when the grader is root
    streams     the pipes: the one request writer and the one collection loop (Outcome)
    protocol    the framing of the streams, the runner's request, the result parser (defensive)
    pool        warm workers: sandboxes that fork a fresh child per submission (grader batch)
    reaping     orphans of finished sandboxes, reaped by the grader
    guarantees  every label of sandbox.enforced, and where each applies
    errors      SandboxError: every way a sandbox fails before the student's code ran

    confined/   what executes INSIDE the sandbox (runner, warm_worker, landlock, seccomp, removal):
                standard library only, shipped in as source; see its own map

The boundary is the folder: nothing outside confined/ is shipped into a sandbox, and nothing
that comes back is believed beyond what protocol.py can check.
"""
