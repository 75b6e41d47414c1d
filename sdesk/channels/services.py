"""A desk's background services, built in one place and run supervised.

``build_services`` makes them from the desk's settings: one IMAP poller per mailbox, the outbox
dispatcher, the Telegram bot, the HTTP server and the Twilio call watcher (later the
scheduler). ``sdesk serve`` runs them until SIGTERM / Ctrl-C, ``sdesk fetch`` runs one pass of
each that has one (``run_once``), and the lone console runs them after its first paint: the CLI
hands the console a starter (``sdesk.cli.console.Background``) that imports, builds and
supervises them on a thread of its own, so the console never imports a channel (ARCHITECTURE.md,
layers).

The ``Supervisor`` runs each service in a thread of its own. A service whose ``run`` raises is
logged by name in one line ("service imap:support crashed: ..."), its health recorded where
``sdesk doctor``, the dashboard and the console's ⚠ mark read it (``sdesk.core.health``), and it
is started again after a capped backoff. ``stop`` sets the services' stop event and waits for
them: a send or a store transaction under way finishes, nothing is left half done.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from sdesk.config import MailboxSettings
from sdesk.core import leases
from sdesk.core.desk import Desk
from sdesk.core.health import one_line

log = logging.getLogger(__name__)

# Seconds before the 1st, 2nd, ... restart of a crashed service; a run that lasted
# ``STEADY_AFTER`` seconds before it crashed starts the count again.
BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
STEADY_AFTER = 120.0
# How long ``stop`` waits for the services by default: an SMTP send under way may take its
# server's timeout (``timeout_seconds``, 30 s by default) to finish.
STOP_TIMEOUT = 45.0

Outcome = Literal["done", "busy", "failed"]


@dataclass(frozen=True, slots=True)
class PassResult:
    """What one pass of a service did, as ``sdesk fetch`` prints it."""

    line: str
    outcome: Outcome = "done"  # busy: another live process holds it; failed: it said why


class Service:
    """One background service. ``run`` works until ``stop`` is set and handles the failures it
    expects itself (a server down: retried); anything escaping it is a crash for the
    ``Supervisor``."""

    name: str = "service"

    def run(self, stop: threading.Event) -> None:
        raise NotImplementedError

    def run_once(self) -> PassResult | None:
        """One pass and return (``sdesk fetch``); None: this service has no single pass."""
        return None

    def crashed(self, message: str) -> None:
        """Record a crash in the service's health (the ``Supervisor`` calls it)."""


