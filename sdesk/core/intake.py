"""``intake``: one inbound message into the store, exactly once, on the right ticket."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sdesk.core import events, pending, ratings
from sdesk.core.contacts import normalise
from sdesk.core.enums import AutoKind, Channel, MessageKind, Priority, RawState, Status
from sdesk.core.inbound import ContactRef, Inbound, InboundAttachment, Sender
from sdesk.core.sla import due_times, hours_of
from sdesk.core.threads import ThreadTicket, chat_key, find_orphaned_reply, find_ticket
from sdesk.store.rawcodec import pack
from sdesk.store.rawsql import RawSql

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


def raw_seen(sql: RawSql, channel: Channel, digest: str) -> bool:
    """True when these exact bytes were stored or quarantined before (a cheap re-run skip)."""
    return (
        sql.one(
            "SELECT 1 FROM raw_inbound WHERE sha256 = ? AND channel = ? LIMIT 1",
            digest,
            channel.value,
        )
        is not None
    )


@dataclass(slots=True)
class Lookups:
    """What one write transaction's intakes have read already, so a batch of chat messages
    asks the store once instead of once a message (``core/chats.py``). Only for a transaction
    whose writes to these rows all go through ``intake`` (or clear the lookups): the write lock
    keeps everyone else out.

    ``absent``: external ids the batch asked for in one query and found not stored;
    ``customers``: (contact kind, normalised value) -> (customer id, name), None: no one's;
    ``chats``: chat key -> the ticket the chat's next message joins (None: a new one)."""

    absent: set[str] = field(default_factory=set)
    customers: dict[tuple[str, str], tuple[int, str] | None] = field(default_factory=dict)
    chats: dict[str, ThreadTicket | None] = field(default_factory=dict)

    def ticket_changed(self, ticket: ThreadTicket) -> None:
        """``ticket`` was opened, reopened or appended to: the chats that join it see it so."""
        for key, known in self.chats.items():
            if known is not None and known.id == ticket.id:
                self.chats[key] = ticket


def _idempotency_key(
    sql: RawSql, inbound: Inbound, raw_sha: str | None, lookups: Lookups | None = None
) -> tuple[str, bool]:
    """(key, already stored). A reused id with different bytes falls back to the bytes' hash."""
    channel = inbound.channel.value
    key = inbound.external_id
    if key and lookups is not None and key in lookups.absent:
        return key, False
    if key:
        found = sql.one(
            "SELECT m.id, r.sha256 FROM message m LEFT JOIN raw_inbound r ON r.id = m.raw_id "
            "WHERE m.channel = ? AND m.external_id = ?",
            channel,
            key,
        )
        if found is None:
            return key, False
        if raw_sha is None or found[1] is None or found[1] == raw_sha:
            return key, True
    key = f"sha256:{raw_sha}" if raw_sha else content_key(inbound)
    exists = sql.one("SELECT 1 FROM message WHERE channel = ? AND external_id = ?", channel, key)
    return key, exists is not None


