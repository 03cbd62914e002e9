"""Batch grading: many submissions of one task, on the same cases, in warm sandboxes.

Owns what makes regrading a whole class fast and safe to interrupt:

* the cases, the reference's outputs and the misconception variants' outputs are computed
  once, for the batch's seed: every student is graded on the same inputs, and any one grading
  can be replayed alone with ``grader grade --seed``;
* each submission runs in a fresh child of a warm worker (``pool``); where warm workers cannot
  run (the process backend) each gets a sandbox of its own, as in ``grader grade``;
* the verdict of each submission is decided exactly as in a single grading
  (``judge.conclude``, ``feedback.build``); only the shrunk case is left out of the
  feedback (shrinking starts fresh sandboxes per failing submission: ``grader grade`` of one
  submission with the batch's seed gives it);
* one JSON line per submission is appended to the results file as soon as it is graded and
  flushed: a batch that is interrupted, even killed, resumes where it stopped: a file with a
  line is not graded again, a file without one is (a line with status "error", the grader's
  own failure, is retried).
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import threading
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..feedback import document as feedback
from ..grading import failures, judge, misconceptions, pipeline, reference
from ..grading.model import Grading
from ..grading.submission import Submission, decode, prepare
from ..sandbox import launch as sandbox
from ..sandbox import pool, protocol
from ..sandbox.errors import WorkerLost
from ..sandbox.limits import Limits
from ..sandbox.streams import Outcome
from ..spec import cases as cases_mod
from ..spec.config import Settings
from ..spec.taskspec import Task
from .inputs import Entry


class ResultsError(Exception):
    """The results file cannot be continued (another task or seed, or an unreadable line)."""


@dataclass
class Plan:
    """Everything the submissions of one batch share."""

    task: Task
    seed: int
    cases: list[cases_mod.Case]
    order: list[cases_mod.Case]
    expected: dict
    variants: dict
    limits: Limits
    tolerance: dict
    backend: str
    fallback_reason: str | None
    uid_range: dict
    outside_blanks: str = "warn"


def make_plan(task: Task, settings: Settings, seed: int) -> Plan:
    limits = Limits.from_dict(task.limits(settings.values["limits"]))
    backend, fallback_reason = sandbox.choose_backend(settings.sandbox)
    cases = cases_mod.generate(task, seed, cases_mod.random_count(task, settings.values["cases"]))
    expected = reference.expected_outputs(task, cases)
    variants = misconceptions.variant_outputs(task, cases) if task.spec.get("misconceptions") else {}
    return Plan(
        task=task,
        seed=seed,
        cases=cases,
        order=pipeline.run_order(cases),
        expected=expected,
        variants=variants,
        limits=limits,
        tolerance=dict(settings.values["tolerance"]),
        outside_blanks=task.outside_blanks(settings.values["outside_blanks"]),
        backend=backend,
        fallback_reason=fallback_reason,
        uid_range=settings.values["sandbox_uids"],
    )


class Sandboxes:
    """Runs requests: in warm workers when the backend allows, else one sandbox per request."""

    def __init__(self, plan: Plan, jobs: int, warm: bool):
        self.plan = plan
        self.header, self.arrays = protocol.request_parts(plan.task, plan.order, plan.limits)
        self.pool = None
        self._running: set[sandbox.Launch] = set()  # one sandbox per submission: those running now
        self._lock = threading.Lock()
        self._closed = False
        self.warm_problem = None if warm else "not asked for"
        if warm and plan.backend != "bwrap":
            self.warm_problem = f"warm workers need bwrap, and the {plan.backend} backend runs here"
        elif warm:
            try:
                self.pool = pool.Pool(
                    jobs, plan.limits, plan.uid_range, protocol.encode_request(self.header, self.arrays, {})
                )
            except WorkerLost as exc:
                self.warm_problem = str(exc)

    @property
    def kind(self) -> str:
        return "warm workers" if self.pool else f"one {self.plan.backend} sandbox per submission"

    def run(self, submission: Submission) -> Outcome:
        module_files = {self.plan.task.module_file: submission.source}
        if self.pool:
            return self.pool.run(module_files)
        launch = sandbox.start(self.plan.limits, self.plan.backend, self.plan.uid_range)
        with self._lock:
            closed = self._closed
            self._running.add(launch)
        try:
            with sandbox.aborted_on_failure(launch):
                if closed:  # closed while this one started
                    raise WorkerLost("the batch was stopped")
                request = protocol.encode_request(self.header, self.arrays, module_files)
            return sandbox.finish(launch, request)
        finally:
            with self._lock:
                self._running.discard(launch)

    def close(self) -> None:
        """Stop every sandbox at once, those running too (Ctrl-C): their gradings end with the
        grader's error, which is not written, and nothing new starts."""
        with self._lock:
            self._closed = True
            running = list(self._running)
        for launch in running:
            sandbox.interrupt(launch)
        if self.pool:
            self.pool.close()


