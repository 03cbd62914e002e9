"""What keeps one grading close to its floor, as behaviour (timings live in bench/, not here).

`grader grade` starts the sandbox before numpy is imported on the trusted side, so the two
interpreters start together, and before any other module its start does not need; with the
document cache warm it imports neither PyYAML nor jsonschema at all. It sends the request
before the reference runs, so the student's code and the reference run side by side, and
loads what the feedback needs before it waits for the results. The cache itself must never
change what a document means.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from grader.spec import doccache, taskspec, yamldoc
from platform_support import CORRECT_CONV, REPO, run_grader

# Modules the sandbox's start does not need, each costing milliseconds of import before the
# student's interpreter can start: the heavy ones, and those only a failure or a miss uses.
# (The grader's own later modules are loaded lazily: in sys.modules, but not executed, so they
# are watched through what they import: numpy, tokenize.)
NOT_BEFORE_THE_SANDBOX = ("numpy", "yaml", "jsonschema", "dataclasses", "typing", "inspect", "ctypes", "tempfile",
                          "traceback", "difflib", "tokenize", "ast", "hashlib")

SPY = """
import json, sys
import grader.sandbox.launch as sandbox
watched = %r
started_with = {}
calls = []
real_start = sandbox.start
def start(*args, **kwargs):
    started_with.update({name: name in sys.modules for name in watched})
    return real_start(*args, **kwargs)
sandbox.start = start
watched_calls = ("sandbox/launch.py:send", "grading/reference.py:expected_outputs", "feedback/document.py:prepare",
                 "sandbox/launch.py:finish")
def profile(frame, event, arg):
    if event == "call":
        name = "/".join(frame.f_code.co_filename.rsplit("/", 2)[-2:]) + ":" + frame.f_code.co_name
        if name in watched_calls:
            calls.append(name)
sys.setprofile(profile)
from grader.cli import main
status = main(["grade", "--task", "conv_backward", sys.argv[1]])
sys.setprofile(None)
print(json.dumps({"status": status, "started_with": started_with, "calls": calls,
                  "imported": {name: name in sys.modules for name in ("yaml", "jsonschema")}}), file=sys.stderr)
