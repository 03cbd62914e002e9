"""The running service: its parts, and its life from start-up to the last grading.

Owns the states the probes report and the order of things:

1. start-up: the tasks are loaded (a broken spec refuses that task only), the database is
   opened and the gradings it holds unfinished are queued again with their recorded seeds;
   the HTTP port answers from here on (/livez 200, /readyz 503 "starting");
2. the engine starts, then each task's reference is graded through it as a student's file
   (its self-test, on a fresh seed): a task that does not pass is refused with the reason;
   the dispatcher starts, and /readyz turns 200 when at least one task passed;
3. SIGTERM (``drain``): /readyz 503 "draining", new gradings get 503 with Retry-After, the
   gradings that run or that a request waits for finish (bounded by the tasks' wall limit,
   the shrink budget and a margin), queued asynchronous ones stay in the database;
4. ``stop``: the engine is stopped, the database closed.

A retention sweep forgets finished gradings older than service.retention_hours.
"""

from __future__ import annotations

import asyncio
import sys
import time
import traceback

from ..spec import taskspec
from . import engine as engine_mod
from .auth import Authenticator, Quotas
from .dispatcher import Dispatcher
from .metrics import Metrics
from .settings import ServiceSettings, SettingsError
from .store import Store
from .webhooks import Deliverer

DRAIN_MARGIN_SECONDS = 5.0
SELF_TEST_LANG = "en"


def load_tasks(settings: ServiceSettings) -> tuple[dict[str, taskspec.Task], dict[str, str]]:
    """(tasks that loaded, {task id: why it did not}) for the tasks the service grades."""
    root = settings.grader.root
    known = taskspec.task_ids(root)
    wanted = settings.values["tasks"] or known
    unknown = [task_id for task_id in wanted if task_id not in known]
    if unknown:
        raise SettingsError(f"service.tasks names tasks that {root / 'tasks'} does not hold: {', '.join(unknown)} "
                            f"(known: {', '.join(known) or 'none'})")
    tasks, broken = {}, {}
    for task_id in wanted:
        try:
            tasks[task_id] = taskspec.load(task_id, root)
        except taskspec.TaskError as exc:
            broken[task_id] = f"its spec is broken: {exc.problems[0]}" + (
                f" (and {len(exc.problems) - 1} more problems)" if len(exc.problems) > 1 else "")
    return tasks, broken


