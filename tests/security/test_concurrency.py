"""Eight gradings at once, hostile mixed with correct: every verdict right, no interference.

Each submission reports (at import, so that it reaches the feedback) its uid, its work
folder and what it sees there; a peeker looks into every other work folder it can find.
As root every grading must have run as a uid of its own while the others ran, none may
have seen another's files, and every verdict must be the one the submission deserves.
"""

import ast
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

harness = sys.modules["cnn_security_harness"]

REPORT = '''import glob
import os
import sys
import time

import numpy as np

print("START=%r" % time.time())
print("SANDBOX_UID=%d" % os.getuid())
print("WORKDIR=%s" % os.path.realpath(os.getcwd()))
print("FILES=%s" % sorted(os.listdir(".")))
foreign = []
for path in glob.glob("/tmp/*/work/*") + glob.glob("/tmp/*/*") + glob.glob("/tmp/*"):
    if not os.path.realpath(path).startswith(os.path.realpath(os.getcwd())):
        try:
            with open(path) as handle:
                if "def " in handle.read():
                    foreign.append(path)
        except OSError:
            pass
if foreign:
    print("LEAKED-" + "peeked", foreign[:3])
time.sleep(2)  # hold the sandbox a while, so that the gradings overlap
print("END=%r" % time.time())
'''
IM2COL = '''
def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for y in range(filter_h):
        for x in range(filter_w):
            col[:, :, y, x] = img[:, :, y:y + stride * out_h:stride, x:x + stride * out_w:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)
'''
LOOP = "\ndef im2col(input_data, filter_h, filter_w, stride=1, pad=0):\n    while True:\n        pass\n"
KILL = ("\nimport signal\n\ndef im2col(input_data, filter_h, filter_w, stride=1, pad=0):\n"
        "    try:\n        os.kill(-1, signal.SIGKILL)\n    except OSError:\n        pass\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n")
FORK = ("\nfor _ in range(100):\n    try:\n        if os.fork() == 0:\n"
        "            os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(600)', 'concurrency-fork'])\n"
        "    except OSError:\n        break\n" + IM2COL.replace("return col", "return 0 * col"))

# (name, task, source, expected status, a code a failing test must carry)
SUBMISSIONS = [
    ("correct-a", "im2col", REPORT + IM2COL, "passed", None),
    ("correct-b", "im2col", REPORT + IM2COL, "passed", None),
    ("correct-col2im", "col2im", None, "passed", None),
    ("correct-conv", "conv_backward", None, "passed", None),
    ("loop", "im2col", REPORT + LOOP, "failed", "TIMEOUT"),
    ("kill-all", "im2col", REPORT + KILL, "failed", "CRASHED"),
    ("fork-bomb", "im2col", REPORT + FORK, "failed", "WRONG_VALUES"),
    ("peeker", "im2col", REPORT + IM2COL, "passed", None),
]


@pytest.mark.parametrize("mode", ["bwrap", "process"])
def test_eight_gradings_at_once(mode):
    problem = harness.mode_problem(mode)
    if problem:
        pytest.skip(f"mode {mode} cannot run here: {problem}")

    def one(submission):
        name, task, source, _, _ = submission
        data = harness.correct_example(task) if source is None else source.encode()
        return name, harness.grade(mode, task, data)

    with ThreadPoolExecutor(max_workers=len(SUBMISSIONS)) as pool:
        graded = dict(pool.map(one, SUBMISSIONS))

    uids, workdirs, windows = {}, {}, {}
    for name, _, source, status, code in SUBMISSIONS:
        result = graded[name]
        assert not result.problems, (name, result.problems)
        feedback = result.feedback
        assert feedback["status"] == status, (name, feedback["summary"])
        if code:
            assert code in {test["code"] for test in feedback["tests"]}, (name, feedback["summary"])
        report = feedback.get("import_stdout", "")
        assert "LEAKED-" not in report, (name, report)
        if source is not None:
            uids[name] = int(re.search(r"SANDBOX_UID=(\d+)", report).group(1))
            workdirs[name] = re.search(r"WORKDIR=(.*)", report).group(1)
            windows[name] = (float(re.search(r"START=(.*)", report).group(1)), float(re.search(r"END=(.*)", report).group(1)))
            files = ast.literal_eval(re.search(r"FILES=(.*)", report).group(1))
            assert len(files) == 1 and files[0].endswith(".py"), (name, files)  # its own module alone
    # A uid goes back to the pool when its grading ends: only gradings whose sandboxes were
    # alive at the same time must have had different uids.
    overlapping = [(a, b) for a in windows for b in windows
                   if a < b and windows[a][0] < windows[b][1] and windows[b][0] < windows[a][1]]
    assert overlapping, windows
    if os.geteuid() == 0:
        assert all(uids[a] != uids[b] for a, b in overlapping), (uids, overlapping)
    if mode == "process":
        assert len(set(workdirs.values())) == len(workdirs), workdirs
    assert harness.settled(lambda: harness.processes_with("concurrency-fork")) == []
