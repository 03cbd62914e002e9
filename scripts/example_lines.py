"""Prints one line per graded example submission and checks each verdict against the file's name.

    python scripts/example_lines.py EXAMPLES_DIR FEEDBACK_DIR

EXAMPLES_DIR holds <task>/*.py (the checkout's examples/, whose tasks/ declare the
misconceptions); FEEDBACK_DIR/<task>/ holds the feedback JSON of each (`grader batch
--feedback-dir`, named <file>.json). What a name promises:

* ``correct*.py`` passes;
* ``wrong_<id>.py``, where <id> is a misconception the task declares, fails and is diagnosed as
  exactly that misconception;
* any other ``wrong_*.py`` (a mistake no misconception describes) fails and is diagnosed as
  nothing.

Each line: task, file, status, score, submission mode, the failing codes, the misconceptions
named; a line whose verdict breaks its name's promise ends with ``<- expected ...``, and so does
a submission with no feedback. Exit status 1 when any line does, else 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

CHECKOUT = Path(__file__).resolve().parents[1]


def declared_misconceptions(task: str) -> set[str]:
    spec = yaml.safe_load((CHECKOUT / "tasks" / f"{task}.yaml").read_text(encoding="utf-8"))
    return {m["id"] for m in spec.get("misconceptions", [])}


def expectation(file_name: str, declared: set[str]) -> tuple[str, list[str]]:
    """(status, diagnoses) that an example named ``file_name`` must get."""
    stem = file_name.removesuffix(".py")
    if stem.startswith("correct"):
        return "passed", []
    if stem.startswith("wrong_"):
        named = stem.removeprefix("wrong_")
        return "failed", [named] if named in declared else []
    raise ValueError(f"{file_name}: an example is named correct*.py or wrong_*.py")


def describe(document: dict) -> str:
    """Status, score, submission mode and failing codes of one feedback, in columns."""
    codes = sorted({test["code"] for test in document["tests"] if test["code"]})
    mode = document.get("submission", {}).get("mode", "-")
    score = f"{document['score']:g}/{document['max_score']:g}"
    return f"{document['status']:7} {score:>7} {mode:5} {' '.join(codes)}"


def line(task: str, example: Path, feedback_dir: Path, declared: set[str]) -> tuple[str, bool]:
    """The example's line, and whether its verdict keeps its name's promise."""
    status, diagnoses = expectation(example.name, declared)
    promise = status + (f", named {diagnoses[0]}" if diagnoses else "")
    head = f"{task:17} {example.name:48}"
    feedback = feedback_dir / task / f"{example.name}.json"
    if not feedback.is_file():
        return f"{head} no feedback  <- expected {promise}", False
    document = json.loads(feedback.read_text(encoding="utf-8"))
    got = [d["id"] for d in document.get("diagnoses", [])]
    text = f"{head} {describe(document)}".rstrip() + (f"  named {' '.join(got)}" if got else "")
    if document["status"] == status and got == diagnoses:
        return text, True
    return f"{text}  <- expected {promise}", False


def main(examples_dir: Path, feedback_dir: Path) -> int:
    kept = True
    for task_dir in sorted(p for p in examples_dir.iterdir() if p.is_dir()):
        declared = declared_misconceptions(task_dir.name)
        for example in sorted(task_dir.glob("*.py")):
            text, ok = line(task_dir.name, example, feedback_dir, declared)
            print(text)
            kept &= ok
    return 0 if kept else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python scripts/example_lines.py EXAMPLES_DIR FEEDBACK_DIR")
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
