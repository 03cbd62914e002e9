"""What a grading decides, as data: the records every step of grading/ fills in and the feedback reads.

    Grading      one submission graded on one case set (built by keyword only)
    CaseVerdict  one case: its code (None: passed), the checks of its outputs, the student's arrays
    Check        one output of one case, judged layer by layer (``compare``)
    Diagnosis    a named misconception that explains failing outputs (``misconceptions``)
    Shrunk       the smallest case that still fails the same way (``shrink``)

No behaviour lives here but what the fields imply: the steps that decide them are pipeline, judge,
compare, misconceptions and shrink.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..sandbox.limits import Limits
from ..sandbox.streams import Usage
from ..spec.cases import Case
from ..spec.taskspec import Task
from .submission import Submission


@dataclass
class Check:
    output: str
    code: str | None = None  # None when the check passed
    expected_shape: list[int] = field(default_factory=list)
    got_shape: list[int] | None = None
    got_dtype: str | None = None
    max_abs_error: float | None = None
    detail: dict = field(default_factory=dict)  # values for the message of ``code``
    converted_from: str | None = None  # "list" or "tuple" when a sequence of numbers was converted and accepted

    @property
    def passed(self) -> bool:
        return self.code is None


@dataclass
class CaseVerdict:
    case: Case
    code: str | None = None  # None: passed
    checks: list[Check] = field(default_factory=list)
    error: dict | None = None  # the student's exception, cleaned by sandbox/protocol.py
    detail: dict = field(default_factory=dict)
    stdout: str = ""
    stdout_dropped: int = 0
    got: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: float | None = None  # the case's time as the trusted side saw it (protocol.CaseResult); None: not run

    @property
    def passed(self) -> bool:
        return self.code is None


@dataclass
class Diagnosis:
    id: str
    message: dict  # {"zh": ..., "en": ...}
    cases: list[str]  # names of the failing cases the variant explains
    outputs: list[str]  # the outputs the variant changes


@dataclass
class Shrunk:
    source: str  # name of the case the search started from ("" when it started from the parameter space)
    case: Case
    verdict: CaseVerdict
    expected: dict[str, np.ndarray]
    diagnoses: list[str]  # ids of the run's diagnoses that also explain the shrunk case
    tried: int  # candidates run


@dataclass(kw_only=True)
class Grading:
    """``tolerance``: grader.yaml's (what the feedback reports); ``tolerances``: each output's, the
    task's and the output's own applied over it (what every comparison uses), built once."""

    task: Task
    seed: int
    submission: Submission
    cases: list[Case]
    expected: dict[int, dict[str, np.ndarray]]
    backend: str
    fallback_reason: str | None = None
    limits: Limits
    tolerance: dict
    tolerances: dict[str, dict] = field(init=False)
    verdicts: list[CaseVerdict] = field(default_factory=list)
    enforced: list[str] = field(default_factory=list)
    gradable: bool = True
    diagnoses: list[Diagnosis] = field(default_factory=list)
    shrunk: Shrunk | None = None
    import_stdout: str = ""
    sandbox_output: str = ""
    elapsed: float = 0.0  # the whole grading: from its start (or its sandbox's, if earlier) to the verdicts
    sandbox_elapsed: float = 0.0  # the student's run: from the request handed over until its streams ended
    usage: Usage | None = None  # what the student's processes used (streams.Usage), when it could be measured

    def __post_init__(self) -> None:
        self.tolerances = self.task.tolerances(self.tolerance)
