"""Running the real ``grader grade`` CLI on hostile submissions, and checking what it left.

A *mode* is how the grader is run: ``bwrap`` and ``process`` (the backend, selected with a
grader.yaml passed via --config, the grader running as root as on this machine), and
``bwrap-unprivileged`` and ``process-unprivileged`` (the same with the grader itself running
as an ordinary uid, as in the platform's container). Every grading gets a fresh ``World``:
listeners, a marker, a secret in the grader's environment, a folder outside the sandbox, a
TMPDIR of the grader's own; ``run_attack`` grades one attack and returns every problem it
finds: the verdict, the JSON contract and the post-conditions (no marker file outside, no
connection, no process left, no folder left in the grader's TMPDIR, no secret or leak in the
output, the outside folder intact, the next grading unaffected).
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
GRADER = CHECKOUT / ".venv" / "bin" / "grader"
SECRET_NAME = "CNN_GRADER_TEST_SECRET"
# The uid the grader runs as in process-unprivileged mode: outside the sandbox uid range.
UNPRIVILEGED_UID = 61999
SANDBOX_UID_RANGE = range(61000, 61064)
# Tight limits: the attacks about limits end quickly; a correct im2col needs a fraction of the CPU.
# The wall clock is four times the CPU limit because the suite grades a dozen submissions at once
# on two cores, some of them burning CPU to their limit: an attack that does a second of work before
# answering correctly (exhaust_undeletable_scratch) then needs more than 6 s of wall time (CI, stop 17).
LIMITS = {"cpu_seconds": 3, "wall_seconds": 12, "memory_mb": 768, "processes": 16, "file_size_mb": 8,
          "scratch_mb": 32, "open_files": 64, "output_kb": 4, "result_mb": 16}
# A hang detector, not a timing assertion: the grader must answer long before this.
HANG_SECONDS = 90
KEPT_LOCK_SECONDS = 30  # longer than any grading of the harness's limits holds a uid (see processes_of_uid)
KEEP_NAME, KEEP_TEXT = "keep-me.txt", "the grader's host folder must keep this file\n"


@dataclass
class Graded:
    returncode: int | None
    stdout: bytes
    stderr: bytes
    feedback: dict | None
    problems: list[str] = field(default_factory=list)


# --- modes ------------------------------------------------------------------------------------


def backend_of(mode: str) -> str:
    return "bwrap" if mode.startswith("bwrap") else "process"


def unprivileged(mode: str) -> bool:
    """Whether the grader itself runs as an ordinary uid (UNPRIVILEGED_UID) in ``mode``."""
    return mode.endswith("-unprivileged")


@lru_cache(maxsize=None)
def mode_problem(mode: str) -> str | None:
    """Why ``mode`` cannot run on this machine (the tests skip it, saying so), or None."""
    if not GRADER.exists():
        return f"{GRADER} is missing: run scripts/setup.sh"
    prefix = []
    if unprivileged(mode):
        if os.geteuid() != 0:
            return "the tests must run as root to start the grader as another uid"
        if not shutil.which("setpriv"):
            return "setpriv (util-linux) is not installed"
        prefix = _unprivileged_prefix()
        probe = subprocess.run(prefix + [str(GRADER), "list"], capture_output=True, cwd="/")
        if probe.returncode != 0:
            return f"the checkout is not usable by uid {UNPRIVILEGED_UID}: {probe.stderr.decode(errors='replace')[-300:]}"
    if backend_of(mode) == "bwrap":
        probe = subprocess.run(prefix + [str(GRADER.parent / "python"), "-c",
                                         "import os, grader.sandbox as s; print(s.bwrap_problem(os.geteuid() == 0) or '')"],
                               capture_output=True, text=True, cwd="/")
        return probe.stdout.strip() or None
    return None


def _unprivileged_prefix(uid: int = UNPRIVILEGED_UID) -> list[str]:
    uid = str(uid)
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]


@lru_cache(maxsize=None)
def _unprivileged_cache() -> str:
    folder = Path(tempfile.mkdtemp(prefix="cnn-sec-cache-"))
    atexit.register(shutil.rmtree, folder, True)
    os.chown(folder, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
    return str(folder)


def cache_of(mode: str) -> dict[str, str]:
    """The grader's cache folder in ``mode``: as an ordinary uid, one of its own for the session
    (as the image has one), since it never uses a folder of another uid (root's ~/.cache)."""
    return {"GRADER_CACHE_DIR": _unprivileged_cache()} if unprivileged(mode) else {}


def command_prefix(mode: str) -> list[str]:
    """What the grader's command starts with in ``mode``: setpriv to the ordinary uid, or nothing."""
    return _unprivileged_prefix() if unprivileged(mode) else []


@lru_cache(maxsize=None)
def config_file(mode: str, **overrides) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="cnn-sec-config-"))
    atexit.register(shutil.rmtree, folder, True)
    folder.chmod(0o755)
    limits = dict(LIMITS)
    limits.update(overrides)
    # One round of shrinking: the hostile code runs in a second sandbox too, at a small cost.
    lines = [f"sandbox: {backend_of(mode)}", "language: en", "cases:", "  random: 1", "shrink:", "  rounds: 1",
             "  wall_seconds: 3", "limits:"]
    lines += [f"  {name}: {value}" for name, value in limits.items()]
    path = folder / "grader.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o644)
    return path


