"""The package's shape: no import cycle, every dataclass's annotations resolve, light __init__ files,
and every module named in the map of its package.

The import graph is read from the source with ast, imports inside functions included: a module
imported lazily is still a dependency, and a cycle through one only waits for the right call order.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
import sys
import typing
from pathlib import Path

import pytest

import grader

PACKAGE = Path(grader.__file__).resolve().parent
# Run as programs in the sandbox, not imported by the trusted side (runner is, by tests too).
NOT_IMPORTED = {"grader.__main__", "grader.sandbox.confined.warm_worker"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def dependencies(name: str) -> set[str]:
    """The grader modules ``name`` imports, anywhere in its source."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            targets = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {target for target in targets if target in MODULES and target != name}
    return found


def test_the_package_has_no_import_cycle():
    graph = {name: dependencies(name) for name in MODULES}
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = "open"
        path.append(name)
        for dependency in sorted(graph[name]):
            if state.get(dependency) == "open":
                cycle = path[path.index(dependency):] + [dependency]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dependency not in state:
                visit(dependency)
        path.pop()
        state[name] = "done"

    for name in graph:
        if name not in state:
            visit(name)


def dataclasses_of_the_package() -> list[type]:
    found = []
    for name in MODULES:
        if name in NOT_IMPORTED:
            continue
        module = importlib.import_module(name)
        found += [value for value in vars(module).values() if isinstance(value, type) and
                  dataclasses.is_dataclass(value) and value.__module__ == name]
    return found


def test_every_dataclass_annotation_resolves():
    classes = dataclasses_of_the_package()
    assert len(classes) > 20
    for cls in classes:
        typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))


# What a package's __init__ may import: nothing that costs `grader grade` time before its sandbox
# starts (numpy, yaml, jsonschema), and no module of the package (a sibling imported there is
# imported with every module of the package).
LIGHT = {"__future__", "os", "functools"}


@pytest.mark.parametrize("name", [name for name, path in MODULES.items() if path.name == "__init__.py"])
def test_a_package_init_imports_nothing_heavy_and_no_sibling(name):
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert {alias.name for alias in node.names} <= LIGHT, f"{name} imports {[a.name for a in node.names]}"
        elif isinstance(node, ast.ImportFrom):
            assert not node.level and node.module in LIGHT, f"{name} imports from {'.' * node.level}{node.module}"
    assert ast.get_docstring(tree), f"{name} says nothing of what its package owns"


@pytest.mark.parametrize("name", [name for name, path in MODULES.items() if path.name != "__init__.py"
                                  and name != "grader.__main__"])
def test_every_module_is_named_in_the_map_of_its_package(name):
    package, _, leaf = name.rpartition(".")
    docstring = ast.get_docstring(ast.parse(MODULES[package].read_text(encoding="utf-8"))) or ""
    if package == "grader.commands":  # one module per command: the command's name is the module's
        return
    assert re.search(rf"(?<![\w/]){leaf}(?!\w)", docstring), f"{package}'s docstring does not name {leaf}"