class MailboxService(Service):
    """One mailbox's IMAP poller (``channels/email/imap.py``)."""

    def __init__(
        self,
        desk: Desk,
        mailbox: MailboxSettings,
        *,
        cafile: str | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        from sdesk.channels.email.imap import MailboxPoller, lease_name

        self.desk = desk
        self.mailbox = mailbox
        self.name = lease_name(mailbox)
        self.poller = MailboxPoller(desk, mailbox, cafile=cafile)
        self.on_error = on_error

    def run(self, stop: threading.Event) -> None:
        self.poller.run(stop, on_error=self.on_error)

    def run_once(self) -> PassResult:
        from sdesk.channels.email.imap import MailboxError

        box = self.mailbox
        # Taken here first (fetch_once renews it) to name a live holder; a dead one on this host
        # gives the lease up at once.
        if not leases.acquire(self.desk, self.name, self.poller.holder):
            held = leases.current(self.desk, self.name)
            who = leases.describe(held[0]) if held else "another process"
            line = f"{box.name}: mailbox {box.name} is being fetched by {who}; try again later"
            return PassResult(line, "busy")
        try:
            r = self.poller.fetch_once()
        except MailboxError as exc:
            return PassResult(f"{box.name}: {exc}", "failed")
        packed = self.poller.pack_unpacked()  # what a large sync kept as it came
        resets = f", rescanned after UIDVALIDITY change: {', '.join(r.resets)}" if r.resets else ""
        compacted = (
            f", packed {packed.rows} raw messages" if packed is not None and packed.rows else ""
        )
        return PassResult(
            f"{box.name}: fetched {r.fetched}, new {r.stored}, duplicates {r.duplicates}, "
            f"quarantined {r.quarantined}, oversized {r.oversized}{resets}{compacted}"
        )

    def crashed(self, message: str) -> None:
        self.poller.health.failed(message)


class OutboxService(Service):
    """The outbox dispatcher (``channels/dispatcher.py``): one a desk, by its lease."""

    name = "outbox"

    def __init__(self, desk: Desk, *, cafile: str | None = None) -> None:
        from sdesk.channels.dispatcher import Dispatcher, email_senders

        self.desk = desk
        senders = email_senders(desk, cafile=cafile)
        if desk.settings.telegram is not None:
            from sdesk.channels.telegram.sender import telegram_senders

            senders.update(telegram_senders(desk))
        if desk.settings.http is not None:
            from sdesk.channels.dispatcher import shown_in_cabinet

            # The mobile app and API clients read replies from the REST API the same way.
            for channel in ("web", "app", "api"):
                senders[channel] = shown_in_cabinet
        if desk.settings.telephony.provider == "twilio":
            from sdesk.channels.twilio.sender import twilio_senders

            senders.update(twilio_senders(desk))
        self.dispatcher = Dispatcher(desk, senders)

    def run(self, stop: threading.Event) -> None:
        self.dispatcher.run(stop)

    def run_once(self) -> PassResult | None:
        from sdesk.channels.dispatcher import OUTBOX_LEASE

        d = self.dispatcher
        if not d.senders:
            return None  # nothing can be sent: no pass to speak of
        if not leases.acquire(self.desk, OUTBOX_LEASE, d.holder):
            held = leases.current(self.desk, OUTBOX_LEASE)
            who = leases.describe(held[0]) if held else "another process"
            return PassResult(f"outbox: being sent by {who}; try again later", "busy")
        try:
            d.run_once()
        finally:
            leases.release(self.desk, OUTBOX_LEASE, d.holder)
        n = d.results
        return PassResult(
            f"outbox: sent {n['sent']}, to retry {n['queued']}, failed {n['failed']}",
            "failed" if n["failed"] else "done",
        )

    def crashed(self, message: str) -> None:
        self.dispatcher.health.failed(message)


class PendingService(Service):
    """Reopens the pending tickets whose time has come (``Desk.wake_pending``): the SLA clock
    runs again and the ticket is back among those to answer. Idempotent, so every process that
    runs the desk's services may run it."""

    name = "pending"
    every = 60.0  # seconds between two looks; "until" is shown to the minute

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            woke = self.desk.wake_pending()
            if woke:
                log.info("pending: %d ticket(s) reopened, their time has come", len(woke))
            stop.wait(self.every)

    def run_once(self) -> PassResult | None:
        woke = self.desk.wake_pending()
        return PassResult(f"pending: reopened {len(woke)}") if woke else None


def build_services(
    desk: Desk,
    mailboxes: Iterable[MailboxSettings] | None = None,
    *,
    outbox: bool = True,
    cafile: str | None = None,
    on_error: Callable[[str, str], None] | None = None,
    telegram: bool = True,
    http: bool = True,
    telephony: bool = True,
) -> list[Service]:
    """The desk's services: a poller per mailbox (``mailboxes``: these only; default: every
    configured one), the Telegram bot when ``[telegram]`` is configured (and ``telegram``),
    the HTTP server when ``[http]`` is (and ``http``), the Twilio call watcher when
    ``[telephony]`` uses Twilio (and ``telephony``) and, with ``outbox``, the dispatcher, the
    pending tickets' wake-up and the alerts' scheduler (``[alerts] enabled``).
    ``on_error(name, message)`` hears a poller's failed rounds (``sdesk serve`` prints them)."""
    boxes = desk.settings.mailboxes if mailboxes is None else list(mailboxes)
    services: list[Service] = [
        MailboxService(
            desk,
            box,
            cafile=cafile,
            on_error=None if on_error is None else _named(on_error, box.name),
        )
        for box in boxes
    ]
    if telegram and desk.settings.telegram is not None:
        from sdesk.channels.telegram.service import TelegramService

        services.append(TelegramService(desk, desk.settings.telegram))
    if telephony and desk.settings.telephony.provider == "twilio":
        from sdesk.channels.twilio.service import CallWatcher

        services.append(CallWatcher(desk))
    if http and desk.settings.http is not None:
        from sdesk.api.server import HttpService

        services.append(HttpService(desk, desk.settings.http))
    if outbox:
        services.append(OutboxService(desk, cafile=cafile))
        services.append(PendingService(desk))
        if desk.settings.alerts.enabled:
            from sdesk.alerts.service import AlertService

            services.append(AlertService(desk))
    return services


def _named(on_error: Callable[[str, str], None], name: str) -> Callable[[str], None]:
    return lambda message: on_error(name, message)


class Supervisor:
    """Runs services in threads, restarts a crashed one with backoff, stops them all cleanly."""

    def __init__(
        self,
        services: Iterable[Service],
        *,
        backoff: tuple[float, ...] = BACKOFF,
        steady_after: float = STEADY_AFTER,
    ) -> None:
        self.services = list(services)
        self.backoff = backoff
        self.steady_after = steady_after
        self.stopping = threading.Event()
        self.crashes: Counter[str] = Counter()  # service name → crashes so far
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for service in self.services:
            thread = threading.Thread(
                target=self._supervise, args=(service,), name=f"sdesk:{service.name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _supervise(self, service: Service) -> None:
        failures = 0
        while not self.stopping.is_set():
            began = time.monotonic()
            try:
                service.run(self.stopping)
            except Exception as exc:
                if time.monotonic() - began >= self.steady_after:
                    failures = 0
                failures += 1
                self.crashes[service.name] += 1
                # One line; the exception's text, first line only, made safe and capped (a
                # traceback only at debug level: it may quote configuration values).
                message = one_line(f"{type(exc).__name__}: {exc}")
                delay = self.backoff[min(failures, len(self.backoff)) - 1]
                log.error("service %s crashed: %s; restarting in %gs", service.name, message, delay)
                log.debug("service %s crash", service.name, exc_info=True)
                try:
                    service.crashed(f"crashed: {message}")
                except Exception:
                    log.warning("service %s: could not record its crash", service.name)
                self.stopping.wait(delay)
            else:
                if not self.stopping.is_set():  # returned on its own: kept running all the same
                    log.warning("service %s ended by itself; restarting", service.name)
                    self.stopping.wait(self.backoff[0])

    def stop(self, timeout: float = STOP_TIMEOUT) -> list[str]:
        """Ask every service to stop and wait for them (``timeout`` for all together); returns
        the names of those still running then (daemon threads: they end with the process)."""
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [s.name for s, t in zip(self.services, self._threads, strict=False) if t.is_alive()]


__all__ = [
    "BACKOFF",
    "MailboxService",
    "OutboxService",
    "PassResult",
    "PendingService",
    "Service",
    "Supervisor",
    "build_services",
]
