"""The Prometheus metrics of one service, in a registry of its own (prometheus-client).

    grader_gradings_total{task,status,code}        finished gradings; status passed, failed or
                                                   error; code the first failing test's code
                                                   (or the program error's), "none" when passed,
                                                   "GRADER_ERROR" for status error
    grader_grading_duration_seconds{phase}         histogram; phase queued (waiting for a
                                                   worker), sandbox (the sandbox's own time),
                                                   judge (the rest of the grading in the worker)
    grader_queue_depth{priority}                   gradings waiting, by priority
    grader_workers{state}                          the engine's workers, busy or idle
    grader_sandbox_fallbacks_total                 gradings that ran on the process backend
                                                   because bwrap could not (fallback_reason)
    grader_build_info{version,schema_version,python}  always 1

Self-tests are not gradings: they are not counted.
"""

from __future__ import annotations

import platform

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .. import SCHEMA_VERSION, __version__

CONTENT_TYPE = CONTENT_TYPE_LATEST
PHASES = ("queued", "sandbox", "judge")
PRIORITIES = ("interactive", "regrade")
# The *_created series (a timestamp per label set) only double the exposition here.
disable_created_metrics()
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0)


def verdict_code(document: dict) -> str:
    """The one code a grading is counted under."""
    if document["status"] == "error":
        return "GRADER_ERROR"
    if document.get("program_error"):
        return document["program_error"]["code"]
    for test in document.get("tests", []):
        if test.get("code"):
            return test["code"]
    return "none"


class Metrics:
    def __init__(self, workers):
        """``workers``: a callable giving the engine's {state: count}, read at each scrape."""
        self.registry = CollectorRegistry()
        self.gradings = Counter("grader_gradings", "Finished gradings.", ["task", "status", "code"],
                                registry=self.registry)
        self.duration = Histogram("grader_grading_duration_seconds", "Time of each phase of a grading.", ["phase"],
                                  buckets=_BUCKETS, registry=self.registry)
        self.queue_depth = Gauge("grader_queue_depth", "Gradings waiting for a worker.", ["priority"],
                                 registry=self.registry)
        self.workers = Gauge("grader_workers", "The engine's workers by state.", ["state"], registry=self.registry)
        self.fallbacks = Counter("grader_sandbox_fallbacks", "Gradings that ran on the process backend because "
                                 "bwrap could not.", registry=self.registry)
        info = Gauge("grader_build_info", "The grader's version.", ["version", "schema_version", "python"],
                     registry=self.registry)
        info.labels(__version__, SCHEMA_VERSION, platform.python_version()).set(1)
        for priority in PRIORITIES:
            self.queue_depth.labels(priority).set(0)
        for phase in PHASES:
            self.duration.labels(phase)
        self._read_workers = workers

    def finished(self, document: dict, timings: dict) -> None:
        self.gradings.labels(document.get("task", ""), document["status"], verdict_code(document)).inc()
        for phase in PHASES:
            seconds = timings.get(f"{phase}_seconds")
            if seconds is not None:
                self.duration.labels(phase).observe(seconds)
        if (document.get("sandbox") or {}).get("fallback_reason"):
            self.fallbacks.inc()

    def exposition(self) -> bytes:
        for state, count in self._read_workers().items():
            self.workers.labels(state).set(count)
        return generate_latest(self.registry)
