"""``--format text``: snapshots of the terminal rendering for a fixed seed (any difference fails; run
with UPDATE_SNAPSHOTS=1 to rewrite them after an intended change), the same content as the JSON,
and colour only on a terminal."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import pytest

from feedback_support import EXAMPLES, GRADER, SEED, SUBMISSIONS
from grader.feedback import text as render_text

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"

RENDERED = [
    ("col2im_average_overlaps_en", "col2im", EXAMPLES / "col2im" / "wrong_col2im_average_overlaps.py", "en", True),
    ("conv_db_keepdims_zh", "conv_backward", EXAMPLES / "conv_backward" / "wrong_conv_db_keepdims.py", "zh", False),
    ("conv_runtime_error_en", "conv_backward", EXAMPLES / "conv_backward" / "wrong_col2im_no_stride_pad.py", "en", True),
    ("col2im_syntax_error_block_zh", "col2im", SUBMISSIONS / "col2im" / "unclosed_bracket_block.py", "zh", True),
    ("conv_db_never_set_en", "conv_backward", SUBMISSIONS / "conv_backward" / "db_never_set_block.py", "en", False),
    ("maxpool_average_rule_zh", "maxpool_backward", EXAMPLES / "maxpool_backward" / "wrong_maxpool_average_rule.py", "zh", True),
    ("im2col_import_error_en", "im2col", SUBMISSIONS / "im2col" / "imports_utils.py", "en", False),
    ("maxpool_correct_en", "maxpool_backward", EXAMPLES / "maxpool_backward" / "correct.py", "en", True),
]


@pytest.mark.parametrize("name,task,path,lang,shrink", RENDERED, ids=[r[0] for r in RENDERED])
def test_snapshot(grade, name, task, path, lang, shrink):
    graded = grade(task, path, lang=lang, shrink=shrink, fmt="text")
    assert graded.returncode == 0
    snapshot = SNAPSHOTS / f"{name}.txt"
    if UPDATE:
        snapshot.write_text(graded.stdout, encoding="utf-8")
    assert snapshot.is_file(), f"no snapshot {snapshot.name}; run with UPDATE_SNAPSHOTS=1 to create it"
    assert graded.stdout == snapshot.read_text(encoding="utf-8")
    assert "\033[" not in graded.stdout, "no colour when stdout is not a terminal"


@pytest.mark.parametrize("name,task,path,lang,shrink", RENDERED[:3], ids=[r[0] for r in RENDERED[:3]])
def test_text_renders_the_json_document(grade, name, task, path, lang, shrink):
    document = grade(task, path, lang=lang, shrink=shrink).document
    assert render_text.render(document) == grade(task, path, lang=lang, shrink=shrink, fmt="text").stdout


def test_layout_of_a_failing_run(grade):
    text = grade("col2im", EXAMPLES / "col2im" / "wrong_col2im_average_overlaps.py", shrink=True, fmt="text").stdout
    lines = text.split("\n")
    document = grade("col2im", EXAMPLES / "col2im" / "wrong_col2im_average_overlaps.py", shrink=True).document
    assert lines[0].startswith("FAIL ") and document["summary"] in lines[0]
    for test in document["tests"]:
        assert sum(1 for line in lines if line.split()[1:2] == [test["name"]]) == 1
    first_failure = lines.index(next(l for l in lines if l.startswith("First failure: overlap_stride1")))
    map_line = next(i for i, l in enumerate(lines) if "error map of x" in l)
    assert first_failure < map_line
    assert lines[map_line + 1].strip() == ".xxx."


def test_colour_on_a_terminal(configs):
    def run(env):
        leader, follower = pty.openpty()
        process = subprocess.Popen([str(GRADER), "--config", str(configs["quick"]), "grade", "--task", "col2im",
                                    "--seed", str(SEED), "--lang", "en", "--format", "text",
                                    str(EXAMPLES / "col2im" / "wrong_col2im_average_overlaps.py")],
                                   stdout=follower, stderr=subprocess.DEVNULL, env=env)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the grader closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=120)
        os.close(leader)
        return b"".join(chunks).decode()

    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = run(environment)
    assert "\033[31mFAIL\033[0m" in coloured and "\033[32mPASS" in coloured
    assert "\033[" not in run({**environment, "NO_COLOR": "1"})
