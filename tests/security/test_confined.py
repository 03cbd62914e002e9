"""grader/sandbox/confined/ is the trust boundary as a folder: what runs in the sandbox, and only that.

Its modules use the standard library alone (the grader package is not in the sandbox; they are
shipped in as source), every program text a sandbox is given is one of them, and each of them is
given to some sandbox.
"""

from __future__ import annotations

import ast
import os
import shutil
import sys
from pathlib import Path

import pytest

from grader.sandbox import bwrap, confined, pool, process
from grader.sandbox.limits import Limits

CONFINED = Path(confined.__file__).resolve().parent
MODULES = sorted(path.stem for path in CONFINED.glob("*.py") if path.stem != "__init__")
LIMITS = Limits(3, 6, 768, 16, 8, 32, 64, 4, 16)


def imports(path: Path) -> list[tuple[int, str]]:
    """(level, module) of every import in the file, those inside functions included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


@pytest.mark.parametrize("path", sorted(CONFINED.glob("*.py")), ids=lambda path: path.name)
def test_a_confined_module_imports_the_standard_library_and_its_siblings_alone(path):
    for level, module in imports(path):
        top = module.split(".")[0]
        if level == 0:
            assert top in sys.stdlib_module_names or top == "__future__" or (top == "numpy" and path.stem in (
                "runner", "warm_worker")), f"{path.name} imports {module}"
        else:
            assert level == 1 and (not module or module in MODULES), f"{path.name} imports {'.' * level}{module}"


def shipped_programs() -> list[str]:
    """Every argument a sandbox's command line carries that is a program text, over every way a
    sandbox is started: bwrap's single grading (confined or not), a warm worker, the process backend."""
    commands = [bwrap.runner_command(LIMITS, None, 3), bwrap.runner_command(LIMITS, None, 3, confine=True),
                pool.worker_command(LIMITS, None, 5)]
    read, write = os.pipe()
    plan = None
    try:
        plan = process.plan(LIMITS, None, write)
        commands.append(plan.command)
    except Exception as exc:  # e.g. no Landlock for an ordinary uid: then it starts nothing
        print(f"the process backend cannot run here: {exc}")
    finally:
        if plan is not None:
            plan.failed()
            for step in reversed(plan.cleanup):
                step()
        os.close(read)
        os.close(write)
    return [argument for command in commands for argument in command if "\n" in argument]


def test_only_confined_sources_are_shipped_and_each_of_them_is():
    if not shutil.which("bwrap"):
        pytest.skip("bwrap is not installed")
    shipped = shipped_programs()
    sources = {confined.source(name): name for name in MODULES}
    strangers = [program[:80] for program in shipped if program not in sources]
    assert not strangers, f"program texts shipped into a sandbox that are not confined modules: {strangers}"
    assert {sources[program] for program in shipped} == set(MODULES)
