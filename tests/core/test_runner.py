"""The runner (inside the sandbox): what it says on the result channel, and when."""

import pytest

from grader.sandbox.confined import runner


class Recorder:
    def __init__(self):
        self.records = []

    def record(self, record, payloads=()):
        self.records.append(record)


def test_a_sandbox_that_cannot_hold_the_files_never_says_it_is_ready(monkeypatch):
    # A full disk is the sandbox's failure, not the student's: without "ready" the trusted side
    # reports a grader error (retried) instead of judging the student's code as crashed.
    monkeypatch.chdir("/proc")  # nothing can be written here, not even by root
    channel = Recorder()
    header = {"files": {"im2col.py": "x = 1\n"}, "module": "im2col", "output_cap": 100, "entry": {}, "cases": [],
              "outputs": []}
    with pytest.raises(OSError):
        runner.serve(header, {}, channel)
    assert channel.records == []