""" % (NOT_BEFORE_THE_SANDBOX,)


def spy_on_grade(cache_dir) -> dict:
    done = subprocess.run([sys.executable, "-c", SPY, str(CORRECT_CONV)], capture_output=True, text=True, cwd=REPO,
                          env={"PATH": "/usr/bin:/bin", "GRADER_CACHE_DIR": str(cache_dir)}, timeout=300)
    assert json.loads(done.stdout)["status"] == "passed"
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_grade_starts_the_sandbox_before_numpy_and_skips_yaml_once_cached(tmp_path):
    cache = tmp_path / "cache"
    first = spy_on_grade(cache)
    assert first["started_with"]["numpy"] is False
    assert first["imported"]["jsonschema"] is True  # a cold cache validates
    second = spy_on_grade(cache)
    assert not [name for name, loaded in second["started_with"].items() if loaded]
    assert second["imported"] == {"yaml": False, "jsonschema": False}


def test_grade_sends_the_request_then_runs_the_reference_and_loads_the_feedback_while_the_student_runs(tmp_path):
    calls = spy_on_grade(tmp_path / "cache")["calls"]
    assert calls[:4] == ["sandbox/launch.py:send", "grading/reference.py:expected_outputs",
                         "feedback/document.py:prepare", "sandbox/launch.py:finish"], calls


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(doccache.CACHE_ENV, str(folder))
    doccache.folder.cache_clear()
    yield folder
    doccache.folder.cache_clear()


@pytest.fixture
def tasks_root(tmp_path):
    root = tmp_path / "root"
    for name in ("tasks", "reference", "student_template"):
        shutil.copytree(REPO / name, root / name)
    return root


def test_an_edited_spec_is_read_again(cache, tasks_root):
    spec = tasks_root / "tasks" / "conv_backward.yaml"
    assert taskspec.load("conv_backward", tasks_root).spec.get("tolerance", {}).get("atol") != 0.001
    spec.write_text(spec.read_text() + "tolerance: {atol: 0.001}\n")
    assert taskspec.load("conv_backward", tasks_root).spec["tolerance"]["atol"] == 0.001
    assert len(list(cache.glob("*.json"))) == 2


def test_an_invalid_spec_is_never_cached_and_always_reported_with_its_line(cache, tasks_root):
    spec = tasks_root / "tasks" / "conv_backward.yaml"
    spec.write_text(spec.read_text().replace("N: {min: 1, max: 3}", "N: {min: one, max: 3}"))
    for _ in range(2):
        with pytest.raises(taskspec.TaskError) as error:
            taskspec.load("conv_backward", tasks_root)
        assert "conv_backward.yaml:" in str(error.value) and "params/N" in str(error.value)
    assert not list(cache.glob("*.json"))


def test_a_cache_folder_others_may_write_is_not_used(cache, tasks_root):
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)
    assert doccache.folder() is None
    taskspec.load("conv_backward", tasks_root)
    assert not list(cache.iterdir())


def test_a_value_json_cannot_carry_is_computed_but_not_stored(cache):
    produced = doccache.cached("test", b"content", lambda: {1: "an int key"})
    assert produced == {1: "an int key"}
    assert not list(cache.glob("*.json"))


def test_the_cached_document_equals_the_parsed_one(cache, tasks_root):
    first = yamldoc.load(tasks_root / "tasks" / "conv_backward.yaml", "task.schema.json")
    second = yamldoc.load(tasks_root / "tasks" / "conv_backward.yaml", "task.schema.json")
    assert first == second and list(cache.glob("*.json"))


def test_the_background_bwrap_probe_gives_the_same_verdict_and_leaves_no_process(monkeypatch):
    from grader.sandbox import bwrap

    as_root = os.geteuid() == 0
    monkeypatch.setattr(bwrap, "_verdicts", {})
    monkeypatch.setattr(bwrap, "_started_probes", {})
    bwrap.start_probe()
    probe = bwrap._started_probes.get(as_root)
    verdict = bwrap.problem(as_root)
    assert probe is None or probe.returncode is not None  # collected, not left running
    bwrap.start_probe()  # known now: nothing more is started
    assert not bwrap._started_probes
    monkeypatch.setattr(bwrap, "_verdicts", {})
    assert bwrap.problem(as_root) == verdict  # probed in the foreground: the same answer


def test_a_sandbox_started_on_bwrap_before_its_probe_said_no_is_replaced_by_the_process_backend(monkeypatch, capsys):
    from grader import cli
    from grader.commands import grade as grade_command
    from grader.sandbox import bwrap
    from grader.sandbox import launch as sandbox

    if bwrap.missing(os.geteuid() == 0):
        pytest.skip("bwrap is not installed: no sandbox is started on a guess")

    def refusing_probe(as_root):
        return subprocess.Popen([sys.executable, "-c", "import sys; sys.exit('no namespaces for you')"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    monkeypatch.setattr(bwrap, "_verdicts", {})
    monkeypatch.setattr(bwrap, "_started_probes", {})
    monkeypatch.setattr(bwrap, "_probe", refusing_probe)
    events = []
    real_start, real_abort, real_run = sandbox.start, sandbox.abort, grade_command.pipeline.run
    monkeypatch.setattr(sandbox, "start", lambda limits, backend, uids: events.append(f"start {backend}") or real_start(limits, backend, uids))
    monkeypatch.setattr(sandbox, "abort", lambda launch: events.append(f"abort {launch.backend}") or real_abort(launch))
    monkeypatch.setattr(grade_command.pipeline, "run", lambda *args, **kwargs: events.append("pipeline") or real_run(*args, **kwargs))
    assert cli.main(["grade", "--task", "conv_backward", "--lang", "en", str(CORRECT_CONV)]) == cli.EXIT_OK
    feedback = json.loads(capsys.readouterr().out)
    # Replaced before the pipeline (and numpy) loads: the process backend starts no later than it did without the guess.
    assert events == ["start bwrap", "abort bwrap", "start process", "pipeline"]
    assert feedback["status"] == "passed" and feedback["sandbox"]["backend"] == "process"
    assert "no namespaces for you" in feedback["sandbox"]["fallback_reason"]


def test_a_bwrap_that_cannot_be_executed_falls_back_to_the_process_backend_as_before(tmp_path):
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/nonexistent/interpreter\n")
    fake.chmod(0o755)
    done = run_grader("grade", "--task", "conv_backward", "--lang", "en", str(CORRECT_CONV),
                      env={"PATH": f"{fake.parent}:/usr/bin:/bin"})
    feedback = json.loads(done.stdout)
    assert done.returncode == 0 and feedback["status"] == "passed", done.stderr.decode(errors="replace")[-500:]
    assert feedback["sandbox"]["backend"] == "process"
    assert feedback["sandbox"]["fallback_reason"].startswith("bwrap failed to start")


def test_bwrap_demanded_where_it_is_missing_says_so_and_starts_nothing(tmp_path):
    import fcntl

    from grader.sandbox import uids

    if os.geteuid() != 0:
        pytest.skip("uid slots, held here so that no other backend could start, exist only as root")
    uid = 65432
    config = tmp_path / "grader.yaml"
    config.write_text(f"sandbox: bwrap\nsandbox_uids: {{first: {uid}, count: 1}}\n")
    (tmp_path / "bin").mkdir()
    uids.SLOT_DIR.mkdir(mode=0o755, exist_ok=True)
    with open(uids.SLOT_DIR / f"{uid}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a backend started anyway would fail on its uid instead
        done = run_grader("--config", str(config), "--root", str(REPO), "grade", "--task", "conv_backward",
                          str(CORRECT_CONV), env={"PATH": str(tmp_path / "bin")})
    feedback = json.loads(done.stdout)
    assert done.returncode == 3 and feedback["status"] == "error"
    assert "bubblewrap (bwrap) is not installed" in feedback["error"], feedback["error"]
