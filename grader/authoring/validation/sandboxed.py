"""The "sandbox" check: the reference graded as a student file through the real pipeline
passes every case; the template as shipped fails."""

from __future__ import annotations

from ...grading import pipeline, reference
from ...sandbox.errors import SandboxError, SandboxUnavailable
from ...spec import taskspec
from .context import MAX_LISTED, Context
from .report import Check


def check(context: Context) -> Check:
    task, check = context.task, Check("sandbox")
    try:
        graded_reference = pipeline.run(task, task.reference_path.read_bytes(), context.settings, seed=context.seed)
        graded_template = pipeline.run(task, task.template_path.read_bytes(), context.settings, seed=context.seed)
    except SandboxUnavailable as exc:
        check.fail(f"no sandbox can run here ({exc}); run with --no-sandbox to skip this check")
        return check
    except (SandboxError, taskspec.TaskError, reference.ReferenceError_) as exc:
        check.fail(f"grading failed: {exc}")
        return check
    failing = [v for v in graded_reference.verdicts if not v.passed]
    for verdict in failing[:MAX_LISTED]:
        check.fail(f"{task.reference_path}: graded as a student's file, case {verdict.case.name} "
                   f"fails: {_verdict_text(verdict, graded_reference)}")
    template_passing = [v.case.name for v in graded_template.verdicts if v.passed]
    total = len(graded_template.verdicts)
    if len(template_passing) == total:
        check.fail(f"{task.template_path}: the template as shipped passes every case: the blanks give the answer away")
    elif template_passing:
        check.warnings.append(
            f"{task.template_path}: the template as shipped already passes {', '.join(template_passing)}"
        )
    check.summary = (
        f"graded through the {graded_reference.backend} sandbox, seed {context.seed}: the reference passes "
        f"{total - len(failing)}/{total} cases; the template as shipped fails {total - len(template_passing)}/{total}"
    )
    return check


def _verdict_text(verdict, grading) -> str:
    parts = [verdict.code or ""]
    if verdict.error:
        parts.append(f"{verdict.error.get('exception', '')}: {verdict.error.get('message', '')}".strip(": "))
    if verdict.detail:
        parts.append(str(verdict.detail))
    for check in verdict.checks:
        if check.code:
            parts.append(f"{check.output}: {check.code} {check.detail}")
    if grading.sandbox_output.strip():
        parts.append(grading.sandbox_output.strip()[-300:])
    return "; ".join(p for p in parts if p)