def customer_for(
    sql: RawSql,
    sender: Sender,
    at: datetime,
    region: str = "US",
    known: dict[tuple[str, str], tuple[int, str] | None] | None = None,
) -> int:
    """Find the one customer behind any of the sender's contacts; add the contacts not yet known.
    ``known``: a batch's ``Lookups.customers``, read and kept up to date."""
    customer_id: int | None = None
    current_name = ""
    missing: list[ContactRef] = []
    owners: dict[ContactRef, int] = {}
    renamed = False
    # Adapters should hand in normalised contacts; normalising again costs little and means a
    # careless adapter can never split one person into two customers.
    refs = dict.fromkeys(
        ContactRef(c.kind, v) for c in sender.contacts if (v := normalise(c.kind, c.value, region))
    )
    for ref in refs:
        found: tuple[Any, ...] | None
        if known is not None and (ref.kind.value, ref.value) in known:
            found = known[(ref.kind.value, ref.value)]
        else:
            found = sql.one(
                "SELECT c.customer_id, cu.name FROM contact c JOIN customer cu "
                "ON cu.id = c.customer_id WHERE c.kind = ? AND c.value = ?",
                ref.kind.value,
                ref.value,
            )
        if found is None:
            missing.append(ref)
            continue
        owners[ref] = found[0]
        if customer_id is None:
            customer_id, current_name = found
    name = (sender.name or "").strip()
    when = sql.time(at)
    if customer_id is None:
        fallback = next(iter(refs)).value if refs else "(unknown sender)"
        current_name = name or fallback
        customer_id = sql.insert("customer", name=current_name, created_at=when, note="")
    elif name and (not current_name or any(current_name == r.value for r in refs)):
        # A customer known only by an address gets the name they now sign with.
        sql.run("UPDATE customer SET name = ? WHERE id = ?", name, customer_id)
        current_name, renamed = name, True
    for ref in missing:
        sql.run(
            "INSERT INTO contact (customer_id, kind, value, display, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            customer_id,
            ref.kind.value,
            ref.value,
            name,
            when,
        )
    if known is not None:
        if renamed:  # the customer's other contacts: the name as it is now
            for key, seen in known.items():
                if seen is not None and seen[0] == customer_id:
                    known[key] = (customer_id, current_name)
        for ref in refs:
            if owners.get(ref, customer_id) == customer_id:  # not another customer's contact
                known[(ref.kind.value, ref.value)] = (customer_id, current_name)
    return customer_id


def _subject(inbound: Inbound) -> str:
    if inbound.subject.strip():
        return inbound.subject.strip()
    first_line = next((ln.strip() for ln in inbound.text.splitlines() if ln.strip()), "")
    if len(first_line) > SUBJECT_FROM_TEXT_CHARS:
        first_line = first_line[: SUBJECT_FROM_TEXT_CHARS - 1] + "…"
    return first_line or "(no subject)"


def next_ticket_number(sql: RawSql, desk: Desk) -> int:
    start = desk.settings.first_ticket_number - 1
    return max(sql.scalar("SELECT max(number) FROM ticket") or start, start) + 1


class TicketNumbers:
    """Ticket numbers for one write transaction: the highest is read once; every ticket this
    transaction opens takes the next (the write lock keeps anyone else from adding one)."""

    def __init__(self) -> None:
        self.last: int | None = None

    def take(self, sql: RawSql, desk: Desk) -> int:
        number = next_ticket_number(sql, desk) if self.last is None else self.last + 1
        self.last = number
        return number


def _new_ticket(
    sql: RawSql,
    desk: Desk,
    inbound: Inbound,
    customer_id: int,
    at: datetime,
    numbers: TicketNumbers | None = None,
) -> tuple[int, int]:
    number = numbers.take(sql, desk) if numbers is not None else next_ticket_number(sql, desk)
    priority = inbound.priority or Priority.NORMAL
    response_due, resolution_due = due_times(
        desk.settings.sla, priority, at, hours_of(desk.settings)
    )
    when = sql.time(at)
    ticket_id = sql.insert(
        "ticket",
        number=number,
        subject=_subject(inbound),
        status=Status.NEW.value,
        priority=priority.value,
        channel=inbound.channel.value,
        customer_id=customer_id,
        chat_key=chat_key(inbound),
        created_at=when,
        updated_at=when,
        last_message_at=when,
        first_response_due=sql.time(response_due),
        resolution_due=sql.time(resolution_due),
        version=1,
    )
    return ticket_id, number


def _reply_address(inbound: Inbound) -> str | None:
    if inbound.channel is Channel.EMAIL:
        if inbound.reply_to:
            return inbound.reply_to
        return next((c.value for c in inbound.sender.contacts if c.kind.value == "email"), None)
    key = chat_key(inbound)
    return key.split(":", 1)[1] if key else None


