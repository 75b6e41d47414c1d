"""Mailbox health: is each mailbox's poller connected, when did it last poll well, what went
wrong last, and how much of its mail sits in quarantine.

The poller that holds a mailbox's lease writes one row per mailbox (``mailbox_health``), so every
console and ``sdesk doctor`` can show it whichever process polls. Background services that are not
a mailbox (the outbox dispatcher; later Telegram, the HTTP server, the scheduler) keep their row
in the same table under ``service:NAME`` (``service_key``), written by the one holding their lease,
and are shown after the mailboxes. Writes are kept cheap: a change
of state is written at once, a good poll at most every ``POLL_EVERY`` seconds (an IDLE loop syncs
every few seconds and must not turn into a stream of writes). A health write that fails is
logged and forgotten: health is about mail intake and must never stop it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core import events
from sdesk.core.enums import RawState
from sdesk.core.text import safe_text
from sdesk.store.failures import StoreError
from sdesk.store.models import MailboxHealth, RawInbound

if TYPE_CHECKING:
    from sdesk.config import MailboxSettings
    from sdesk.core.desk import Desk

log = logging.getLogger(__name__)

POLL_EVERY = 15.0  # seconds between two stored good polls of one poller
# A poller that says it is connected but has not polled for this long (plus its poll interval
# when it cannot IDLE) has died without a word, e.g. a ``kill -9``.
SILENT_AFTER = timedelta(minutes=2)
ERROR_CHARS = 200
SERVICE = "service:"  # the health row of a service that is not a mailbox: "service:outbox"

CONNECTED, DISCONNECTED, ERROR, SILENT, UNKNOWN = (
    "connected",
    "disconnected",
    "error",
    "silent",
    "unknown",
)
TROUBLED = frozenset({DISCONNECTED, ERROR, SILENT})


@dataclass(frozen=True, slots=True)
class MailboxStatus:
    """One mailbox's health as the console shows it (plain data, no ORM row)."""

    name: str
    state: str  # connected | disconnected | error | silent | unknown (never polled)
    since: datetime | None  # when it connected or disconnected
    last_poll_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    quarantined: int

    @property
    def troubled(self) -> bool:
        return self.state in TROUBLED


def one_line(error: str) -> str:
    """An error as one short, safe line: the first line, controls neutralised, capped."""
    lines = str(error).strip().splitlines()
    text = safe_text(lines[0] if lines else "unknown error", single_line=True)
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def _state(row: MailboxHealth | None, now: datetime, silent_after: timedelta) -> str:
    if row is None:
        return UNKNOWN
    if row.connected:
        last_sign = max(row.since, row.last_poll_at or row.since)
        return SILENT if now - last_sign > silent_after else CONNECTED
    if row.last_error_at is not None and row.last_error_at >= row.since:
        return ERROR
    return DISCONNECTED


def mailbox_status(
    session: Session, boxes: Sequence[MailboxSettings], now: datetime
) -> list[MailboxStatus]:
    """The health of each configured mailbox, in config order, then of each other service
    that ever recorded one (``service:outbox``), by name."""
    names = [box.name for box in boxes]
    rows = {
        r.mailbox: r
        for r in session.execute(
            select(MailboxHealth).where(
                col(MailboxHealth.mailbox).in_(names)
                | col(MailboxHealth.mailbox).startswith(SERVICE, autoescape=True)
            )
        ).scalars()
    }
    statuses = []
    for box in boxes:
        row = rows.get(box.name)
        silent_after = SILENT_AFTER + timedelta(seconds=0 if box.idle else box.poll_seconds)
        statuses.append(
            MailboxStatus(
                name=box.name,
                state=_state(row, now, silent_after),
                since=row.since if row else None,
                last_poll_at=row.last_poll_at if row else None,
                last_error=row.last_error if row else None,
                last_error_at=row.last_error_at if row else None,
                quarantined=quarantined(session, box.name),
            )
        )
    for name in sorted(n for n in rows if n.startswith(SERVICE) and n not in names):
        row = rows[name]
        statuses.append(
            MailboxStatus(
                name=name,
                state=_state(row, now, SILENT_AFTER),
                since=row.since,
                last_poll_at=row.last_poll_at,
                last_error=row.last_error,
                last_error_at=row.last_error_at,
                quarantined=0,
            )
        )
    return statuses


def service_key(name: str) -> str:
    """The health row of service ``name`` (not a mailbox): "service:outbox"."""
    return SERVICE + name


def quarantined(session: Session, mailbox: str) -> int:
    """Messages of ``mailbox`` in quarantine: the poller names their source ``imap:NAME/…``."""
    return session.execute(
        select(func.count())
        .select_from(RawInbound)
        .where(
            col(RawInbound.state) == RawState.QUARANTINED.value,
            col(RawInbound.source).startswith(f"imap:{mailbox}/", autoescape=True),
        )
    ).scalar_one()


class HealthRecorder:
    """What one poller tells the store about its mailbox; only the lease holder uses one."""

    def __init__(
        self, desk: Desk, mailbox: str, holder: str = "", *, poll_every: float = POLL_EVERY
    ) -> None:
        self.desk = desk
        self.mailbox = mailbox
        self.holder = holder
        self.poll_every = poll_every
        self._connected: bool | None = None  # what the row says, as far as we wrote it
        self._poll_written = -float("inf")  # monotonic time of the last stored good poll

    def connected(self) -> None:
        """Connected and logged in: written at once when it is news."""
        self._poll_written = -float("inf")  # the first good poll of a connection is news too
        if self._connected is not True:
            self._write(connected=True)

    def polled(self) -> None:
        """A sync finished without error; stored at most every ``poll_every`` seconds."""
        if self._connected is True and time.monotonic() - self._poll_written < self.poll_every:
            return
        self._poll_written = time.monotonic()
        self._write(connected=True, polled=True)

    def failed(self, error: str) -> None:
        """The connection failed or broke: disconnected, with the reason."""
        self._write(connected=False, error=one_line(error))

    def stopped(self) -> None:
        """Disconnected on purpose (stop, ``sdesk fetch`` done): no error."""
        if self._connected is not False:
            self._write(connected=False)

    def _write(self, *, connected: bool, polled: bool = False, error: str | None = None) -> None:
        try:
            with self.desk.store.write() as session:
                now = self.desk.clock()
                row = session.get(MailboxHealth, self.mailbox)
                # Up (or never seen) → down with an error: an event the alert rules may page on
                # (``channel.down``, keyed by the channel: repeats group onto one alert).
                went_down = error is not None and (row is None or row.connected)
                if row is None:
                    row = MailboxHealth(mailbox=self.mailbox, connected=connected, since=now)
                    session.add(row)
                elif row.connected != connected:
                    row.connected, row.since = connected, now
                if went_down:
                    events.record(
                        session, "channel.down", at=now, key=f"channel:{self.mailbox}",
                        text=f"{self.mailbox}: {error}",
                    )  # fmt: skip
                if polled:
                    row.last_poll_at = now
                if error is not None:
                    row.last_error, row.last_error_at = error, now
                row.holder = self.holder
        except (SQLAlchemyError, StoreError) as exc:
            log.warning("mailbox %s: could not store its health: %s", self.mailbox, exc)
            return
        self._connected = connected
