"""The automatic acknowledgement: one mail to the customer when their email opens a ticket.

It reads ``ticket.created`` events after a stored cursor instead of hooking into intake, so
intake stays a pure store step and every decision is made once: the outbox rows, the skip
events and the cursor move in ONE transaction. A crash before the commit redoes the batch;
after it, nothing is redone, so a restart never acknowledges twice (the outbox's unique
idempotency key backs that up).

Rule 9 (outbound safety): nothing automatic goes to anything automated — mail intake flagged
(RFC 3834 Auto-Submitted, Precedence, List-Id, X-Autoreply, empty Return-Path, bounces), mail
whose raw headers say so (the channel's ``robot_check``), noreply-like and list-robot addresses —
and at most ``per_recipient_limit`` automatic mails go to one address per window. Every skip is
an ``autoreply.skipped`` event with its reason.

The cursor is an event id. On SQLite writers are serial, so ids commit in order; on PostgreSQL
a slow intake could commit a lower id after a higher one was read and be passed over (not
doubled): a small lag on ``created_at`` would close that gap if it ever matters.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core import events, outbox
from sdesk.core.cursors import Cursor, get_cursor, set_cursor
from sdesk.core.enums import Channel, DeliveryState, MessageKind, Status
from sdesk.core.replies import MAX_REFERENCES, tagged_subject
from sdesk.store.models import Customer, Event, Message, Outbox, RawInbound, Ticket

if TYPE_CHECKING:
    from sdesk.config import AutoreplySettings
    from sdesk.core.desk import Desk

CURSOR_CHANNEL, CURSOR_ACCOUNT = "autoreply", "acknowledgement"
OUTBOX_KIND = "autoreply"  # every automatic mail counts toward the per-recipient cap
AUTHOR = "Automatic acknowledgement"
BATCH = 200
LIVE_SOURCE = "imap:"  # only mail fetched from a mailbox; an imported archive is history

# A robot's raw headers → why it is one, or None (supplied by the email channel).
RobotCheck = Callable[[bytes], str | None]

_PLACEHOLDER = re.compile(r"\{(customer|ticket|subject)\}")
_ROBOT_NAMES = frozenset(
    {"mailer-daemon", "postmaster", "listserv", "majordomo", "listproc", "bounce", "bounces"}
)


@dataclass(slots=True)
class AckReport:
    queued: int = 0
    skipped: int = 0


def robot_address(address: str) -> str | None:
    """Why ``address`` belongs to a robot (noreply, MAILER-DAEMON, list robots), or None."""
    local = address.rpartition("@")[0].lower() if "@" in address else address.lower()
    local = local.split("+", 1)[0]
    squashed = re.sub(r"[-_.]", "", local)
    if "noreply" in squashed or "donotreply" in squashed:
        return f"a no-reply address ({address})"
    if (
        local in _ROBOT_NAMES
        or local.startswith("owner-")
        or local.endswith(("-request", "-bounce", "-bounces"))
    ):
        return f"a mail robot's address ({address})"
    return None


def fill(template: str, values: dict[str, str]) -> str:
    """One pass over known placeholders only: a customer's ``{ticket}`` in a subject stays text,
    and stray braces in the template are kept as typed."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def acknowledge_new_tickets(
    desk: Desk, *, robot_check: RobotCheck | None = None, limit: int = BATCH
) -> AckReport:
    """Queue the acknowledgements of tickets opened since the cursor; one transaction."""
    settings = desk.settings.autoreply
    report = AckReport()
    if not settings.enabled:
        return report
    with desk.store.write() as session:
        now = desk.clock()
        cursor = get_cursor(session, CURSOR_CHANNEL, CURSOR_ACCOUNT)
        after = int(cursor.position) if cursor else _first_run_start(session, now, settings)
        rows = session.execute(
            select(col(Event.id), col(Event.ticket_id))
            .where(col(Event.kind) == "ticket.created", col(Event.id) > after)
            .order_by(col(Event.id))
            .limit(limit)
        ).all()
        for _event_id, ticket_id in rows:
            if ticket_id is not None:
                _consider(session, desk, settings, ticket_id, now, robot_check, report)
        last = rows[-1][0] if rows else after
        if cursor is None or last != after:
            set_cursor(session, CURSOR_CHANNEL, CURSOR_ACCOUNT, "", Cursor(None, str(last)), now)
    return report


def _first_run_start(session: Session, now: datetime, settings: AutoreplySettings) -> int:
    """Switched on for a desk with history: begin where mail is still young enough to answer,
    rather than walk (and skip one by one) every ticket the desk ever had."""
    horizon = now - timedelta(hours=settings.max_age_hours)
    found = session.execute(
        select(func.max(col(Event.id))).where(col(Event.created_at) < horizon)
    ).scalar_one_or_none()
    return int(found or 0)


