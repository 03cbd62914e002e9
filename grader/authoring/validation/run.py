"""Every check of one task, in order (``validate``); a check that needs a broken step is skipped."""

from __future__ import annotations

from ...spec import taskspec
from ...spec.config import Settings
from . import coverage, params, reference_free, reference_runs, sandboxed, template, variants
from .context import Context, bounded
from .report import Check, TaskReport

DEFAULT_SEED = 20240611


def validate(task_id: str, settings: Settings, seed: int = DEFAULT_SEED, sandbox: bool = True) -> TaskReport:
    """Every check of one task, in order; a check that needs a broken step is skipped."""
    report = TaskReport(task_id)
    spec = Check("spec")
    report.checks.append(spec)
    # The template's blanks, the other half of what makes a task broken for grading
    # (taskspec.check_semantics), are the code check's: the spec check reports the spec's half.
    try:
        task = taskspec.load(task_id, settings.root, check=False)
        problems = taskspec.semantic_problems(task)
    except taskspec.TaskError as exc:
        problems = exc.problems
    if problems:
        for problem in problems:
            spec.fail(problem)
        spec.summary = "the spec cannot be used"
        for name in ("code", "params", "coverage", "reference", "misconceptions", "checks", "sandbox"):
            report.checks.append(Check(name, "skipped", "skipped: the spec does not load"))
        return report
    spec.summary = "schema, names and files"
    context = Context(task, settings, seed)
    code = template.check(task)
    report.checks.append(code)
    params_check = params.check(context)
    report.checks.append(params_check)
    if params_check.status == "failed":
        for name in ("coverage", "reference", "misconceptions", "checks", "sandbox"):
            report.checks.append(Check(name, "skipped", "skipped: the params check failed"))
        return report
    report.checks.append(coverage.check(context))
    reference_check = bounded("reference", reference_runs.check, context)
    report.checks.append(reference_check)
    if reference_check.status == "failed":
        report.checks.append(Check("misconceptions", "skipped", "skipped: the reference fails"))
        report.checks.append(Check("checks", "skipped", "skipped: the reference fails"))
    else:
        report.checks.append(bounded("misconceptions", variants.check, context))
        report.checks.append(bounded("checks", reference_free.check, context))
    if not sandbox:
        report.checks.append(Check("sandbox", "skipped", "skipped (--no-sandbox)"))
    elif code.status == "failed":
        report.checks.append(Check("sandbox", "skipped", "skipped: the code check failed"))
    else:
        report.checks.append(sandboxed.check(context))
    return report
