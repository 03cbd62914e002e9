"""What reaches the grader of a sandbox's processes is reaped: no zombie is left behind.

An orphan is handed to the nearest subreaper, or to pid 1: in a container whose first process is
the grader (its image's entry point), that is the grader. The test makes its grader a subreaper,
grades submissions whose grandchildren are orphaned, and counts the grader's children once it
is done (the exhaust_clone_parent_zombies attack covers the children clone(CLONE_PARENT) would
hand to the grader directly).
"""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

harness = sys.modules["cnn_security_harness"]

AS_SUBREAPER = r'''
import ctypes, json, os, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans come to us, as to pid 1
from grader import cli
code = cli.main(sys.argv[1:])
children = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    if int(fields[1]) == os.getpid():
        children.append(f"{pid} (state {fields[0]}, group {fields[2]})")
print(json.dumps({"exit": code, "children": children}), file=sys.stderr)
'''

ORPHANS = b"""import os, time
for _ in range(5):
    if os.fork() == 0:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        os._exit(0)
    os.wait()
"""


@pytest.mark.parametrize("command", ["grade", "batch"])
@pytest.mark.parametrize("mode", ["bwrap", "process", "process-unprivileged"])
def test_orphans_handed_to_the_grader_are_reaped(mode, command):
    # bwrap's own init process is orphaned whenever bwrap ends; the process backend's orphans
    # are the student's. A batch's warm workers (bwrap) are killed at its end.
    problem = harness.mode_problem(mode)
    if problem:
        pytest.skip(f"mode {mode} cannot run here: {problem}")
    tmp_path = Path(tempfile.mkdtemp(prefix="cnn-zombies-"))  # reachable by the unprivileged grader
    tmp_path.chmod(0o777)
    (tmp_path / "class").mkdir(mode=0o777)
    for name in ("orphans.py", "again.py"):
        (tmp_path / "class" / name).write_bytes(ORPHANS + harness.correct_example("im2col"))
        (tmp_path / "class" / name).chmod(0o644)
    prefix = harness._unprivileged_prefix() if mode == "process-unprivileged" else []
    arguments = ["grade", "--task", "im2col", str(tmp_path / "class" / "orphans.py")] if command == "grade" else \
        ["batch", "--task", "im2col", str(tmp_path / "class"), "--out", str(tmp_path / "results.jsonl"), "--jobs", "1"]
    done = subprocess.run([*prefix, str(harness.GRADER.parent / "python"), "-c", AS_SUBREAPER, "--config",
                           str(harness.config_file(mode)), "--root", str(harness.CHECKOUT), *arguments],
                          capture_output=True, timeout=harness.HANG_SECONDS, cwd="/")
    results = (tmp_path / "results.jsonl").read_text().splitlines() if command == "batch" else []
    shutil.rmtree(tmp_path, ignore_errors=True)
    outcome = json.loads(done.stderr.decode().strip().splitlines()[-1])
    assert outcome == {"exit": 0, "children": []}, done.stderr.decode()[-2000:]
    if command == "grade":
        assert json.loads(done.stdout)["status"] == "passed"
    else:
        assert [json.loads(line)["status"] for line in results] == ["passed", "passed"]
