"""The scheduler as a supervised service: only the process holding the ``scheduler`` lease
runs the alert engine (ARCHITECTURE.md rule 5); another one waits and takes over when the
holder dies (at once on the same host, else when its lease runs out)."""

from __future__ import annotations

import contextlib
import logging
import threading

from sdesk.alerts.runtime import AlertRuntime
from sdesk.channels.services import PassResult, Service
from sdesk.core import leases
from sdesk.core.desk import Desk
from sdesk.store.failures import StoreError

log = logging.getLogger(__name__)
LEASE = "scheduler"


class AlertService(Service):
    name = "alerts"

    def __init__(
        self, desk: Desk, runtime: AlertRuntime | None = None, *, standby_seconds: float = 0
    ) -> None:
        """``standby_seconds``: how often a process that does not hold the lease tries again
        (default: a quarter of the lease's life, as the holder renews it); a standby meant to
        take over fast from a dead holder on this host asks more often."""
        self.desk = desk
        self.runtime = runtime or AlertRuntime(desk)
        self.holder = leases.holder_id(LEASE)
        self.renew_seconds = leases.DEFAULT_TTL.total_seconds() / 4
        self.standby_seconds = standby_seconds or self.renew_seconds

    def run(self, stop: threading.Event) -> None:
        held = False
        self.runtime.prepare()
        try:
            while not stop.is_set():
                if leases.acquire(self.desk, LEASE, self.holder):
                    if not held:
                        log.info("alerts: scheduler lease taken; escalations run here")
                        self.runtime.start()
                        held = True
                        log.info("alerts: scheduler started")
                elif held:  # lost it (a long stall): the new holder runs the escalations
                    log.warning("alerts: scheduler lease lost; stopping the scheduler here")
                    self.runtime.stop()
                    held = False
                stop.wait(self.renew_seconds if held else self.standby_seconds)
        finally:
            self.runtime.stop()
            if held:
                with contextlib.suppress(StoreError):
                    leases.release(self.desk, LEASE, self.holder)

    def run_once(self) -> PassResult | None:
        """``sdesk fetch``: one look at the events and the due steps, if no daemon runs them;
        a line only when a step was taken."""
        if not leases.acquire(self.desk, LEASE, self.holder):
            held = leases.current(self.desk, LEASE)
            who = leases.describe(held[0]) if held else "another process"
            return PassResult(f"alerts: run by {who}", "busy")
        try:
            self.runtime.watch()
            before = self.runtime.taken
            read = self.runtime.tail()
            self.runtime.run_due()
            steps = self.runtime.taken - before
        finally:
            leases.release(self.desk, LEASE, self.holder)
        if not steps:
            return None  # nothing to say: the events read opened no alert
        return PassResult(f"alerts: events read {read}, steps taken {steps}")