def _consider(
    session: Session,
    desk: Desk,
    settings: AutoreplySettings,
    ticket_id: int,
    now: datetime,
    robot_check: RobotCheck | None,
    report: AckReport,
) -> None:
    ticket = session.get(Ticket, ticket_id)
    first = session.execute(
        select(Message)
        .where(col(Message.ticket_id) == ticket_id, col(Message.kind) == MessageKind.INBOUND.value)
        .order_by(col(Message.id))
        .limit(1)
    ).scalar_one_or_none()
    if ticket is None or first is None or first.channel != Channel.EMAIL.value:
        return  # not a ticket an email opened: acknowledgements are for mail only
    raw = session.get(RawInbound, first.raw_id) if first.raw_id is not None else None
    if raw is None or not raw.source.startswith(LIVE_SOURCE):
        return  # imported history, not a customer writing now
    address = parseaddr(first.author_address or "")[1].strip().lower()

    def check() -> str | None:  # the exact raw bytes, attachment bodies read from their files
        return robot_check(raw.original(desk.store.blobs.get)) if robot_check else None

    reason = _why_not(session, settings, ticket, first, address, now, check)
    if reason is None and address in {m.address.lower() for m in desk.settings.mailboxes}:
        reason = "the desk's own address"  # answering ourselves is how mail loops start
    if reason is not None:
        report.skipped += 1
        events.record(
            session, "autoreply.skipped", at=now, ticket_id=ticket_id, to=address, reason=reason
        )
        return
    _queue(session, desk, settings, ticket, first, address, now)
    report.queued += 1


def _why_not(
    session: Session,
    settings: AutoreplySettings,
    ticket: Ticket,
    first: Message,
    address: str,
    now: datetime,
    robot_check: Callable[[], str | None],
) -> str | None:
    if first.auto:
        return f"automated mail ({first.auto.replace('_', ' ')})"
    if why := robot_check():
        return why
    if not address or "@" not in address:
        return "no address to answer"
    if why := robot_address(address):
        return why
    if now - first.created_at > timedelta(hours=settings.max_age_hours):
        return f"the mail is older than {settings.max_age_hours:g} h"
    if ticket.merged_into_id is not None or ticket.status == Status.CLOSED.value:
        return "the ticket is closed"
    answered = session.execute(
        select(col(Message.id))
        .where(col(Message.ticket_id) == ticket.id, col(Message.kind) == MessageKind.REPLY.value)
        .limit(1)
    ).first()
    if answered:
        return "an agent already answered"
    since = now - timedelta(hours=settings.per_recipient_hours)
    sent = session.execute(
        select(func.count())
        .select_from(Outbox)
        .where(
            col(Outbox.kind) == OUTBOX_KIND,
            func.lower(Outbox.recipient) == address,
            col(Outbox.created_at) > since,
        )
    ).scalar_one()
    if sent >= settings.per_recipient_limit:
        return (
            f"cap: {sent} automatic mails to {address} in the last "
            f"{settings.per_recipient_hours:g} h (limit {settings.per_recipient_limit})"
        )
    return None


def _queue(
    session: Session,
    desk: Desk,
    settings: AutoreplySettings,
    ticket: Ticket,
    first: Message,
    address: str,
    now: datetime,
) -> None:
    """The acknowledgement as a system message on the ticket plus its outbox row; the ticket
    itself is untouched (an acknowledgement is no first response for the SLA)."""
    assert ticket.id is not None
    key = f"{OUTBOX_KIND}:{ticket.id}"
    if session.execute(select(col(Outbox.id)).where(col(Outbox.idempotency_key) == key)).first():
        return  # queued before (a cursor reset): the key makes it once, whatever happened
    customer = session.get(Customer, ticket.customer_id)
    name = (first.author_name or (customer.name if customer else "") or "").strip()
    if "@" in name:
        name = ""  # a customer known only by an address is greeted, not addressed by it
    values = {
        "customer": name.split()[0] if name.split() else "there",
        "ticket": str(ticket.number),
        "subject": ticket.subject,
    }
    subject = tagged_subject(fill(settings.subject, values), ticket.number)
    text = fill(settings.body, values)
    message_id = f"sdesk.{ticket.number}.ack.{uuid.uuid4().hex[:16]}@{desk.settings.desk_domain}"
    references = [
        *(first.references or "").split(),
        *([first.message_id] if first.message_id else []),
    ][-MAX_REFERENCES:]
    payload = {
        "ticket": ticket.number,
        "subject": subject,
        "message_id": message_id,
        "in_reply_to": first.message_id,
        "references": references,
        "text": text,
        "automatic": True,
    }
    row = Message(
        ticket_id=ticket.id,
        kind=MessageKind.SYSTEM.value,
        channel=Channel.EMAIL.value,
        external_id=message_id,
        message_id=message_id,
        in_reply_to=first.message_id,
        references=" ".join(references) or None,
        subject=subject,
        text=text,
        author_name=AUTHOR,
        author_address=address,
        created_at=now,
        received_at=now,
        delivery_state=DeliveryState.QUEUED.value,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    outbox.queue(
        session,
        kind=OUTBOX_KIND,
        channel=Channel.EMAIL.value,
        ticket_id=ticket.id,
        message_id=row.id,
        recipient=address,
        payload=payload,
        at=now,
        key=key,
    )
    session.flush()  # the next ticket of this batch counts this mail toward the cap
    events.record(
        session, "autoreply.queued", at=now, ticket_id=ticket.id, message=row.id, to=address
    )
