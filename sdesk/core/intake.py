"""``intake``: one inbound message into the store, exactly once, on the right ticket."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from sdesk.core import events
from sdesk.core.contacts import normalise
from sdesk.core.enums import AutoKind, Channel, MessageKind, Priority, RawState, Status
from sdesk.core.inbound import ContactRef, Inbound, Sender
from sdesk.core.sla import due_times
from sdesk.core.threads import chat_key, find_ticket
from sdesk.store.models import Attachment, Contact, Customer, Message, RawInbound, Ticket

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

SUBJECT_FROM_TEXT_CHARS = 80


class Outcome(StrEnum):
    CREATED = "created"  # a new ticket
    APPENDED = "appended"  # a message on an existing ticket
    DUPLICATE = "duplicate"  # seen before; nothing written
    QUARANTINED = "quarantined"  # kept raw with its error, for re-processing after a fix


@dataclass(frozen=True, slots=True)
class IntakeResult:
    outcome: Outcome
    ticket_number: int | None = None
    message_id: int | None = None
    auto: AutoKind | None = None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_key(inbound: Inbound) -> str:
    """A stable key for messages that come with neither an id nor raw bytes (JSON Lines)."""
    basis = json.dumps(
        [
            inbound.channel.value,
            sorted(f"{c.kind.value}:{c.value}" for c in inbound.sender.contacts),
            inbound.subject,
            inbound.text,
            inbound.sent_at.isoformat() if inbound.sent_at else None,
        ],
        ensure_ascii=False,
    )
    return "sha256:" + sha256_hex(basis.encode())


def raw_seen(session: Session, channel: Channel, digest: str) -> bool:
    """True when these exact bytes were stored or quarantined before (a cheap re-run skip)."""
    return (
        session.execute(
            select(RawInbound.id)
            .where(RawInbound.sha256 == digest, RawInbound.channel == channel.value)
            .limit(1)
        ).first()
        is not None
    )


def _existing(session: Session, channel: Channel, key: str) -> tuple[int, int | None] | None:
    row = session.execute(
        select(Message.id, Message.raw_id).where(
            Message.channel == channel.value, Message.external_id == key
        )
    ).first()
    return (row[0], row[1]) if row else None


def _idempotency_key(session: Session, inbound: Inbound, raw_sha: str | None) -> tuple[str, bool]:
    """(key, already stored). A reused id with different bytes falls back to the bytes' hash."""
    key = inbound.external_id
    if key:
        found = _existing(session, inbound.channel, key)
        if found is None:
            return key, False
        if raw_sha is None or found[1] is None:
            return key, True
        stored_sha = session.execute(
            select(RawInbound.sha256).where(RawInbound.id == found[1])
        ).scalar()
        if stored_sha == raw_sha:
            return key, True
    key = f"sha256:{raw_sha}" if raw_sha else content_key(inbound)
    return key, _existing(session, inbound.channel, key) is not None


def customer_for(session: Session, sender: Sender, at: datetime, region: str = "US") -> int:
    """Find the one customer behind any of the sender's contacts; add the contacts not yet known."""
    customer_id: int | None = None
    missing: list[ContactRef] = []
    # Adapters should hand in normalised contacts; normalising again costs little and means a
    # careless adapter can never split one person into two customers.
    refs = dict.fromkeys(
        ContactRef(c.kind, v) for c in sender.contacts if (v := normalise(c.kind, c.value, region))
    )
    for ref in refs:
        found = session.execute(
            select(Contact.customer_id).where(
                Contact.kind == ref.kind.value, Contact.value == ref.value
            )
        ).scalar()
        if found is None:
            missing.append(ref)
        elif customer_id is None:
            customer_id = found
    name = (sender.name or "").strip()
    if customer_id is None:
        fallback = next(iter(refs)).value if refs else "(unknown sender)"
        customer_id = session.execute(
            insert(Customer)
            .values(name=name or fallback, created_at=at, note="")
            .returning(Customer.id)
        ).scalar_one()
    elif name:
        session.execute(
            update(Customer)
            .where(
                Customer.id == customer_id,
                Customer.name.in_(["", *(r.value for r in refs)]),
            )
            .values(name=name)
        )
    for ref in missing:
        session.execute(
            insert(Contact).values(
                customer_id=customer_id,
                kind=ref.kind.value,
                value=ref.value,
                display=name,
                created_at=at,
            )
        )
    return customer_id


def _subject(inbound: Inbound) -> str:
    if inbound.subject.strip():
        return inbound.subject.strip()
    first_line = next((ln.strip() for ln in inbound.text.splitlines() if ln.strip()), "")
    if len(first_line) > SUBJECT_FROM_TEXT_CHARS:
        first_line = first_line[: SUBJECT_FROM_TEXT_CHARS - 1] + "…"
    return first_line or "(no subject)"


def _new_ticket(
    session: Session, desk: Desk, inbound: Inbound, customer_id: int, at: datetime
) -> tuple[int, int]:
    start = desk.settings.first_ticket_number - 1
    number = (session.execute(select(func.max(Ticket.number))).scalar() or start) + 1
    number = max(number, start + 1)
    priority = inbound.priority or Priority.NORMAL
    response_due, resolution_due = due_times(desk.settings.sla, priority, at)
    ticket_id = session.execute(
        insert(Ticket)
        .values(
            number=number,
            subject=_subject(inbound),
            status=Status.NEW.value,
            priority=priority.value,
            channel=inbound.channel.value,
            customer_id=customer_id,
            chat_key=chat_key(inbound),
            created_at=at,
            updated_at=at,
            last_message_at=at,
            first_response_due=response_due,
            resolution_due=resolution_due,
            version=1,
        )
        .returning(Ticket.id)
    ).scalar_one()
    return ticket_id, number


