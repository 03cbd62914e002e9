"""`grader serve` under load: latency against its floor, throughput, overload.

Starts one `grader serve` (warm workers, loopback, no token) with this checkout's grader.yaml
and measures, in one run:

1. Latency: one correct conv_backward grading over HTTP (a keep-alive httpx client on this
   machine, one request at a time, a fresh seed drawn by the service each time), interleaved
   with the floor of bench/latency.py (a bare `python -c` importing numpy and running the same
   student code on inputs of the same sizes) and with `grader grade`: p50/p95/p99 of each and
   the ratios to the floor's p50.
2. Throughput: distinct correct submissions (each a correct file with a comment of its own)
   at concurrency 8, fresh cases per grading, for a fixed time: gradings per second.
3. Overload: 4x the measured rate offered for 30 s by an open-loop client: every request must
   be answered (200 with a passed grading, or 503 with Retry-After), none lost, none with a
   wrong verdict; the p99 of the accepted ones is printed.

    .venv/bin/python bench/service.py [--runs 40] [--workers 2] [--seconds 20] [--overload-seconds 30]

Benchmarks are never tests: nothing here asserts a time; it prints what it measured and the
machine's load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import latency  # noqa: E402  (the floor program, its inputs and its timing: one copy)

REPO = latency.REPO
TASK = "conv_backward"
STARTUP_SECONDS = 120


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` of 1)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def describe(samples: list[float]) -> str:
    return (f"p50 {percentile(samples, 0.5) * 1000:7.1f} ms  p95 {percentile(samples, 0.95) * 1000:7.1f} ms  "
            f"p99 {percentile(samples, 0.99) * 1000:7.1f} ms  (n={len(samples)})")


class Service:
    """One `grader serve` on a free loopback port."""

    def __init__(self, grader: Path, workers: int, queue_limit: int, folder: Path):
        config = folder / "grader.yaml"
        base = (REPO / "grader.yaml").read_text(encoding="utf-8")
        base = re.sub(r"(?m)^tasks_root:.*$", f"tasks_root: {REPO}", base)
        # No quota: the overload is the queue's to answer (503), not the token's (429).
        config.write_text(base + f"\nservice:\n  tasks: [{TASK}]\n  queue_limit: {queue_limit}\n  quota_per_minute: 0\n"
                          f"  database: {folder / 'service.sqlite3'}\n", encoding="utf-8")
        self.log = folder / "serve.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([str(grader), "--config", str(config), "serve", "--port", "0",
                                             "--workers", str(workers)], stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env={**os.environ, "GRADER_TOKENS": ""})
        deadline = time.monotonic() + STARTUP_SECONDS
        self.url = ""
        while not self.url:
            found = re.search(r"listening on (http://\S+?)/\s", self.log.read_text(errors="replace"))
            if found:
                self.url = found.group(1)
            elif self.process.poll() is not None or time.monotonic() > deadline:
                sys.exit("bench: grader serve did not start:\n" + self.log.read_text(errors="replace")[-3000:])
            else:
                time.sleep(0.05)
        while httpx.get(self.url + "/readyz", timeout=10).status_code != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                sys.exit("bench: grader serve did not get ready:\n" + self.log.read_text(errors="replace")[-3000:])
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def tree_cpu_seconds(root: int) -> dict[str, float]:
    """CPU seconds of ``root`` and every live process below it, with what each has waited for
    (a warm worker's children are counted in their worker): "service" (``root`` itself),
    "sandboxes" (everything below it: bwrap, the warm workers and the children they waited
    for) and "total", the whole service's cost."""
    tick = os.sysconf("SC_CLK_TCK")
    parents, times = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            times[int(entry)] = sum(int(value) for value in fields[11:15]) / tick
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0.0)
        stack += [child for child, parent in parents.items() if parent == pid]
    return {"service": times.get(root, 0.0), "sandboxes": total - times.get(root, 0.0), "total": total}


def body(source: str) -> dict:
    return {"task": TASK, "source": source, "lang": "en"}


def check_passed(response: httpx.Response) -> dict:
    """The grading's feedback must say passed; returns the grading."""
    if response.status_code != 200:
        sys.exit(f"bench: the service answered {response.status_code}: {response.text[:500]}")
    grading = response.json()
    if grading["state"] != "done" or grading["feedback"]["status"] != "passed":
        sys.exit(f"bench: a correct submission did not pass: {grading.get('feedback', {}).get('summary')}")
    return grading


