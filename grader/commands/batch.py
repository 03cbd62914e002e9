"""``grader batch``: grade a whole class (a folder or .zip), resumably, and summarise it.

Writes one JSON line per submission to --out (appending; a rerun continues where an interrupted one
stopped), shows a progress bar on stderr, and ends with the class summary in Markdown (printed, and
written next to the results) and in HTML with charts (written next to them). Exit 0 when every
submission got a verdict, 3 when some got a grader error (rerun to retry them), 2 on a usage error,
130 when interrupted (rerun to continue).
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
from pathlib import Path

from .. import cli
from ..feedback.messages import LANGUAGES
from ..spec import taskspec


def register(sub, parents) -> None:
    parser = sub.add_parser(
        "batch", parents=parents, help="grade every submission in a folder or .zip; one JSON line each"
    )
    parser.add_argument("--task", required=True, help="task id (see `grader list`)")
    parser.add_argument("source", metavar="DIR_OR_ZIP", help="a folder or .zip holding the .py submissions")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: the number of CPUs)")
    parser.add_argument(
        "--out", default="results.jsonl", help="results, one JSON line per submission (default: results.jsonl)"
    )
    parser.add_argument("--summary", help="where the Markdown class summary goes (default: --out with the suffix .md)")
    parser.add_argument(
        "--summary-html", help="where the HTML class summary, with charts, goes (default: --out with the suffix .html)"
    )
    parser.add_argument("--feedback-dir", help="also write each submission's full feedback JSON here, as <file>.json")
    parser.add_argument(
        "--seed", type=int, help="the batch's seed (default: a new one, or the one of the results file being continued)"
    )
    parser.add_argument("--lang", choices=LANGUAGES, help="feedback language (default from grader.yaml)")
    parser.add_argument(
        "--sandbox-per-submission",
        action="store_true",
        help="start a fresh sandbox for every submission instead of forking it from a warm worker (slower)",
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    # Imported here: the parser imports every command module to build its help (all but grade's
    # own for `grader grade`); only a batch pays for numpy, zipfile and the batch modules.
    from ..batch import inputs as batchinput
    from ..batch import run as batch
    from ..batch import summary as classsummary
    from ..batch import summary_html as classsummary_html
    from ..spec.cases import new_seed

    if args.jobs < 1:
        raise cli.UsageError("grader batch: --jobs must be at least 1")
    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise cli.UsageError("grader batch: --seed must be between 0 and 2**63-1")
    settings = cli.load_settings(args)
    task, broken = None, None
    try:
        task = cli.load_task("batch", args.task, settings)
    except taskspec.TaskError as exc:
        broken = exc
    try:
        inputs = batchinput.collect(args.source)
        # The folders of --out and the summaries are made when missing, as --feedback-dir's is: an
        # operator names where a class's results go (results/cls1/results.jsonl) and expects them there.
        for path in [args.out] + [p for p in (args.summary, args.summary_html) if p]:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        if args.feedback_dir:
            Path(args.feedback_dir).mkdir(parents=True, exist_ok=True)
        results = batch.ResultsFile(Path(args.out), args.task, task.content_hash if task else None)
    except (batchinput.InputError, batch.ResultsError) as exc:
        raise cli.UsageError(f"grader batch: {exc}") from None
    except OSError as exc:
        raise cli.UsageError(f"grader batch: cannot use {exc.filename}: {exc.strerror}") from None
    if args.seed is not None and results.seed is not None and args.seed != results.seed:
        raise cli.UsageError(f"grader batch: {args.out} continues a batch with seed {results.seed}, not {args.seed}; "
                             "give another --out to start a new batch")
    seed = results.seed if results.seed is not None else (args.seed if args.seed is not None else new_seed())
    lang = args.lang or settings.language
    for note in inputs.notes():
        print(f"grader batch: {note}", file=sys.stderr)
    todo = [entry for entry in inputs.entries if not results.done(entry.name)]
    try:
        if broken is None:
            try:
                status = _grade_all(args, settings, task, seed, lang, todo, results, len(inputs.entries))
            except Exception as exc:  # the reference, run to make the batch's plan, may be broken
                from ..grading import failures

                if not failures.task_broken(exc):
                    raise
                broken = exc
        if broken is not None:
            return _record_broken_task(args, broken, seed, lang, todo, results)
    finally:
        results.close()
    names = {entry.name for entry in inputs.entries}
    lines = [line for name, line in results.lines.items() if name in names]
    summary = classsummary.render(task, lines, lang)
    summary_path = Path(args.summary) if args.summary else Path(args.out).with_suffix(".md")
    summary_path.write_text(summary + "\n", encoding="utf-8")
    html_path = Path(args.summary_html) if args.summary_html else Path(args.out).with_suffix(".html")
    html_path.write_text(classsummary_html.render(task, lines, lang), encoding="utf-8")
    sys.stdout.write(summary + "\n")
    print(f"grader batch: results in {args.out}, summary in {summary_path} and {html_path}", file=sys.stderr)
    return status


def _record_broken_task(args, exc, seed, lang, todo, results) -> int:
    """A broken task grades no one: each submission gets the grader's "error" line (retried by a
    rerun once the task is fixed), whose summary tells the student it is not their fault; the
    paths are in its ``error`` and on stderr."""
    from ..batch import run as batch  # (as in run)
    from ..grading import failures

    reason = failures.reason(exc, args.task)
    print(f"grader batch: {reason}", file=sys.stderr)
    write_feedback = batch.feedback_writer(Path(args.feedback_dir) if args.feedback_dir else None)
    for entry in todo:
        line, document = batch.broken_task_entry(args.task, seed, entry, lang, reason)
        results.append(line)
        write_feedback(line["file"], document)
    print(f"grader batch: {len(todo)} submissions got a grader error line in {args.out} and no class summary was "
          "written; fix the task (`grader validate " + args.task + "`), then run the same command again",
          file=sys.stderr)
    return cli.EXIT_INTERNAL


def _grade_all(args, settings, task, seed, lang, todo, results, total) -> int:
    from ..batch import run as batch  # (as in run)
    from ..sandbox.errors import SandboxError

    already = total - len(todo)
    if not todo:
        print(f"grader batch: all {total} submissions are already graded in {args.out}", file=sys.stderr)
        return cli.EXIT_OK
    try:
        plan = batch.make_plan(task, settings, seed)
        sandboxes = batch.Sandboxes(plan, min(args.jobs, len(todo)), warm=not args.sandbox_per_submission)
    except SandboxError as exc:
        print(f"grader batch: no sandbox can run here: {exc}", file=sys.stderr)
        return cli.EXIT_INTERNAL
    if sandboxes.warm_problem and not args.sandbox_per_submission:
        print(f"grader batch: no warm workers ({sandboxes.warm_problem}); "
              "every submission gets a sandbox of its own, which is slower", file=sys.stderr)
    print(f"grader batch: grading {len(todo)} of {total} submissions of {task.id} (seed {seed}; "
          f"{already} already in {args.out}) with {sandboxes.kind}, {args.jobs} at once", file=sys.stderr)
    write_feedback = batch.feedback_writer(Path(args.feedback_dir) if args.feedback_dir else None)
    errors = 0
    from tqdm import tqdm  # imported here: only a batch draws a progress bar

    # In a terminal a live bar; in a log, a line every ten seconds at most.
    progress = tqdm(total=total, initial=already, unit="sub", file=sys.stderr, dynamic_ncols=True,
                    mininterval=0.1 if sys.stderr.isatty() else 10)
    # With warm workers, two gradings per worker: one runs while the other is judged here.
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs * 2 if sandboxes.pool else args.jobs)
    try:
        futures = {executor.submit(batch.grade_entry, plan, sandboxes, entry, lang): entry for entry in todo}
        for future in concurrent.futures.as_completed(futures):
            line, document = future.result()
            results.append(line)
            write_feedback(line["file"], document)
            errors += line["status"] == "error"
            progress.update(1)
    except KeyboardInterrupt:
        print(f"\ngrader batch: interrupted; {len(results.lines)} results are in {args.out}; "
              "run the same command again to continue", file=sys.stderr)
        raise
    finally:
        # Gradings still running when interrupted end at once (their lines are not written).
        executor.shutdown(wait=False, cancel_futures=True)
        sandboxes.close()
        executor.shutdown(wait=True)
        progress.close()
    if errors:
        print(f"grader batch: {errors} submissions got a grader error; run the same command again to retry them",
              file=sys.stderr)
        return cli.EXIT_INTERNAL
    return cli.EXIT_OK