class Service:
    def __init__(self, settings: ServiceSettings, engine_factory=engine_mod.WarmEngine):
        self.settings = settings
        self.tasks, self.problems = load_tasks(settings)
        self.order = list(settings.values["tasks"] or taskspec.task_ids(settings.grader.root))
        self.self_tests: dict[str, str] = {task_id: "testing" for task_id in self.tasks}
        self.store = Store(settings.database)
        self.engine = engine_factory(settings.grader, self.tasks, settings.workers)
        self.metrics = Metrics(self.engine.workers)
        self.auth = Authenticator(settings.tokens)
        self.quotas = Quotas(settings.values["quota_per_minute"])
        self.state = "starting"
        self.problem: str | None = None
        self._background: list[asyncio.Task] = []
        self.dispatcher: Dispatcher | None = None
        self.webhooks: Deliverer | None = None

    # --- tasks -------------------------------------------------------------------------------

    def task_state(self, task_id: str) -> str:
        if task_id in self.problems:
            return "refused"
        return self.self_tests.get(task_id, "refused")

    def refusal(self, task_id: str) -> str | None:
        """Why ``task_id`` is not graded (a broken spec, a failed self-test), or None, as API
        clients read it (students, on the practice page): the server's folders are named by what
        they are; the whole reason is on stderr at start-up."""
        problem = self.problems.get(task_id)
        if problem is None:
            return None
        return problem.replace(str(self.settings.grader.root), "<tasks root>")

    def limits(self, task_id: str) -> dict:
        return self.tasks[task_id].limits(self.settings.grader.values["limits"])

    def default_wait(self, task_id: str) -> float:
        """How long a POST without ?wait waits: the wall limit, the shrink budget and a margin."""
        return (self.limits(task_id)["wall_seconds"] + self.settings.grader.values["shrink"]["wall_seconds"]
                + self.settings.values["wait_margin_seconds"])

    def drain_seconds(self) -> float:
        longest = max((self.default_wait(task_id) for task_id in self.tasks), default=0.0)
        return longest + DRAIN_MARGIN_SECONDS

    # --- life --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Called when the HTTP port opens: recover, then bring the engine up in the background."""
        self.webhooks = Deliverer(self.store, self.settings.webhook_secret, self.settings.values["webhooks"])
        self.dispatcher = Dispatcher(self.engine, self.store, self.metrics, self.settings.values["queue_limit"],
                                     self.refusal, self.webhooks.wake)
        recovered = await asyncio.to_thread(self.store.unfinished)
        for record in recovered:
            self.dispatcher.admit(record)
        if recovered:
            print(f"grader serve: {len(recovered)} gradings accepted before the last stop are queued again",
                  file=sys.stderr)
        self._spawn(self.webhooks.run())
        self._spawn(self._retention())
        self._spawn(self._bring_up())

    def _spawn(self, coroutine) -> None:
        self._background.append(asyncio.create_task(coroutine))

    async def _bring_up(self) -> None:
        try:
            await asyncio.to_thread(self.engine.start)
        except engine_mod.EngineUnavailable as exc:
            self._fail(str(exc))
            return
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            self._fail(f"the engine failed to start: {type(exc).__name__}: {exc}")
            return
        await asyncio.gather(*(self._self_test(task_id) for task_id in self.tasks))
        self._spawn(self.dispatcher.run())
        passed = [task_id for task_id in self.tasks if self.self_tests[task_id] == "serving"]
        if not passed:
            self._fail("no task passed its self-test: " + "; ".join(f"{t}: {p}" for t, p in self.problems.items()))
            return
        if self.state == "starting":
            self.state = "serving"
        print(f"grader serve: ready; grading {', '.join(passed)}"
              + (f"; refusing {', '.join(self.problems)}" if self.problems else ""), file=sys.stderr)

    async def _self_test(self, task_id: str) -> None:
        task = self.tasks[task_id]
        seed = self.engine.draw_seed(task_id)
        try:
            source = task.reference_path.read_bytes()
            job = engine_mod.Job(task_id, source, seed, SELF_TEST_LANG)
            document = (await asyncio.wrap_future(self.engine.submit(job))).document
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            document = {"status": "error", "error": f"{type(exc).__name__}: {exc}", "tests": []}
        if document["status"] == "passed":
            self.self_tests[task_id] = "serving"
            return
        failing = [f"{test['name']}: {test['code']}" for test in document.get("tests", [])
                   if test["status"] != "passed"]
        why = document.get("error") or ", ".join(failing[:5]) or document.get("summary", "")
        self.problems[task_id] = (f"its reference, graded as a student's file with seed {seed}, got status "
                                  f"{document['status']} ({why})")
        self.self_tests[task_id] = "refused"
        print(f"grader serve: refusing {task_id}: {self.problems[task_id]}", file=sys.stderr)

    def _fail(self, problem: str) -> None:
        self.state = "failed"
        self.problem = problem
        print(f"grader serve: cannot grade: {problem}", file=sys.stderr)

    async def _retention(self) -> None:
        hours = self.settings.values["retention_hours"]
        while True:
            try:
                removed = await asyncio.to_thread(self.store.purge, time.time() - hours * 3600)
                if removed:
                    print(f"grader serve: forgot {removed} gradings older than {hours} h", file=sys.stderr)
            except Exception:
                traceback.print_exc(file=sys.stderr)
            await asyncio.sleep(min(3600.0, hours * 360))

    def ready(self) -> bool:
        return self.state == "serving"

    async def drain(self) -> None:
        """SIGTERM: refuse new work, finish what runs or is waited for, keep the rest queued."""
        self.state = "draining"
        if self.dispatcher is None:
            return
        self.dispatcher.drain()
        seconds = self.drain_seconds()
        print(f"grader serve: draining (at most {seconds:.0f} s): {self.dispatcher.queued()} queued gradings "
              "stay in the database", file=sys.stderr)
        if not await self.dispatcher.until_idle(seconds):
            print("grader serve: gradings still running after the drain's bound are graded again after a restart",
                  file=sys.stderr)

    async def stop(self) -> None:
        """After the drain: what still runs is cut off here and stays unfinished in the database."""
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self.dispatcher is not None:
            await self.dispatcher.cancel()
        await asyncio.to_thread(self.engine.stop)
        self.store.close()