def grade(plan: Plan, sandboxes: Sandboxes, data: bytes, lang: str) -> dict:
    """One submission's feedback document, decided exactly as ``grader grade`` decides it."""
    task = plan.task
    started = time.monotonic()
    submission = prepare(data, task.template_source(), task.entry_name, task.module_file, plan.outside_blanks)
    grading = Grading(task=task, seed=plan.seed, submission=submission, cases=plan.cases, expected=plan.expected,
                      backend=plan.backend, fallback_reason=plan.fallback_reason, limits=plan.limits,
                      tolerance=plan.tolerance)
    if submission.problem is not None:
        judge.mark_not_gradable(grading)
    else:
        judge.conclude(grading, sandboxes.run(submission), plan.order, plan.variants)
    grading.elapsed = time.monotonic() - started  # this submission's grading (the plan is shared)
    return feedback.build(grading, lang)


def grade_entry(plan: Plan, sandboxes: Sandboxes, entry: Entry, lang: str) -> tuple[dict, dict]:
    """(results line, feedback document) of one submission; a grader failure becomes an
    "error" line (retried on resume), never an exception."""
    try:
        data = entry.read()
    except Exception as exc:  # a corrupt archive member, a file gone: this line only
        document = feedback.error_document(lang, f"the submission could not be read: {exc}", plan.task.id, plan.seed)
        return results_line(entry.name, None, document), document
    digest = hashlib.sha256(data).hexdigest()
    try:
        document = grade(plan, sandboxes, data, lang)
    except Exception as exc:  # the grader's own failure on this submission must not stop the class
        document = feedback.error_document(lang, failures.reason(exc, plan.task.id), plan.task.id, plan.seed,
                                           task_broken=failures.task_broken(exc))
    return results_line(entry.name, digest, document, normalised_digest(data)), document


def normalised_digest(data: bytes) -> str | None:
    """SHA-256 of the submission's code with whitespace and comments set aside, so that two
    students' copies of one file match however each reformatted or commented it (the class
    summary's groups): of the syntax tree (``ast.dump``: formatting, comments, redundant
    parentheses and quote styles are gone, and docstrings, comments too, whose lines change with
    the indentation) when the code compiles, else of its tokens without
    comments and blank lines, else of its lines stripped. Parsing runs nothing. None when the
    bytes are no text (or too large: there is no code to compare)."""
    text = decode(data)[0]
    if text is None:
        return None
    try:
        normal = "ast\n" + ast.dump(_without_docstrings(ast.parse(text)))
    except Exception:  # noqa: BLE001 - SyntaxError, or nested too deeply for the parser
        kept: list[str] = []
        try:
            for token in tokenize.generate_tokens(io.StringIO(text).readline):
                if token.type not in (tokenize.COMMENT, tokenize.NL):
                    kept.append(token.string if token.type != tokenize.NEWLINE else "\n")
            normal = "tokens\n" + " ".join(kept)
        except tokenize.TokenError:  # the end came inside a bracket or string: the tokens up to it
            normal = "tokens\n" + " ".join(kept)
        except Exception:  # noqa: BLE001 - an IndentationError in the middle
            normal = "lines\n" + "\n".join(" ".join(line.split()) for line in text.split("\n") if line.strip())
    return hashlib.sha256(normal.encode("utf-8", "surrogatepass")).hexdigest()


