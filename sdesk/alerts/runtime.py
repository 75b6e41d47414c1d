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
import threading
from collections.abc import Iterable
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
DELIVERY_THREADS = 8

# The runtime of each desk in this process, by store URL: a stored job names its desk by URL
# (its arguments must be plain values) and finds its runtime here when it fires.
_RUNTIMES: dict[str, AlertRuntime] = {}


def fire(desk_url: str, alert_id: int, step: int, repeat: int) -> None:
    """A step job firing (referenced by name from the job store)."""
    runtime = _RUNTIMES.get(desk_url)
    if runtime is None:  # not this process's desk any more: the reconcile takes it
        log.warning("alerts: step job for alert %d fired without its runtime", alert_id)
        return
    runtime.step(alert_id, step, repeat)


def job_id(alert_id: int, step: int, repeat: int) -> str:
    return f"alert:{alert_id}:{repeat}:{step}"


class AlertRuntime:
    def __init__(self, desk: Desk, senders: dict[str, Notifier] | None = None) -> None:
        self.desk = desk
        self.senders = senders if senders is not None else notifiers(desk.settings)
        self.scheduler: Any = None  # apscheduler BackgroundScheduler while started
        self._pool: ThreadPoolExecutor | None = None
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
        for o in opened:
            if o.new:
                self._submit(self.step, o.alert_id, 0, 0)
        return len(rows)

    def step(self, alert_id: int, step: int, repeat: int) -> StepResult | None:
        """Take the step (if still due and not taken), deliver its notices, set its successor's
        timer."""
        result = alerts.run_step(self.desk, alert_id, step, repeat)
        if result is None:
            return None
        if result.next_at is not None:
            self.schedule(alert_id, result.next_step, result.next_repeat, result.next_at)
        self.deliver(result.notices)
        return result

    def deliver(self, notices: Iterable[Notice], *, fresh: bool = True) -> None:
        """Send each notice and record the result. ``fresh``: straight from their step (its
        pushes already taken for sending); else each is claimed first (a resend)."""
        for n in notices:
            send = self.senders.get(n.medium)
            if send is None:
                alerts.settle_notice(self.desk, n.id, error=f"no {n.medium} sender configured")
                continue
            # A push was taken for sending by its step; SMS and calls are claimed now, so an
            # acknowledgement given meanwhile cancels them.
            taken = fresh and n.medium == "push"
            if not taken and not alerts.claim_notice(self.desk, n.id):
                continue
            try:
                error, ref = send(n)
            except Exception as exc:  # a notifier's bug must not stop the others
                log.exception("alerts: %s notifier failed", n.medium)
                error, ref = one_line(f"{type(exc).__name__}: {exc}"), None
            alerts.settle_notice(self.desk, n.id, error=error, ref=ref)

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
        return sum(1 for a, s, r in due if self.step(a, s, r) is not None)

    def watch(self) -> int:
        return alertwatch.watch(self.desk)

    def reconcile(self) -> None:
        """Overdue steps (their job lost) taken now; notices a dead sender left half sent
        delivered again (at least once)."""
        self._due(self.desk.clock() - OVERDUE)
        self._resend(STALE_SENDING)

    def _resend(self, older_than: timedelta) -> None:
        for notice_id in alerts.requeue_stale(self.desk, older_than):
            n = alerts.notice(self.desk, notice_id)
            if n is not None:
                self.deliver([n], fresh=False)

    # -- the scheduler -------------------------------------------------------------------------

    def schedule(self, alert_id: int, step: int, repeat: int, when: datetime) -> None:
        if self.scheduler is None:
            return  # no scheduler (tests, a dry run): ``run_due`` takes it when due
        self.scheduler.add_job(
            "sdesk.alerts.runtime:fire",
            "date",
            run_date=when,
            args=[self.desk.store.url, alert_id, step, repeat],
            id=job_id(alert_id, step, repeat),
            jobstore=DESK_STORE,
            replace_existing=True,
            misfire_grace_time=None,  # a late step still runs (its row makes it once)
            coalesce=True,
        )

    def start(self) -> None:
        """Start APScheduler with the desk's job store; take what a dead holder left."""
        from apscheduler.executors.pool import ThreadPoolExecutor as JobPool
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        if self.scheduler is not None:
            return
        _RUNTIMES[self.desk.store.url] = self
        self._pool = ThreadPoolExecutor(DELIVERY_THREADS, thread_name_prefix="sdesk:alert")
        scheduler = BackgroundScheduler(
            jobstores={
                DESK_STORE: SQLAlchemyJobStore(engine=self.desk.store.engine),
                LOCAL_STORE: MemoryJobStore(),
            },
            executors={"default": JobPool(DELIVERY_THREADS)},
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
        # Before the timers start: what the last holder left (a step taken, its notices not
        # sent) goes out now, and every step that should have run by now runs.
        self._resend(timedelta(0))
        scheduler.start()
        self._submit(self._catch_up)

    def _catch_up(self) -> None:
        self._due(self.desk.clock())
        self.tail()

    def _tail_job(self) -> None:
        while self.tail() >= rules.BATCH:  # a backlog: read on until it is taken
            pass

    def stop(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
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
