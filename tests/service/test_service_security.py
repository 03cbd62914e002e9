"""Red-team attacks through the service: the security harness with the service as its entry point.

The harness of tests/security grades an attack, checks everything around it (the verdict, the
feedback's schema, no file, process or connection left, no leak) and then grades a correct
submission, which must pass. Here ``grade_with`` is a running `grader serve` (bwrap, the
harness's tight limits), which holds a secret in its environment that must never reach an
answer, and must outlive every attack. A sample of the list runs here: the attacks on the
grader's own process and its neighbours, each in a warm worker's child (two workers), followed
by a correct file. The whole list (81 attacks, about ten minutes on two cores) passed through
the warm service when it was built; it is not run in the suite, whose budget is ten minutes.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys

import pytest

from service_support import REPO, Server, grade_with_service, new_folder

SECURITY = REPO / "tests" / "security"
SERVICE_SECRET = "service-secret-0f1e2d3c4b5a"
SAMPLE = ("escape_environment_secret", "escape_kill_everything", "escape_signal_parent", "steal_read_reference",
          "steal_proc_other_processes", "steal_other_submissions", "escape_network_tcp")


def _load(name: str, file: str):
    """The security suite's helpers, under the names its own conftest gives them."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SECURITY / file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


attacklist = _load("cnn_security_attacklist", "attacklist.py")
harness = _load("cnn_security_harness", "harness.py")
ATTACKS = {attack.name: attack for attack in attacklist.load() if attack.name in SAMPLE}


@pytest.fixture(scope="module")
def red_team_service():
    problem = harness.mode_problem("bwrap")
    if problem:
        pytest.skip(f"bwrap cannot run here: {problem}")
    folder = new_folder("redteam")
    config = folder / "grader.yaml"
    tasks = sorted({attack.task for attack in ATTACKS.values()})
    config.write_text(harness.config_file("bwrap").read_text() + f"tasks_root: {REPO}\n"
                      + f"service:\n  tasks: {tasks}\n  database: {folder / 'service.sqlite3'}\n")
    server = Server(folder, config, env={harness.SECRET_NAME: SERVICE_SECRET}, workers=2)
    try:
        yield server.start()
    finally:
        if server.process is not None and server.process.poll() is None:
            assert server.stop() == 0, server.log_text()[-3000:]
            assert "Traceback" not in server.log_text()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_sample_is_in_the_list():
    assert sorted(ATTACKS) == sorted(SAMPLE)


@pytest.mark.parametrize("name", SAMPLE)
def test_an_attack_through_the_service_is_judged_and_leaves_it_and_the_next_grading_unharmed(red_team_service, name):
    attack = ATTACKS[name]
    canary = harness.correct_example(attack.task)
    graded = harness.run_attack(attack, "bwrap", attacklist, canary,
                                grade_with=grade_with_service(red_team_service, None, SERVICE_SECRET))
    assert not graded.problems, graded.problems
    assert red_team_service.process.poll() is None, "the service died"
    with red_team_service.client() as client:
        assert client.get("/readyz").json()["ready"] is True