def latency_round(service: Service, source: str, submission: Path, runs: int) -> dict[str, list[float]]:
    settings = latency.config.load()
    task = latency.taskspec.load(TASK, settings.root)
    grader = Path(sys.executable).with_name("grader")
    samples: dict[str, list[float]] = {"floor": [], "service": [], "grade": []}
    with tempfile.TemporaryDirectory(prefix="bench-service-floor-") as work_dir, \
            httpx.Client(base_url=service.url, timeout=120) as client:
        work = Path(work_dir)
        latency.prepare_floor(task, settings, submission, work)
        floor_command = [sys.executable, "-c", latency.FLOOR_PROGRAM, str(work)]
        grade_command = [str(grader), "grade", "--task", TASK, str(submission)]

        def floor_ok(done):
            if done.returncode != 0:
                sys.exit("bench: the floor program failed:\n" + done.stderr.decode(errors="replace"))

        def grade_ok(done):
            if b'"status": "passed"' not in done.stdout:
                sys.exit("bench: grader grade did not pass:\n" + done.stdout.decode(errors="replace")[-1000:])

        def served() -> float:
            started = time.perf_counter()
            response = client.post("/v1/gradings", json=body(source))
            elapsed = time.perf_counter() - started
            check_passed(response)
            return elapsed

        for _ in range(3):  # warm the page cache, the connection, the service's stock
            latency.timed(floor_command, floor_ok)
            served()
        latency.timed(grade_command, grade_ok)
        for run in range(runs):
            steps = [("floor", lambda: latency.timed(floor_command, floor_ok)), ("service", served),
                     ("grade", lambda: latency.timed(grade_command, grade_ok))]
            for name, step in steps if run % 2 == 0 else reversed(steps):
                samples[name].append(step())
    return samples


async def closed_loop(url: str, source: str, concurrency: int,
                      seconds: float) -> tuple[int, float, list[float], list[float]]:
    """``concurrency`` clients, each posting its next distinct submission when the last is answered;
    the latencies and the CPU seconds of each student's process (its feedback's resource report)."""
    done: list[float] = []
    student_cpu: list[float] = []
    counter = iter(range(10**9))
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop_at:
            distinct = source + f"\n# submission {next(counter)}\n"
            started = time.perf_counter()
            response = await client.post("/v1/gradings", json=body(distinct))
            if response.status_code == 503:
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                continue
            grading = check_passed(response)
            done.append(time.perf_counter() - started)
            if grading["feedback"].get("resources", {}).get("cpu_seconds") is not None:
                student_cpu.append(grading["feedback"]["resources"]["cpu_seconds"])

    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(done), elapsed, done, student_cpu