# --- one grading ------------------------------------------------------------------------------


def grade(mode: str, task: str, data: bytes, env_extra: dict | None = None, config: Path | None = None,
          wrapper: tuple[str, ...] = ()) -> Graded:
    """Grade ``data`` with the real CLI in ``mode`` (started by the command ``wrapper``, if any);
    check the JSON contract."""
    folder = Path(tempfile.mkdtemp(prefix="cnn-sec-sub-"))
    folder.chmod(0o755)
    submission = folder / "submission.py"
    submission.write_bytes(data)
    submission.chmod(0o644)
    command = [*wrapper, *command_prefix(mode), str(GRADER), "--config", str(config or config_file(mode)),
               "--root", str(CHECKOUT), "grade", "--task", task, "--lang", "en", str(submission)]
    temporary = grader_tmpdir()
    env = dict(os.environ, TMPDIR=str(temporary), **cache_of(mode))
    env.update(env_extra or {})
    try:
        completed = subprocess.run(command, capture_output=True, env=env, timeout=HANG_SECONDS, cwd="/")
    except subprocess.TimeoutExpired as exc:
        return Graded(None, exc.stdout or b"", exc.stderr or b"", None,
                      [f"the grader did not answer within {HANG_SECONDS} s"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    graded = Graded(completed.returncode, completed.stdout, completed.stderr, None)
    graded.problems += contract_problems(graded)
    graded.problems += leftovers_in(temporary)
    return graded


def grader_tmpdir() -> Path:
    """A TMPDIR of the grader's own for one run (writable by the unprivileged grader): whatever
    the grader leaves there (the process backend's work folders) is its leftover."""
    temporary = Path(tempfile.mkdtemp(prefix="cnn-sec-tmpdir-"))
    temporary.chmod(0o1777)
    return temporary


def leftovers_in(temporary: Path) -> list[str]:
    """What the grader left in its TMPDIR (then deleted, whatever its rights: we are root)."""
    left = sorted(path.name for path in temporary.iterdir())
    subprocess.run(["rm", "-rf", str(temporary)], check=False)
    return [f"the grader left {left} in its temporary folder"] if left else []


@lru_cache(maxsize=1)
def _feedback_validator():
    from grader.spec.yamldoc import validator

    return validator("feedback.schema.json")


def contract_problems(graded: Graded) -> list[str]:
    """Exit 0 and exactly one schema-valid JSON object in strict UTF-8 on stdout."""
    problems = []
    if graded.returncode != 0:
        problems.append(f"exit code {graded.returncode}; stderr: {graded.stderr.decode('utf-8', 'replace')[-600:]}")
    try:
        graded.feedback = json.loads(graded.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        problems.append(f"stdout is not one JSON object in UTF-8: {exc}; {graded.stdout[:300]!r}")
        return problems
    errors = sorted(_feedback_validator().iter_errors(graded.feedback), key=str)
    if errors:
        problems.append(f"feedback not valid against the schema: {errors[0].message}")
    if graded.feedback.get("status") == "error":
        problems.append(f"status error: {graded.feedback.get('error')}")
    unsafe = [number for number in _numbers(graded.feedback) if abs(number) > JS_SAFE_INTEGER]
    if unsafe:
        problems.append(f"numbers a JavaScript reader cannot hold in the feedback: {str(unsafe[0])[:40]}...")
    return problems


JS_SAFE_INTEGER = 2**53 - 1


def _numbers(value):
    """Every number in a JSON document."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value


# --- the world around one attack -----------------------------------------------------------


class Listeners:
    """TCP, UDP, abstract and pathname unix listeners; ``heard()`` says what reached them.

    The pathname socket lives in the world-writable host folder ``outside`` with mode 0777,
    so that only the sandbox, not file permissions, can keep the student away from it.
    """

    def __init__(self, marker: str, outside: Path):
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("0.0.0.0", 0))
        self.tcp.listen(16)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("0.0.0.0", 0))
        self.abstract_name = f"cnn-sec-{marker}"
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind("\0" + self.abstract_name)
        self.unix.listen(16)
        self.unix_file = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix_file.bind(str(outside / "listener.sock"))
        os.chmod(outside / "listener.sock", 0o777)
        self.unix_file.listen(16)
        for sock in (self.tcp, self.udp, self.unix, self.unix_file):
            sock.setblocking(False)

    def values(self) -> dict[str, str]:
        return {"TCP_PORT": str(self.tcp.getsockname()[1]), "UDP_PORT": str(self.udp.getsockname()[1]),
                "ABSTRACT": self.abstract_name}

    def heard(self) -> list[str]:
        heard = []
        for name, sock in (("tcp", self.tcp), ("abstract unix", self.unix), ("unix socket file", self.unix_file)):
            try:
                connection, _ = sock.accept()
                connection.close()
                heard.append(f"a {name} connection reached the test's listener")
            except BlockingIOError:
                pass
        try:
            self.udp.recvfrom(65536)
            heard.append("a udp datagram reached the test's listener")
        except BlockingIOError:
            pass
        return heard

    def close(self) -> None:
        for sock in (self.tcp, self.udp, self.unix, self.unix_file):
            sock.close()


@lru_cache(maxsize=1)
def host_addresses() -> list[str]:
    addresses = {"127.0.0.1"}
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
        addresses.update(a for a in out.split() if "." in a)
    except (OSError, subprocess.TimeoutExpired):
        pass
    return sorted(addresses)


def _marker_places(outside: Path) -> list[tuple[Path, int]]:
    """(folder, depth) pairs a planted file could land in."""
    site = next((CHECKOUT / ".venv" / "lib").glob("python3*/site-packages"), CHECKOUT)
    places = [(outside, 3), (Path("/tmp"), 3), (Path("/var/tmp"), 1), (Path("/dev/shm"), 1), (Path("/root"), 1),
              (CHECKOUT, 1), (site, 1)]
    for sub in ("reference", "tasks", "student_template", "grader", "examples", "tests"):
        places.append((CHECKOUT / sub, 2))
    import numpy

    places.append((Path(numpy.__file__).parent, 1))
    places.append((Path(os.__file__).parent, 1))
    return places


def files_with(marker: str, outside: Path) -> list[str]:
    found = []
    for folder, depth in _marker_places(outside):
        pattern = "*"
        for _ in range(depth):
            try:
                found += [str(p) for p in folder.glob(pattern) if marker in p.name]
            except OSError:
                pass
            pattern += "/*"
    return sorted(set(found))


def processes_with(marker: str) -> list[str]:
    """Live processes whose command line or environment carries ``marker``."""
    needle = marker.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        for part in ("cmdline", "environ"):
            try:
                if needle in (entry / part).read_bytes():
                    found.append(f"pid {entry.name} ({part})")
                    break
            except OSError:
                pass
    return found


def processes_of_uid(uid: int) -> list[str]:
    """Live (not zombie) processes of ``uid``, checked while holding that uid's slot lock.

    The grader takes a sandbox uid by locking /tmp/cnn-grader-slots/<uid>.lock and kills
    every process of the uid before it lets go; holding the lock ourselves, no grading
    (of this suite or any other on the machine) can be using the uid, so whatever process
    of it still runs was left behind. A warm worker (`grader serve`'s) keeps its uid for its
    whole life: a lock still held after KEPT_LOCK_SECONDS is one, which has already cleaned up
    after the child that was graded (it reports only then), and which no other grading can share:
    whatever process of the uid runs then was left behind too.
    """
    from grader.sandbox.uids import SLOT_DIR

    SLOT_DIR.mkdir(mode=0o755, exist_ok=True)
    deadline = time.monotonic() + KEPT_LOCK_SECONDS
    with open(SLOT_DIR / f"{uid}.lock", "a") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        return _live_processes_of(uid)


def leftover_sandbox_processes() -> list[str]:
    """Processes of any sandbox uid that no grading holds right now (its slot lock is free).

    Run after a batch of gradings: every one of them must have killed all its processes
    before it let its uid go.
    """
    from grader.sandbox.uids import SLOT_DIR

    if os.geteuid() != 0:
        return []
    SLOT_DIR.mkdir(mode=0o755, exist_ok=True)
    found = []
    for uid in SANDBOX_UID_RANGE:
        with open(SLOT_DIR / f"{uid}.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a grading is using this uid now
            found += _live_processes_of(uid)
    return found


def _live_processes_of(uid: int) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        uid_line = re.search(r"^Uid:\s+(\d+)", status, re.MULTILINE)
        fields = stat.rsplit(")", 1)[1].split()
        if uid_line and int(uid_line.group(1)) == uid and fields[0] != "Z":
            found.append(f"pid {entry.name} of uid {uid}")
    return found


def settled(check, seconds: float = 3.0) -> list[str]:
    """``check()`` until it finds nothing or ``seconds`` passed: killed processes need a moment to go."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


# --- one attack, end to end ----------------------------------------------------------------


class World:
    """The world around one attack: a marker, listeners, a folder outside the sandbox holding a
    file that must survive, the attack's rendered bytes; ``check`` finds what the attack did.
    ``secret`` is in the grader's environment and must never reach its output."""

    def __init__(self, attack, attacklist, secret: str | None = None):
        self.attack, self.attacklist = attack, attacklist
        self.marker = "m" + secrets.token_hex(8)
        self.secret = secret or "s3cr3t-" + secrets.token_hex(12)
        self.outside = Path(tempfile.mkdtemp(prefix="cnn-sec-outside-"))
        self.outside.chmod(0o1777)
        (self.outside / KEEP_NAME).write_text(KEEP_TEXT)
        self.listeners = Listeners(self.marker, self.outside)
        values = {"MARKER": self.marker, "OUTSIDE": str(self.outside), "CHECKOUT": str(CHECKOUT),
                  "HOST_ADDRS": repr(host_addresses()), **self.listeners.values()}
        self.data = attacklist.render(attack, values)

    def check(self, graded: Graded) -> Graded:
        """Add to ``graded`` every problem of the verdict and of what is left around it."""
        if graded.feedback is not None:
            graded.problems += self.attacklist.verdict_problems(self.attack, graded.feedback)
        output = graded.stdout + graded.stderr
        if self.secret.encode() in output:
            graded.problems.append("the grader's secret environment variable reached the output")
        if self.attack.leak_token(self.marker).encode() in output:
            graded.problems.append("the attack got hold of something it must not see (its leak token is in the output)")
        graded.problems += self.listeners.heard()
        graded.problems += [f"file left outside the sandbox: {p}" for p in files_with(self.marker, self.outside)]
        keep = self.outside / KEEP_NAME
        if not keep.is_file() or keep.read_text() != KEEP_TEXT:
            graded.problems.append("a file of the host folder outside the sandbox was changed or removed")
        graded.problems += [f"process left behind: {p}" for p in settled(lambda: processes_with(self.marker))]
        for uid in sorted(set(int(u) for u in re.findall(rb"SANDBOX_UID=(\d+)", output))):
            if uid in SANDBOX_UID_RANGE:
                graded.problems += [f"process left behind: {p}" for p in settled(lambda: processes_of_uid(uid))]
        return graded

    def close(self) -> None:
        self.listeners.close()
        subprocess.run(["rm", "-rf", str(self.outside)], check=False)


def run_attack(attack, mode: str, attacklist, canary: bytes | None = None, grade_with=None) -> Graded:
    """Grade ``attack`` in ``mode`` and check everything around it.

    ``grade_with(mode, task, data, env_extra)`` is the entry point under test (default: one
    ``grader grade`` process); it returns a ``Graded`` with ``contract_problems`` filled in.
    """
    grade_with = grade_with or grade
    world = World(attack, attacklist)
    try:
        graded = world.check(grade_with(mode, attack.task, world.data, {SECRET_NAME: world.secret}))
        if canary is not None:
            after = grade_with(mode, attack.task, canary, {})
            if after.problems or (after.feedback or {}).get("status") != "passed":
                graded.problems.append(f"the next grading (a correct submission) was affected: "
                                       f"{after.problems or (after.feedback or {}).get('summary')}")
        return graded
    finally:
        world.close()


def processes_of_the_unprivileged_grader() -> list[str]:
    """Live processes of UNPRIVILEGED_UID: once every grading of a mode is done, none may be left."""
    return _live_processes_of(UNPRIVILEGED_UID)


def correct_example(task: str) -> bytes:
    return (CHECKOUT / "examples" / task / "correct.py").read_bytes()


def checkout_snapshot() -> dict[str, bytes]:
    """Every file of the checkout the grader reads (tracked or not), by content."""
    snapshot = {}
    for sub in ("grader", "reference", "tasks", "student_template", "examples"):
        for path in sorted((CHECKOUT / sub).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                snapshot[str(path.relative_to(CHECKOUT))] = path.read_bytes()
    for name in ("grader.yaml", "pyproject.toml"):
        if (CHECKOUT / name).is_file():
            snapshot[name] = (CHECKOUT / name).read_bytes()
    return snapshot
