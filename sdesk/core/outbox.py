"""The outbox dispatcher's bookkeeping: claim what is due, record what became of it.

Sending happens between ``claim`` and ``settle`` outside any transaction, so a slow server never
holds the database. A temporary failure (4xx, a network error) is retried with backoff; a
permanent one (5xx) or the last attempt marks the message failed with the server's reason, on the
ticket, where the operator can retry it. Each result records an event, so consoles refresh.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core import events
from sdesk.core.enums import DeliveryState
from sdesk.store.models import Message, Outbox

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

RETRY_AFTER = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
)
MAX_ATTEMPTS = len(RETRY_AFTER) + 1
STALE_SENDING = timedelta(minutes=10)  # a "sending" row this old lost its dispatcher


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    kind: str
    channel: str
    recipient: str
    payload: dict[str, Any]
    attempts: int
    ticket_id: int | None
    message_id: int | None
    parts_sent: int = 0  # a send in parts: how many went on earlier tries (``progress``)
    sent_ref: str | None = None  # the channel's id of the last of them


def queue(
    session: Session,
    *,
    kind: str,
    channel: str,
    ticket_id: int | None,
    message_id: int | None,
    recipient: str,
    payload: dict[str, Any],
    at: datetime,
    key: str,
) -> None:
    """One row for the dispatcher, due now; ``key`` makes queuing the same thing twice fail.
    A mail that belongs to no ticket (a sign-in link) has neither ticket nor message."""
    session.add(
        Outbox(
            kind=kind,
            channel=channel,
            ticket_id=ticket_id,
            message_id=message_id,
            recipient=recipient,
            payload=json.dumps(payload, ensure_ascii=False),
            state=DeliveryState.QUEUED.value,
            next_attempt_at=at,
            created_at=at,
            idempotency_key=key,
        )
    )


def claim(desk: Desk, channel: str, *, limit: int = 20) -> list[Claimed]:
    """Take up to ``limit`` due rows of ``channel`` (state → sending, attempts + 1)."""
    now = desk.clock()
    with desk.store.write() as session:
        rows = (
            session.execute(
                select(Outbox)
                .where(
                    col(Outbox.channel) == channel,
                    (
                        (col(Outbox.state) == DeliveryState.QUEUED.value)
                        & (col(Outbox.next_attempt_at) <= now)
                    )
                    | (
                        (Outbox.state == DeliveryState.SENDING.value)
                        & (Outbox.next_attempt_at <= now - STALE_SENDING)
                    ),
                )
                .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
                .limit(limit)
            )
            .scalars()
            .all()
        )
        claimed = []
        for row in rows:
            row.state = DeliveryState.SENDING.value
            row.attempts += 1
            row.next_attempt_at = now
            _set_message(session, row.message_id, DeliveryState.SENDING, None)
            assert row.id is not None
            claimed.append(
                Claimed(
                    row.id,
                    row.kind,
                    row.channel,
                    row.recipient,
                    json.loads(row.payload or "{}"),
                    row.attempts,
                    row.ticket_id,
                    row.message_id,
                    row.parts_sent or 0,
                    row.sent_ref,
                )
            )
        return claimed


def progress(desk: Desk, item: Claimed, parts: int, ref: str | None) -> None:
    """A send in parts got ``parts`` parts out, the last named ``ref``: kept at once (its own
    small transaction), so a crash or a restart before ``settle`` resumes from the next part
    instead of sending these again."""
    with desk.store.write() as session:
        row = session.get(Outbox, item.id)
        if row is not None:
            row.parts_sent, row.sent_ref = parts, ref or row.sent_ref


def settle(
    desk: Desk,
    item: Claimed,
    *,
    error: str = "",
    permanent: bool = False,
    retry_in: timedelta | None = None,
    ref: str | None = None,
) -> str:
    """Record a send's result; returns the row's new state. ``retry_in``: the server said when
    to try again (Telegram's 429 ``retry_after``), instead of the usual backoff; ``ref``: the
    channel's id of the sent message (a customer's reply to it threads onto the ticket)."""
    now = desk.clock()
    with desk.store.write() as session:
        row = session.get(Outbox, item.id)
        if row is None:
            return "gone"
        if not error:
            row.state, row.sent_at, row.last_error = DeliveryState.SENT.value, now, None
            _set_message(session, row.message_id, DeliveryState.SENT, None)
            if ref and row.message_id is not None:
                sent = session.get(Message, row.message_id)
                if sent is not None and sent.message_id is None:
                    sent.message_id = ref
            kind = "message.sent"
        elif permanent or row.attempts >= MAX_ATTEMPTS:
            row.state, row.last_error = DeliveryState.FAILED.value, error[:1000]
            _set_message(session, row.message_id, DeliveryState.FAILED, error[:1000])
            kind = "message.failed"
        else:
            row.state, row.last_error = DeliveryState.QUEUED.value, error[:1000]
            if retry_in is not None:  # the server's word; this try does not count
                row.attempts = max(0, row.attempts - 1)
                row.next_attempt_at = now + retry_in
            else:
                row.next_attempt_at = now + RETRY_AFTER[min(row.attempts, len(RETRY_AFTER)) - 1]
            _set_message(session, row.message_id, DeliveryState.QUEUED, error[:1000])
            kind = "message.deferred"
        events.record(
            session,
            kind,
            at=now,
            ticket_id=row.ticket_id,
            outbox=row.id,
            attempts=row.attempts,
            error=error[:300] or None,
        )
        return row.state


def _set_message(
    session: Any, message_id: int | None, state: DeliveryState, error: str | None
) -> None:
    if message_id is None:
        return
    message = session.get(Message, message_id)
    if message is not None:
        message.delivery_state, message.delivery_error = state.value, error


def unclaim(desk: Desk, items: list[Claimed]) -> None:
    """Put claimed rows that were never handed to a sender back in the queue as they were (a
    stop between claim and send): a row is never left "sending" by a dispatcher that stopped."""
    if not items:
        return
    now = desk.clock()
    with desk.store.write() as session:
        for item in items:
            row = session.get(Outbox, item.id)
            if row is None or row.state != DeliveryState.SENDING.value:
                continue
            row.state, row.next_attempt_at = DeliveryState.QUEUED.value, now
            row.attempts = max(0, row.attempts - 1)
            _set_message(session, row.message_id, DeliveryState.QUEUED, row.last_error)