async def open_loop(url: str, source: str, rate: float, seconds: float) -> dict:
    """Requests offered at ``rate`` per second for ``seconds`` whatever the answers: every one is
    counted as graded (200, passed), refused (503 with Retry-After), or a failure."""
    outcome = {"offered": 0, "graded": 0, "refused": 0, "refused_without_retry_after": 0, "wrong": 0, "failed": 0,
               "latencies": [], "failures": [], "waited_longer": 0, "waited": set()}
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)

    async def one(client: httpx.AsyncClient, number: int) -> None:
        started = time.perf_counter()
        # As a platform does: the submission's id as Idempotency-Key, so a request whose connection
        # broke (a keep-alive connection the server closed as it was reused) is sent again safely.
        headers = {"Idempotency-Key": f"bench-overload-{number}"}
        response = None
        for attempt in range(2):
            try:
                response = await client.post("/v1/gradings", json=body(source + f"\n# overload {number}\n"),
                                             headers=headers)
                break
            except httpx.TransportError as exc:
                again = " (sent again)" if not attempt else ""
                outcome["failures"].append(f"{type(exc).__name__}: {exc}"[:200] + again)
        if response is None:
            outcome["failed"] += 1
            return
        try:
            while response.status_code == 202:  # accepted, still queued when the wait ran out: waited for
                outcome["waited_longer"] += number not in outcome["waited"]
                outcome["waited"].add(number)
                response = await client.get(response.headers["location"], params={"wait": 30})
                response = httpx.Response(200 if response.json()["state"] in ("done", "error") else 202,
                                          headers=response.headers, content=response.content,
                                          request=response.request)
        except httpx.HTTPError as exc:
            outcome["failed"] += 1
            outcome["failures"].append(f"{type(exc).__name__}: {exc}"[:200])
            return
        if response.status_code == 503:
            outcome["refused"] += 1
            if "retry-after" not in response.headers:
                outcome["refused_without_retry_after"] += 1
        elif response.status_code == 200 and response.json()["state"] == "done":
            if response.json()["feedback"]["status"] == "passed":
                outcome["graded"] += 1
                outcome["latencies"].append(time.perf_counter() - started)
            else:
                outcome["wrong"] += 1
        else:
            outcome["failed"] += 1
            outcome["failures"].append(f"{response.status_code}: {response.text[:200]}")

    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
        pending = []
        started = time.perf_counter()
        while True:
            due = started + outcome["offered"] / rate
            if due - started >= seconds:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            pending.append(asyncio.create_task(one(client, outcome["offered"])))
            outcome["offered"] += 1
        await asyncio.gather(*pending)
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="latency samples of each of the three")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="the service's --workers")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20, help="length of the throughput run")
    parser.add_argument("--overload-seconds", type=float, default=30)
    parser.add_argument("--queue-limit", type=int, default=64, help="the service's queue_limit")
    parser.add_argument("--skip-latency", action="store_true", help="throughput and overload only")
    args = parser.parse_args()
    submission = REPO / "examples" / TASK / "correct.py"
    source = submission.read_text(encoding="utf-8")
    compileall.compile_dir(str(REPO / "grader"), quiet=1)
    grader = Path(sys.executable).with_name("grader")
    if not grader.exists():
        sys.exit(f"bench: {grader} not found; run scripts/setup.sh first")
    folder = Path(tempfile.mkdtemp(prefix="bench-service-"))
    load_before = os.getloadavg()
    service = Service(grader, args.workers, args.queue_limit, folder)
    try:
        samples = latency_round(service, source, submission, args.runs) if not args.skip_latency else None
        cpu_before = tree_cpu_seconds(service.process.pid)
        count, elapsed, closed, student_cpu = asyncio.run(closed_loop(service.url, source, args.concurrency,
                                                                      args.seconds))
        cpu_after = tree_cpu_seconds(service.process.pid)
        cpu_per_grading = {part: (cpu_after[part] - cpu_before[part]) / max(count, 1) for part in cpu_after}
        rate = count / elapsed
        overload = asyncio.run(open_loop(service.url, source, 4 * rate, args.overload_seconds))
    finally:
        service.stop()
        shutil.rmtree(folder, ignore_errors=True)
    load_after = os.getloadavg()

    print(f"task {TASK}, examples/{TASK}/correct.py, grader.yaml's cases, a fresh seed each grading; "
          f"grader serve --workers {args.workers} (warm workers)")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} cores)")
    if samples is not None:
        report_latency(samples)
    print(f"throughput: {count} distinct correct submissions in {elapsed:.1f} s at concurrency {args.concurrency}: "
          f"{rate:.1f} gradings/s (target >= 50); latency {describe(closed)}")
    print(f"  CPU per grading, the service and its sandboxes together: {cpu_per_grading['total'] * 1000:.1f} ms "
          f"(the service process {cpu_per_grading['service'] * 1000:.1f} ms, the sandboxes "
          f"{cpu_per_grading['sandboxes'] * 1000:.1f} ms), so {os.cpu_count()} idle cores could grade at most "
          f"{(os.cpu_count() or 1) / cpu_per_grading['total']:.1f}/s")
    if student_cpu:
        print(f"  of the sandboxes', each student's process (its resource report): "
              f"p50 {percentile(student_cpu, 0.5) * 1000:.1f} ms")
    answered = overload["graded"] + overload["refused"]
    print(f"overload: {4 * rate:.1f}/s offered for {args.overload_seconds:.0f} s: {overload['offered']} requests, "
          f"{overload['graded']} graded, {overload['refused']} refused with 503 "
          f"({overload['refused_without_retry_after']} without Retry-After), {overload['wrong']} wrong verdicts, "
          f"{overload['failed']} failed or lost; answered {answered}/{overload['offered']} "
          f"({overload['waited_longer']} of the graded answered 202 first, their wait over, and were fetched)")
    if overload["latencies"]:
        print(f"  accepted gradings: {describe(overload['latencies'])}")
    for failure in sorted(set(overload["failures"])):
        print(f"  failed: {failure} (x{overload['failures'].count(failure)})")


def report_latency(samples: dict[str, list[float]]) -> None:
    floor = percentile(samples["floor"], 0.5)
    print("latency, interleaved, one at a time:")
    print(f"  floor (python -c: numpy + the student's code, same sizes)  {describe(samples['floor'])}")
    print(f"  grader serve (POST /v1/gradings, keep-alive)             {describe(samples['service'])}")
    print(f"  grader grade (one process, one sandbox)                  {describe(samples['grade'])}")
    for name in ("service", "grade"):
        ratios = {q: percentile(samples[name], q) / floor for q in (0.5, 0.95, 0.99)}
        print(f"  {name:7s}/floor p50: p50 {ratios[0.5]:.2f}x  p95 {ratios[0.95]:.2f}x  p99 {ratios[0.99]:.2f}x"
              + ("   (target p50 <= 0.5x, aim 0.3x)" if name == "service" else ""))


if __name__ == "__main__":
    main()