def intake(
    sql: RawSql,
    desk: Desk,
    inbound: Inbound,
    *,
    quarantined_id: int | None = None,
    history: bool = False,
    numbers: TicketNumbers | None = None,
    lookups: Lookups | None = None,
) -> IntakeResult:
    """Store one inbound message; the caller owns the transaction.

    ``quarantined_id`` names the raw record of a quarantined message now parsed after a fix:
    its row is reused (and marked stored) rather than a second copy of the bytes kept.
    ``history`` (imports): the message arrived when it was sent, so a ticket is as old as its
    first message rather than as the import. ``numbers``: the transaction's ticket numbers
    (a batch of many messages reads the highest once); ``lookups``: what it has read already.
    """
    at = desk.clock()
    raw_sha = sha256_hex(inbound.raw) if inbound.raw is not None else None
    key, duplicate = _idempotency_key(sql, inbound, raw_sha, lookups)
    if duplicate:
        return IntakeResult(Outcome.DUPLICATE, auto=inbound.auto)
    received = (inbound.sent_at if history else None) or inbound.received_at or at
    created = inbound.sent_at or received
    channel = inbound.channel.value
    auto = inbound.auto.value if inbound.auto else None

    raw_id = quarantined_id
    if quarantined_id is not None:
        sql.run(
            "UPDATE raw_inbound SET state = ?, error = NULL, external_id = ? WHERE id = ?",
            RawState.STORED.value,
            inbound.external_id,
            quarantined_id,
        )
    elif inbound.raw is not None and raw_sha is not None:
        packed, codec = _packed(inbound, inbound.raw)
        raw_id = sql.insert(
            "raw_inbound",
            channel=channel,
            sha256=raw_sha,
            external_id=inbound.external_id,
            source=inbound.source or "",
            raw=packed,
            state=RawState.STORED.value,
            error=None,
            received_at=sql.time(received),
            raw_codec=codec,
            raw_size=len(inbound.raw),
        )
    customer_id = (
        inbound.customer_id
        if inbound.customer_id is not None
        else customer_for(
            sql, inbound.sender, received, desk.settings.default_region,
            lookups.customers if lookups is not None else None,
        )
    )  # fmt: skip
    chats = lookups.chats if lookups is not None else None
    ticket = (
        None
        if inbound.new_ticket
        else find_ticket(sql, inbound, chats) or find_orphaned_reply(sql, inbound)
    )
    follows = rated = None
    if (
        ticket is not None
        and inbound.auto is None
        and not history
        and ticket.status in (Status.CLOSED, Status.RESOLVED)
    ):  # "5!" after a satisfaction request rates the ticket (core/ratings.py)
        rated = ratings.reply_rating(
            sql, ticket.id, inbound.text, received, desk.settings.notify.rating_hours
        )
    if ticket is not None and ticket.status == Status.CLOSED.value and rated is None:
        follows, ticket = ticket.number, None  # a closed ticket stays closed; start a new one
    if ticket is None:
        ticket_id, number = _new_ticket(sql, desk, inbound, customer_id, received, numbers)
        outcome = Outcome.CREATED
        if chats is not None and (key_of_chat := chat_key(inbound)):
            chats[key_of_chat] = ThreadTicket(ticket_id, number, Status.NEW.value, received)
        events.record(
            sql,
            "ticket.created",
            at=received,
            ticket_id=ticket_id,
            actor=channel,
            number=number,
            follows=follows,
        )
    else:
        ticket_id, number, outcome = ticket.id, ticket.number, Outcome.APPENDED
        reopen = (
            rated is None
            and inbound.auto is None
            and ticket.status in (Status.RESOLVED, Status.PENDING)
        )
        when = sql.time(received)
        sql.run(
            "UPDATE ticket SET updated_at = ?, version = version + 1, "
            "last_message_at = CASE WHEN last_message_at < ? THEN ? ELSE last_message_at END"
            + (", status = 'open', resolved_at = NULL, pending_until = NULL" if reopen else "")
            + " WHERE id = ?",
            when,
            when,
            when,
            ticket_id,
        )
        if reopen and ticket.status == Status.PENDING:  # the SLA clock runs again
            pending.resume_raw(sql, ticket_id, received)
        if lookups is not None and reopen:
            lookups.ticket_changed(ThreadTicket(ticket_id, number, Status.OPEN.value, received))
        if reopen:
            events.record(
                sql,
                "ticket.reopened",
                at=received,
                ticket_id=ticket_id,
                actor=channel,
                previous=ticket.status,
            )

    kind = MessageKind.CALL if inbound.channel is Channel.PHONE else MessageKind.INBOUND
    message_id = sql.insert(
        "message",
        ticket_id=ticket_id,
        kind=kind.value,
        channel=channel,
        external_id=key,
        message_id=inbound.message_id,
        in_reply_to=" ".join(inbound.in_reply_to) or None,
        references=" ".join(inbound.references) or None,
        subject=inbound.subject,
        text=inbound.text,
        author_agent_id=None,
        author_customer_id=customer_id,
        author_name=inbound.sender.name or "",
        author_address=_reply_address(inbound),
        auto=auto,
        created_at=sql.time(created),
        received_at=sql.time(received),
        delivery_state=None,
        delivery_error=None,
        raw_id=raw_id,
        notes="\n".join(inbound.notes),
    )
    if lookups is not None:
        lookups.absent.discard(key)  # stored now: a second take of it must find it
    store_attachments(sql, desk, inbound.attachments, message_id)
    events.record(
        sql,
        "message.received",
        at=received,
        ticket_id=ticket_id,
        actor=channel,
        message=message_id,
        auto=auto,
    )
    return IntakeResult(outcome, number, message_id, inbound.auto)