def _reply_address(inbound: Inbound) -> str | None:
    if inbound.channel is Channel.EMAIL:
        if inbound.reply_to:
            return inbound.reply_to
        return next((c.value for c in inbound.sender.contacts if c.kind.value == "email"), None)
    key = chat_key(inbound)
    return key.split(":", 1)[1] if key else None


def intake(session: Session, desk: Desk, inbound: Inbound) -> IntakeResult:
    """Store one inbound message; the caller owns the transaction."""
    at = desk.clock()
    raw_sha = sha256_hex(inbound.raw) if inbound.raw is not None else None
    key, duplicate = _idempotency_key(session, inbound, raw_sha)
    if duplicate:
        return IntakeResult(Outcome.DUPLICATE, auto=inbound.auto)
    created = inbound.sent_at or inbound.received_at or at
    received = inbound.received_at or at

    raw_id = None
    if inbound.raw is not None:
        raw_id = session.execute(
            insert(RawInbound)
            .values(
                channel=inbound.channel.value,
                sha256=raw_sha,
                external_id=inbound.external_id,
                source=inbound.source or "",
                raw=inbound.raw,
                state=RawState.STORED.value,
                received_at=received,
            )
            .returning(RawInbound.id)
        ).scalar_one()

    customer_id = customer_for(session, inbound.sender, received, desk.settings.default_region)
    ticket = find_ticket(session, inbound)
    follows = None
    if ticket is not None and ticket.status == Status.CLOSED.value:
        follows, ticket = ticket.number, None  # a closed ticket stays closed; start a new one
    if ticket is None:
        ticket_id, number = _new_ticket(session, desk, inbound, customer_id, received)
        outcome = Outcome.CREATED
        events.record(
            session,
            "ticket.created",
            at=received,
            ticket_id=ticket_id,
            actor=inbound.channel.value,
            number=number,
            follows=follows,
        )
    else:
        ticket_id, number, outcome = ticket.id, ticket.number, Outcome.APPENDED
        assert ticket_id is not None
        values: dict[str, object] = {
            "updated_at": received,
            "last_message_at": max(received, ticket.last_message_at),
            "version": Ticket.version + 1,
        }
        reopen = inbound.auto is None and ticket.status in (Status.RESOLVED, Status.PENDING)
        if reopen:
            values.update(status=Status.OPEN.value, resolved_at=None, pending_until=None)
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(**values))
        if reopen:
            events.record(
                session,
                "ticket.reopened",
                at=received,
                ticket_id=ticket_id,
                actor=inbound.channel.value,
                previous=ticket.status,
            )

    message_id = session.execute(
        insert(Message)
        .values(
            ticket_id=ticket_id,
            kind=(
                MessageKind.CALL if inbound.channel is Channel.PHONE else MessageKind.INBOUND
            ).value,
            channel=inbound.channel.value,
            external_id=key,
            message_id=inbound.message_id,
            in_reply_to=" ".join(inbound.in_reply_to) or None,
            references=" ".join(inbound.references) or None,
            subject=inbound.subject,
            text=inbound.text,
            author_customer_id=customer_id,
            author_name=inbound.sender.name or "",
            author_address=_reply_address(inbound),
            auto=inbound.auto.value if inbound.auto else None,
            created_at=created,
            received_at=received,
            raw_id=raw_id,
            notes="\n".join(inbound.notes),
        )
        .returning(Message.id)
    ).scalar_one()
    _store_attachments(session, desk, inbound, message_id)
    events.record(
        session,
        "message.received",
        at=received,
        ticket_id=ticket_id,
        actor=inbound.channel.value,
        message=message_id,
        auto=inbound.auto.value if inbound.auto else None,
    )
    return IntakeResult(outcome, number, message_id, inbound.auto)


def _store_attachments(session: Session, desk: Desk, inbound: Inbound, message_id: int) -> None:
    for att in inbound.attachments:
        if att.data is not None:
            digest, size, stored = desk.store.blobs.put(att.data), len(att.data), True
        elif att.sha256 and att.size is not None:
            digest, size = att.sha256, att.size
            stored = desk.store.blobs.has(digest)
        else:
            continue
        session.execute(
            insert(Attachment).values(
                message_id=message_id,
                filename=att.filename,
                content_type=att.content_type,
                size=size,
                sha256=digest,
                inline=att.inline,
                content_id=att.content_id,
                stored=stored,
            )
        )


def quarantine(
    session: Session,
    desk: Desk,
    *,
    channel: Channel,
    raw: bytes,
    error: str,
    source: str = "",
    external_id: str | None = None,
) -> IntakeResult:
    """Keep what could not be parsed, with its error; the same bytes are kept once."""
    digest = sha256_hex(raw)
    if raw_seen(session, channel, digest):
        return IntakeResult(Outcome.DUPLICATE)
    at = desk.clock()
    raw_id = session.execute(
        insert(RawInbound)
        .values(
            channel=channel.value,
            sha256=digest,
            external_id=external_id,
            source=source,
            raw=raw,
            state=RawState.QUARANTINED.value,
            error=error[:1000],
            received_at=at,
        )
        .returning(RawInbound.id)
    ).scalar_one()
    events.record(
        session,
        "message.quarantined",
        at=at,
        actor=channel.value,
        raw=raw_id,
        source=source,
        error=error[:200],
    )
    return IntakeResult(Outcome.QUARANTINED)
