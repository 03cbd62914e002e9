"""The class summary of a batch, as Markdown: pass rate, score histogram, frequent mistakes.

Owns the report an instructor reads after a regrade. It is computed from the results lines
alone (the last line of each file), so it describes the whole results file, including lines
written by an earlier, interrupted run. The histogram is a text bar chart, readable both in a
terminal and in rendered Markdown.
"""

from __future__ import annotations

from collections import Counter

BINS = 10
BAR_WIDTH = 30


def render(task, lines: list[dict], lang: str) -> str:
    total = len(lines)
    by_status = Counter(line["status"] for line in lines)
    not_gradable = sum(1 for line in lines if line["status"] == "failed" and not line["gradable"])
    scored = [line for line in lines if line["status"] != "error"]
    max_score = max((line["max_score"] for line in scored), default=0)
    out = [f"# Class summary: {task.id} ({task.spec['title'][lang]})", ""]
    seeds = sorted({line["seed"] for line in lines if isinstance(line.get("seed"), int)})
    if seeds:
        out += [f"Seed {', '.join(map(str, seeds))}: every submission was graded on the same cases "
                f"(replay one with `grader grade --task {task.id} --seed {seeds[0]} FILE`).", ""]
    out += ["| | submissions | share |", "|---|---:|---:|",
            _row("submissions", total, total),
            _row("passed (every test)", by_status["passed"], total),
            _row("failed", by_status["failed"], total),
            _row("of which not gradable (did not compile, unreadable...)", not_gradable, total),
            _row("grader errors (retried on the next run)", by_status["error"], total), ""]
    if scored:
        scores = sorted(line["score"] for line in scored)
        mean = sum(scores) / len(scores)
        median = scores[len(scores) // 2] if len(scores) % 2 else (scores[len(scores) // 2 - 1] + scores[len(scores) // 2]) / 2
        out += [f"Mean score {mean:.2f} / {max_score:g}, median {median:g}.", "",
                "## Score histogram", "", "```", *_histogram(scores, max_score), "```", ""]
    codes = Counter(code for line in scored for code in line["codes"])
    if codes:
        out += ["## Most frequent error codes", "", "| code | submissions | share |", "|---|---:|---:|"]
        out += [_row(f"`{code}`", count, len(scored)) for code, count in codes.most_common(10)]
        out.append("")
    diagnoses = Counter(identifier for line in scored for identifier in line["diagnoses"])
    if diagnoses:
        messages = {m["id"]: m["message"][lang] for m in task.spec.get("misconceptions", [])}
        out += ["## Most frequent misconceptions", "", "| misconception | submissions | share | what it is |",
                "|---|---:|---:|---|"]
        for identifier, count in diagnoses.most_common(10):
            what = " ".join(messages.get(identifier, "").split()).replace("|", "\\|")
            out.append(f"{_row(f'`{identifier}`', count, len(scored))} {what} |")
        out.append("")
    return "\n".join(out)


def _row(label: str, count: int, total: int) -> str:
    share = f"{100 * count / total:.1f} %" if total else "-"
    return f"| {label} | {count} | {share} |"


def _histogram(scores: list[float], max_score: float) -> list[str]:
    """One bar per score band of width max_score / BINS (the last band includes the full score)."""
    if max_score <= 0:
        return [f"all {len(scores)} scores are 0"]
    width = max_score / BINS
    counts = [0] * BINS
    for score in scores:
        counts[min(int(score / width), BINS - 1)] += 1
    tallest = max(counts)
    rows = []
    for band, count in enumerate(counts):
        low, high = band * width, (band + 1) * width
        label = f"{low:5.1f} - {high:5.1f}{']' if band == BINS - 1 else ')'}"
        bar = "█" * round(BAR_WIDTH * count / tallest) if count else ""
        rows.append(f"{label} {bar} {count}")
    return rows
