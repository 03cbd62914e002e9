"""`grader serve` on the command line: its usage errors, and that `grader grade` never pays for it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from service_support import CORRECT_CONV, REPO, write_config

SERVICE_STACK = ("grader.service", "starlette", "uvicorn", "prometheus_client", "httpx", "sqlite3", "anyio")


def grader(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=timeout, env={**os.environ, "GRADER_TOKENS": "", **(env or {})})


def test_grader_grade_imports_nothing_of_the_service():
    probe = ("import json, sys\nfrom grader.cli import main\nstatus = main(['grade', '--task', 'conv_backward', "
             f"{str(CORRECT_CONV)!r}])\nprint(json.dumps([name for name in {SERVICE_STACK!r} if name in sys.modules]), "
             "file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert json.loads(done.stdout)["status"] == "passed"
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []


def test_the_command_is_listed():
    assert "serve" in grader("--help").stdout


@pytest.mark.parametrize("args, env, words", [
    (["--port", "70000"], {}, "--port must be between 0 and 65535"),
    (["--workers", "0"], {}, "--workers must be at least 1"),
    ([], {"GRADER_TOKENS": "platform submit short"}, "GRADER_TOKENS:1: the token of 'platform'"),
    ([], {"GRADER_WEBHOOK_SECRET": "whsec_not*base64"}, "the webhook secret must be whsec_"),
    ([], {"GRADER_WEBHOOK_SECRET": "whsec_c2hvcnQ="}, "at least 16 bytes"),
])
def test_bad_options_and_secrets_are_usage_errors(tmp_path, args, env, words):
    folder = tmp_path
    config = write_config(folder)
    done = grader("--config", str(config), "serve", "--port", "0", *args, env=env)
    assert done.returncode == 2 and words in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr


def test_an_unknown_task_in_the_settings_is_a_usage_error(tmp_path):
    folder = tmp_path
    config = write_config(folder, {"tasks": ["conv_backward", "no_such_task"]})
    done = grader("--config", str(config), "serve", "--port", "0")
    assert done.returncode == 2 and "no_such_task" in done.stderr and "Traceback" not in done.stderr


def test_a_port_already_taken_is_said_and_exits_3(tmp_path):
    folder = tmp_path
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = grader("--config", str(write_config(folder)), "serve", "--port", str(port))
    assert done.returncode == 3 and f"cannot listen on 127.0.0.1:{port}" in done.stderr, done.stderr[-2000:]


def test_a_database_of_another_version_is_refused(tmp_path):
    import sqlite3

    folder = tmp_path
    database = folder / "service.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA user_version = 99")
    done = grader("--config", str(write_config(folder)), "serve", "--port", "0")
    assert done.returncode == 2 and "another version of the service" in done.stderr, done.stderr[-2000:]