def broken_task_entry(task_id: str, seed: int, entry: Entry, lang: str, reason: str) -> tuple[dict, dict]:
    """(results line, feedback document) of a submission of a broken task: graded by no one."""
    document = feedback.error_document(lang, reason, task_id, seed, task_broken=True)
    try:
        digest = hashlib.sha256(entry.read()).hexdigest()
    except Exception:  # as in grade_entry: this line only
        digest = None
    return results_line(entry.name, digest, document), document


def _without_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return tree


def results_line(name: str, digest: str | None, document: dict, normalised: str | None = None) -> dict:
    tests = document.get("tests", [])
    line = {
        "file": name,
        "sha256": digest,
        "normalised_sha256": normalised,
        "task": document["task"],
        "seed": document["seed"],
        "status": document["status"],
        "gradable": document["gradable"],
        "score": document["score"],
        "max_score": document["max_score"],
        "passed_tests": sum(1 for t in tests if t["status"] == "passed"),
        "tests": len(tests),
        "codes": sorted({t["code"] for t in tests if t.get("code")}),
        "diagnoses": [d["id"] for d in document.get("diagnoses", [])],
        "test_statuses": {t["name"]: t["status"] for t in tests},
    }
    # Which grader and which version of the task graded it, and what the run used: the
    # feedback's own fields (absent where the grader failed before it knew them).
    for key in ("grader_version", "task_hash"):
        if key in document:
            line[key] = document[key]
    if "resources" in document:
        line["resources"] = {"cpu_seconds": document["resources"]["cpu_seconds"],
                             "peak_memory_mb": document["resources"]["peak_memory_mb"],
                             "sandbox_seconds": document["timing"]["sandbox_seconds"]}
    if document["status"] == "error":
        line["error"] = document.get("error", "")
    return line


class ResultsFile:
    """The JSON-lines results of a batch, appended to and flushed line by line."""

    def __init__(self, path: Path, task_id: str, task_hash: str | None = None):
        self.path = path
        self.lines: dict[str, dict] = {}  # file -> its last line
        self.seed: int | None = None
        self._read(task_id, task_hash)
        self._stream = None

    def _read(self, task_id: str, task_hash: str | None) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) != len(data):
            # The last line was cut by an interruption: it is dropped, and that file graded again.
            with self.path.open("r+b") as handle:
                handle.truncate(len(complete))
        for number, raw in enumerate(complete.splitlines(), 1):
            try:
                line = json.loads(raw)
                name, task, seed = line["file"], line["task"], line["seed"]
            except (ValueError, KeyError, TypeError):
                raise ResultsError(f"{self.path}:{number}: not a results line of `grader batch`; "
                                   "give another --out or remove the file") from None
            if task != task_id:
                raise ResultsError(f"{self.path} holds results of task {task!r}, not {task_id!r}; give another --out")
            # A batch continued after its task changed would mix two versions of the cases.
            graded_by = line.get("task_hash")
            if task_hash and isinstance(graded_by, str) and graded_by != task_hash:
                raise ResultsError(f"{self.path} holds results of another version of task {task_id!r} "
                                   f"({graded_by}, now {task_hash}); give another --out")
            if isinstance(seed, int):
                if self.seed is not None and seed != self.seed:
                    raise ResultsError(f"{self.path} mixes the seeds {self.seed} and {seed}")
                self.seed = seed
            self.lines[name] = line

    def done(self, name: str) -> bool:
        line = self.lines.get(name)
        return line is not None and line["status"] != "error"

    def append(self, line: dict) -> None:
        if self._stream is None:
            self._stream = self.path.open("a", encoding="utf-8")
        self._stream.write(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n")
        self._stream.flush()
        self.lines[line["file"]] = line

    def close(self) -> None:
        if self._stream is not None:
            self._stream.flush()
            os.fsync(self._stream.fileno())
            self._stream.close()
            self._stream = None


def feedback_writer(folder: Path | None) -> Callable[[str, dict], None]:
    """Writes each submission's full feedback to FOLDER/<file>.json when a folder is given."""

    def write(name: str, document: dict) -> None:
        if folder is None:
            return
        target = folder / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n", encoding="utf-8")

    return write
