"""The alert engine: read new events through the rules, take escalation steps, deliver notices.

Timers are APScheduler 3 jobs in its SQLAlchemyJobStore in the desk's own database, one job
per step with an explicit id (``alert:<id>:<round>:<step>``), so a restart finds them. The job
store is a timer, not the truth: the alert row holds its next step and when it is due, a step
is taken at most once (``core/alerts.run_step``'s unique row), and ``reconcile`` takes any step
that is overdue whatever became of its job. So a scheduler killed at any moment loses no step
and repeats none.

Every piece also runs without the scheduler (``tail``, ``run_due``), with the desk's clock:
the tests move a fake clock instead of sleeping.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from sdesk.alerts import rules
from sdesk.alerts.notifiers import Notifier, notifiers
from sdesk.core import alerts, alertwatch
from sdesk.core.alerts import Notice, StepResult
from sdesk.core.desk import Desk
from sdesk.core.health import one_line
from sdesk.store.alertmodels import Alert

log = logging.getLogger(__name__)

DESK_STORE = "desk"  # the persistent job store (step timers)
LOCAL_STORE = "local"  # in memory: the engine's own interval jobs, made again at each start
WATCH_SECONDS = 5.0  # SLA and unassigned watch
RECONCILE_SECONDS = 5.0
OVERDUE = timedelta(seconds=3)  # a step this late has lost its job: take it directly
STALE_SENDING = timedelta(minutes=2)
DELIVERY_THREADS = 4  # first steps of new alerts, taken beside the tail
JOB_THREADS = 8  # APScheduler's: the tail, the watch, the reconcile and the step timers
SEND_THREADS = 16  # pushes and texts in flight at once (each mostly waits on its server)
STEP_BATCH = 200  # steps taken in one transaction
BUCKET = 0.25  # seconds: steps due within one share a timer job

# The runtime of each desk in this process, by store URL: a stored job names its desk by URL
# (its arguments must be plain values) and finds its runtime here when it fires.
_RUNTIMES: dict[str, AlertRuntime] = {}


def fire(desk_url: str, bucket: float) -> None:
    """A step timer firing (referenced by name from the job store): every step due by its
    time is taken."""
    runtime = _RUNTIMES.get(desk_url)
    if runtime is None:  # not this process's desk any more: the reconcile takes it
        log.warning("alerts: a step timer fired without its runtime")
        return
    with runtime._buckets_lock:
        runtime._buckets.discard(bucket)
    runtime._due(max(runtime.desk.clock(), datetime.fromtimestamp(bucket, UTC)))


def job_id(bucket: float) -> str:
    return f"alerts:steps:{bucket:.2f}"


def _send(item: tuple[Notice, Notifier]) -> tuple[int, str, str | None]:
    notice, send = item
    try:
        error, ref = send(notice)
    except Exception as exc:  # a notifier's bug must not stop the others
        log.exception("alerts: %s notifier failed", notice.medium)
        error, ref = one_line(f"{type(exc).__name__}: {exc}"), None
    return notice.id, error, ref


class AlertRuntime:
    def __init__(self, desk: Desk, senders: dict[str, Notifier] | None = None) -> None:
        self.desk = desk
        self.senders = senders if senders is not None else notifiers(desk.settings)
        self.scheduler: Any = None  # apscheduler BackgroundScheduler while started
        self._pool: ThreadPoolExecutor | None = None
        self._sends: ThreadPoolExecutor | None = None
        self._buckets: set[float] = set()
        self._buckets_lock = threading.Lock()
        self._started_at = desk.clock()
        self.taken = 0  # steps this runtime has taken (``sdesk fetch`` reports them)
        self._tail_lock = threading.Lock()
        self.cursor: int | None = None

    # -- the pieces ----------------------------------------------------------------------------

    def tail(self, limit: int = rules.BATCH) -> int:
        """Read the events since the cursor through the rules; open (or group) alerts and take
        the first step of each new one. Returns the events read."""
        with self._tail_lock:
            if self.cursor is None:
                self.cursor = alerts.start_cursor_at_end(self.desk)
            rows = rules.read_events(self.desk, self.cursor, limit)
            if not rows:
                return 0
            opened = alerts.open_alerts(
                self.desk, rules.decide(self.desk, rows), through_event=rows[-1].id
            )
            self.cursor = rows[-1].id
        new = [(o.alert_id, 0, 0) for o in opened if o.new]
        if new:  # the tail reads on while these first steps go out
            self._submit(self.steps, new)
        return len(rows)

    def step(self, alert_id: int, step: int, repeat: int) -> StepResult | None:
        taken = self.steps([(alert_id, step, repeat)])
        return taken[0] if taken else None

    def steps(self, wanted: list[tuple[int, int, int]]) -> list[StepResult]:
        """Take the steps (those still due and not taken), set their successors' timers,
        deliver their notices."""
        taken: list[StepResult] = []
        for chunk in range(0, len(wanted), STEP_BATCH):
            results = alerts.run_steps(self.desk, wanted[chunk : chunk + STEP_BATCH])
            for r in results:
                if r.next_at is not None:
                    self.schedule(r.next_at)
            self.deliver([n for r in results for n in r.notices])
            taken.extend(results)
        self.taken += len(taken)
        return taken

    def deliver(self, notices: list[Notice], *, fresh: bool = True) -> None:
        """Send the notices (at once, up to ``SEND_THREADS`` in parallel) and record the
        results in one transaction. ``fresh``: straight from their step (its pushes already
        taken for sending); else each is claimed first (a resend)."""
        outcomes: list[tuple[int, str, str | None]] = []
        todo: list[tuple[Notice, Notifier]] = []
        for n in notices:
            send = self.senders.get(n.medium)
            if send is None:
                outcomes.append((n.id, f"no {n.medium} sender configured", None))
                continue
            # A push was taken for sending by its step; SMS and calls are claimed now, so an
            # acknowledgement given meanwhile cancels them.
            taken = fresh and n.medium == "push"
            if not taken and not alerts.claim_notice(self.desk, n.id):
                continue
            todo.append((n, send))
        if len(todo) > 1 and self._sends is not None:
            outcomes.extend(self._sends.map(_send, todo))
        else:
            outcomes.extend(_send(item) for item in todo)
        alerts.settle_notices(self.desk, outcomes)

    def run_due(self) -> int:
        """Take every step that is due now (the fake-clock tests' scheduler; the real one's
        safety net for a step whose job was lost). Returns the steps taken."""
        return self._due(self.desk.clock())

    def _due(self, until: datetime) -> int:
        with self.desk.store.read() as session:
            due = session.execute(
                select(col(Alert.id), col(Alert.step), col(Alert.repeat))
                .where(
                    col(Alert.state) == alerts.ACTIVE,
                    col(Alert.next_at).is_not(None),
                    col(Alert.next_at) <= until,
                )
                .order_by(col(Alert.next_at))
                .limit(1000)
            ).all()
        return len(self.steps([(a, s, r) for a, s, r in due]))

    def watch(self) -> int:
        return alertwatch.watch(self.desk)

    def reconcile(self) -> None:
        """Overdue steps (their job lost) taken now; notices a dead sender left half sent
        delivered again (at least once)."""
        self._due(self.desk.clock() - OVERDUE)
        self._resend(STALE_SENDING)

    def _resend(self, older_than: timedelta) -> None:
        found = (alerts.notice(self.desk, i) for i in alerts.requeue_stale(self.desk, older_than))
        self.deliver([n for n in found if n is not None], fresh=False)

    # -- the scheduler -------------------------------------------------------------------------

    def schedule(self, when: datetime) -> None:
        """A timer for the steps due at ``when``: one job per ``BUCKET`` of time (its id says
        which), so a burst of alerts costs one job, not one each; the job takes every step due
        by then (``fire``)."""
        if self.scheduler is None:
            return  # no scheduler (tests, a dry run): ``run_due`` takes it when due
        bucket = math.ceil(when.timestamp() / BUCKET) * BUCKET
        with self._buckets_lock:
            if bucket in self._buckets:
                return
            self._buckets.add(bucket)
        self.scheduler.add_job(
            "sdesk.alerts.runtime:fire",
            "date",
            run_date=datetime.fromtimestamp(bucket, UTC),
            args=[self.desk.store.url, bucket],
            id=job_id(bucket),
            jobstore=DESK_STORE,
            replace_existing=True,
            misfire_grace_time=None,  # a late timer still fires (the steps' rows make it once)
            coalesce=True,
        )

    def prepare(self) -> None:
        """Import what the first alert needs (apprise takes about a second), so neither the
        first alert nor a standby taking over waits for it."""
        import apscheduler.jobstores.sqlalchemy
        import apscheduler.schedulers.background  # noqa: F401

        if "push" in self.senders:
            import apprise  # noqa: F401

    def start(self) -> None:
        """Start APScheduler with the desk's job store; take what a dead holder left."""
        from apscheduler.executors.pool import ThreadPoolExecutor as JobPool
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        if self.scheduler is not None:
            return
        self.prepare()
        _RUNTIMES[self.desk.store.url] = self
        self._pool = ThreadPoolExecutor(DELIVERY_THREADS, thread_name_prefix="sdesk:alert")
        self._sends = ThreadPoolExecutor(SEND_THREADS, thread_name_prefix="sdesk:alert-send")
        scheduler = BackgroundScheduler(
            jobstores={
                DESK_STORE: SQLAlchemyJobStore(engine=self.desk.store.engine),
                LOCAL_STORE: MemoryJobStore(),
            },
            executors={"default": JobPool(JOB_THREADS)},
            timezone=UTC,
        )
        every = self.desk.settings.alerts.poll_seconds
        for name, func, seconds in (
            ("alerts:tail", self._tail_job, every),
            ("alerts:watch", self.watch, WATCH_SECONDS),
            ("alerts:reconcile", self.reconcile, RECONCILE_SECONDS),
        ):
            scheduler.add_job(
                func, "interval", seconds=seconds, id=name, jobstore=LOCAL_STORE,
                max_instances=1, coalesce=True, misfire_grace_time=None,
            )  # fmt: skip
        self.scheduler = scheduler
        self._started_at = self.desk.clock()
        began = time.monotonic()
        scheduler.start()
        log.info("alerts: APScheduler started in %.2fs", time.monotonic() - began)
        self._submit(self._catch_up)

    def _catch_up(self) -> None:
        """What the last holder left: notices of a step it took but did not send go out now
        (before this process has sent anything, so they are its, not ours), and every step
        that should have run by now runs."""
        self._resend(max(timedelta(0), self.desk.clock() - self._started_at))
        self._due(self.desk.clock())
        self.tail()

    def _tail_job(self) -> None:
        while self.tail() >= rules.BATCH:  # a backlog: read on until it is taken
            pass

    def stop(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        for pool in (self._pool, self._sends):
            if pool is not None:
                pool.shutdown(wait=True)
        self._pool = self._sends = None
        self._buckets.clear()
        if _RUNTIMES.get(self.desk.store.url) is self:
            del _RUNTIMES[self.desk.store.url]

    def _submit(self, func: Any, *args: Any) -> None:
        if self._pool is None:
            func(*args)
            return
        future = self._pool.submit(func, *args)
        future.add_done_callback(_log_failure)


def _log_failure(future: Any) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("alerts: %s", one_line(f"{type(exc).__name__}: {exc}"))
