"""What ``grader validate`` reports of a task: a check per step, each with its problems (validation.schema.json)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Check:
    name: str
    status: str = "passed"  # "passed", "failed" or "skipped"
    summary: str = ""
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    coverage: dict | None = None  # the coverage check's findings, in the JSON report

    def fail(self, problem: str) -> None:
        self.status = "failed"
        self.problems.append(problem)

    def as_dict(self) -> dict:
        found = {"name": self.name, "status": self.status, "summary": self.summary,
                 "problems": self.problems, "warnings": self.warnings}
        if self.coverage is not None:
            found["coverage"] = self.coverage
        return found


@dataclass
class TaskReport:
    task: str
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.status != "failed" for check in self.checks)

    def as_dict(self) -> dict:
        return {"task": self.task, "passed": self.passed, "checks": [c.as_dict() for c in self.checks]}
