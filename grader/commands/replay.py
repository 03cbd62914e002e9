"""``grader replay FEEDBACK.json CASE --submission FILE``: one visible case again, its arrays written as .npz.

Rebuilds the case from the task spec and the feedback's seed (a shrunk case from its
params, index and the visible case it was shrunk from), refuses any case the task spec
makes hidden whatever the feedback file says (the file is in the student's hands), runs
the submission on it in the sandbox like ``grader grade`` does, and writes the inputs, the
expected outputs and the student's outputs to one .npz file for the student to inspect.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from .. import cli
from ..feedback import document as feedback
from ..feedback.messages import LANGUAGES, text
from ..grading import pipeline, reference, shrink
from ..grading.submission import prepare
from ..sandbox import launch as sandbox
from ..sandbox.errors import SandboxError
from ..sandbox.limits import Limits
from ..spec import cases, yamldoc
from .grade import load_context, read_submission


class _Refused(Exception):
    """The case cannot be replayed; the message is for the student."""


def register(sub, parents) -> None:
    parser = sub.add_parser(
        "replay", parents=parents, help="re-run one visible case of a feedback and write its arrays as .npz"
    )
    parser.add_argument("feedback", help="the JSON printed by `grader grade`")
    parser.add_argument("case", help="the test's name in the feedback (or `shrunk` for the shrunk case)")
    parser.add_argument("--submission", required=True, help="the student's .py file, or - for stdin")
    parser.add_argument("--out", default=".", help="folder to write <task>_<case>_<seed>.npz into (default: .)")
    parser.add_argument("--lang", choices=LANGUAGES, help="message language (default: the feedback's)")
    parser.set_defaults(run=run)


def _load_feedback(path: str) -> dict:
    file = Path(path)
    if not file.is_file():
        raise cli.UsageError(f"grader replay: no such file: {path}")
    try:
        document = json.loads(file.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Refused(("replay.bad_feedback", {"path": path, "reason": f"not JSON ({exc})"})) from None
    errors = sorted(yamldoc.validator("feedback.schema.json").iter_errors(document), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(top)"
        raise _Refused(("replay.bad_feedback", {"path": path, "reason": f"{where}: {errors[0].message[:200]}"}))
    if document["status"] == "error" or document["seed"] is None:
        raise _Refused(("replay.bad_feedback", {"path": path, "reason": "the grading it reports did not run"}))
    return document


def _graded_case(task, document: dict, name: str) -> cases.Case:
    """A case of the graded run, rebuilt from the spec and the seed; only when the spec makes it visible."""
    entries = {t["name"]: t for t in document["tests"]}
    if name not in entries:
        visible = ", ".join(t["name"] for t in document["tests"] if t["visibility"] == "visible")
        raise _Refused(("replay.unknown_case", {"case": name, "cases": visible}))
    random_count = sum(1 for t in document["tests"] if t.get("kind") == "random")
    case = next((c for c in cases.generate(task, document["seed"], random_count) if c.name == name), None)
    if case is None:
        raise _Refused(("replay.mismatch", {"task": task.id, "case": name}))
    if not case.visible or entries[name]["visibility"] != "visible":
        raise _Refused(("replay.hidden", {"case": name}))
    if entries[name].get("params") != case.params:
        raise _Refused(("replay.mismatch", {"task": task.id, "case": name}))
    return case


def _shrunk_case(task, document: dict) -> cases.Case:
    """The shrunk case, rebuilt from its params, index and source after checking them against the spec."""
    entry = document["shrunk"]
    params, index = entry.get("params") or {}, entry.get("index")
    spec_params = task.spec["params"]
    chosen = {name: params.get(name) for name in spec_params}
    in_space = all(
        isinstance(v, int) and (v in space["choices"] if "choices" in space else space["min"] <= v <= space["max"])
        for v, space in zip(chosen.values(), spec_params.values())
    )
    env = cases.resolve_params(task, chosen) if in_space else None
    if env is None or env != params or not isinstance(index, int) or index < shrink.SHRINK_INDEX_BASE:
        raise _Refused(("replay.mismatch", {"task": task.id, "case": entry["name"]}))
    # Drawn as the visible case the search started from draws its inputs (a fixed case may draw integers).
    source = next((c for c in task.spec["cases"]["fixed"] if c["name"] == entry.get("from") and c["visible"]), {})
    return shrink.candidate_case(task, document["seed"], index, env, source.get("inputs"))


def _arrays(case: cases.Case, expected: dict, got: dict) -> dict[str, np.ndarray]:
    arrays = {f"input_{name}": array for name, array in case.inputs.items()}
    arrays.update({f"expected_{name}": array for name, array in expected.items()})
    arrays.update({f"got_{name}": array for name, array in got.items()})
    return arrays


def run(args) -> int:
    lang = args.lang or "en"
    try:
        document = _load_feedback(args.feedback)
        lang = args.lang or document["lang"]
        args.task = document["task"]
        settings, task = load_context(args)
        shrunk = document.get("shrunk")
        case = (
            _shrunk_case(task, document)
            if shrunk and args.case == shrunk["name"]
            else _graded_case(task, document, args.case)
        )
    except _Refused as exc:
        key, values = exc.args[0]
        print(text(lang, key, **values), file=sys.stderr)
        return cli.EXIT_USAGE
    submission = prepare(read_submission(args.submission), task.template_source(), task.entry_name, task.module_file,
                         task.outside_blanks(settings.values["outside_blanks"]))
    try:
        if submission.problem is not None:
            expected, got = reference.expected_outputs(task, [case])[case.index], {}
            status, message = submission.problem["code"], ""
        else:
            limits = Limits.from_dict(task.limits(settings.values["limits"]))
            backend, _ = sandbox.choose_backend(settings.sandbox)
            grading = pipeline.execute(task, submission, [case], settings, document["seed"], backend, limits,
                                       dict(settings.values["tolerance"]))
            verdict = grading.verdicts[0]
            expected, got = grading.expected[case.index], verdict.got
            status, message = verdict.code or "passed", feedback.case_message(lang, grading, verdict)
    except (SandboxError, reference.ReferenceError_) as exc:
        print(f"grader replay: {exc}", file=sys.stderr)
        return cli.EXIT_INTERNAL
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{task.id}_{case.name}_{document['seed']}.npz"
    np.savez(path, **_arrays(case, expected, got))
    if message:
        print(message)
    print(text(lang, "replay.wrote", case=case.name, status=status, path=str(path)))
    return cli.EXIT_OK
