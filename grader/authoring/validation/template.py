"""The "code" check: the template's blanks (one Begin and one End marker each, in order, not
nested); template, support modules and reference compile, define the entry and import only what the
sandbox has."""

from __future__ import annotations

import ast
import sys

from ...spec.taskspec import Task, blanks_of
from ...spec.yamldoc import did_you_mean
from .context import parse
from .report import Check


def check(task: Task) -> Check:
    check = Check("code")
    template = parse(check, task.template_path, "the template")
    found: list = []
    if template:
        text, tree = template
        found, problems = blanks_of(text)
        for line, problem in problems:
            check.fail(f"{task.template_path}:{line}: {problem}")
        for problem in _definition_problems(tree, task, str(task.template_path)):
            check.fail(problem)
    for path, what in [(task.template_path, "the template"), (task.reference_path, "the reference")] + [
            (support, "the support module") for support in task.support_paths]:
        parsed = template if path == task.template_path else parse(check, path, what)
        if parsed:
            for problem in _import_problems(parsed[1], task, str(path)):
                check.fail(problem)
            if path == task.reference_path:
                for problem in _definition_problems(parsed[1], task, str(path)):
                    check.fail(problem)
    count = len(found)
    check.summary = (
        f"template with {count} blank{'s' if count != 1 else ''}; template, support and reference compile, "
        f"define {task.entry_name} and import only numpy, the standard library and support modules"
    )
    if check.status == "failed":
        check.summary = "the template, a support module or the reference cannot be used as it is"
    return check


def _definition_problems(tree: ast.Module, task: Task, display: str) -> list[str]:
    entry, name = task.entry, task.entry_name
    definitions = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    node = definitions.get(name)
    kind = "function" if "function" in entry else "class"
    if node is None or (kind == "class") != isinstance(node, ast.ClassDef):
        return [f"{display}: defines no top-level {kind} {name!r}, which the spec's entry calls"
                f"{did_you_mean(name, definitions)}"]
    if kind == "class" and not node.bases:
        methods = {item.name for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}
        return [f"{display}:{node.lineno}: class {name} has no method {step['call']!r}, which the spec's entry calls"
                f"{did_you_mean(step['call'], methods)}" for step in entry["steps"] if step["call"] not in methods]
    return []


def _import_problems(tree: ast.Module, task: Task, display: str) -> list[str]:
    available = {"numpy"} | {p.stem for p in task.support_paths} | set(sys.stdlib_module_names)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            if top not in available:
                supports = ", ".join(sorted(p.stem for p in task.support_paths)) or "none"
                problems.append(f"{display}:{node.lineno}: imports {module!r}, which the sandbox does not provide "
                                f"(numpy, the standard library and this task's support modules: {supports})")
    return problems