def _packed(inbound: Inbound, raw: bytes) -> tuple[bytes, str | None]:
    """What ``raw_inbound`` keeps of ``raw``: compressed, the attachment bodies as references
    to their blobs, which store_attachments writes in this same transaction
    (store/rawcodec.py); as it came (codec NULL) when the channel packs it later
    (``Inbound.pack_later``, ``core/compact.py``)."""
    if inbound.pack_later:
        return raw, None
    return pack(raw, [(a.data, sha256_hex(a.data)) for a in inbound.attachments if a.data])


def store_attachments(
    sql: RawSql, desk: Desk, attachments: tuple[InboundAttachment, ...], message_id: int
) -> None:
    """Blobs by content; an attachment known only by metadata (an export) keeps its hash."""
    for att in attachments:
        if att.data is not None:
            digest, size, stored = desk.store.blobs.put_later(att.data), len(att.data), True
        elif att.sha256 and att.size is not None:
            digest, size = att.sha256, att.size
            stored = desk.store.blobs.has(digest)
        else:
            continue
        sql.run(
            "INSERT INTO attachment (message_id, filename, content_type, size, sha256, inline, "
            "content_id, stored) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            message_id,
            att.filename,
            att.content_type,
            size,
            digest,
            att.inline,
            att.content_id,
            stored,
        )


def quarantine(
    sql: RawSql,
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
    if raw_seen(sql, channel, digest):
        return IntakeResult(Outcome.DUPLICATE)
    at = desk.clock()
    packed, codec = pack(raw)  # the exact bytes come back for a retry (store/rawcodec.py)
    raw_id = sql.insert(
        "raw_inbound",
        channel=channel.value,
        sha256=digest,
        external_id=external_id,
        source=source,
        raw=packed,
        state=RawState.QUARANTINED.value,
        error=error[:1000],
        received_at=sql.time(at),
        raw_codec=codec,
        raw_size=len(raw),
    )
    events.record(
        sql,
        "message.quarantined",
        at=at,
        actor=channel.value,
        raw=raw_id,
        source=source,
        error=error[:200],
    )
    return IntakeResult(Outcome.QUARANTINED)
