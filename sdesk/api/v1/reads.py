"""What the API reads: plain rows out of short read sessions, scoped to the caller.

Scope is part of every query (a customer's token adds ``customer_id = ?``), so a ticket that is
not the caller's is simply not found: a 404, never a 403 that would tell it exists.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from sdesk.enums import MessageKind
from sdesk.store.contacts import contact_forms
from sdesk.store.models import Agent, Attachment, Contact, Customer, Message, Ticket
from sdesk.store.queries import current_number
from sdesk.store.rawsql import RawSql

# What a customer's or an integration's token sees of a thread: the customer's messages and the
# agents' replies, and the notices the desk sent them (a system entry with a delivery); never
# notes, call logs or other system entries (as the cabinet shows it).
PUBLIC_KINDS = (MessageKind.INBOUND.value, MessageKind.REPLY.value)
_PUBLIC_SQL = (
    f" AND (kind IN ({', '.join(repr(k) for k in PUBLIC_KINDS)})"
    f" OR (kind = '{MessageKind.SYSTEM.value}' AND delivery_state IS NOT NULL))"
)


def _public() -> Any:
    return col(Message.kind).in_(PUBLIC_KINDS) | (
        (col(Message.kind) == MessageKind.SYSTEM.value) & col(Message.delivery_state).is_not(None)
    )


@dataclass(frozen=True, slots=True)
class TicketScope:
    id: int
    number: int
    customer_id: int
    status: str
    channel: str


def find_ticket(session: Session, number: int, customer_id: int | None) -> TicketScope | None:
    """The ticket (a merged number: where it went), if the caller may see it."""
    found = current_number(session, number) if 0 < number < 2**31 else None
    if found is None:
        return None
    row = session.execute(
        select(
            col(Ticket.id),
            col(Ticket.number),
            col(Ticket.customer_id),
            col(Ticket.status),
            col(Ticket.channel),
        ).where(col(Ticket.number) == found)
    ).first()
    if row is None or (customer_id is not None and row[2] != customer_id):
        return None
    values: Any = tuple(row)
    return TicketScope(*values)


def _summary_query() -> Select[*tuple[Any, ...]]:
    assignee = aliased(Agent)
    query: Select[*tuple[Any, ...]] = (
        select(
            col(Ticket.number),
            col(Ticket.subject),
            col(Ticket.status),
            col(Ticket.priority),
            col(Ticket.channel),
            col(Customer.id),
            col(Customer.name),
            col(assignee.login),
            col(Ticket.created_at),
            col(Ticket.updated_at),
            col(Ticket.last_message_at),
            col(Ticket.rating),
            col(Ticket.version),
            col(Ticket.id),
        )
        .join(Customer, col(Customer.id) == col(Ticket.customer_id))
        .outerjoin(assignee, col(assignee.id) == col(Ticket.assignee_id))
        .where(col(Ticket.merged_into_id).is_(None))
    )
    return query


def ticket_summary(session: Session, ticket_id: int) -> tuple[Any, ...]:
    return tuple(session.execute(_summary_query().where(col(Ticket.id) == ticket_id)).one())


@dataclass(frozen=True, slots=True)
class TicketFilter:
    customer_id: int | None = None
    status: str | None = None
    priority: str | None = None
    channel: str | None = None
    assignee: str | None = None


def ticket_page(
    session: Session, flt: TicketFilter, limit: int, cursor: int | None
) -> tuple[list[tuple[Any, ...]], int | None]:
    """Newest first, keyed by the ticket's id: a page never repeats or skips a row when
    tickets arrive between pages. Returns the rows and the next page's key."""
    query = _summary_query()
    if flt.customer_id is not None:
        query = query.where(col(Ticket.customer_id) == flt.customer_id)
    if flt.status:
        query = query.where(col(Ticket.status) == flt.status)
    if flt.priority:
        query = query.where(col(Ticket.priority) == flt.priority)
    if flt.channel:
        query = query.where(col(Ticket.channel) == flt.channel)
    if flt.assignee:
        query = query.where(
            col(Ticket.assignee_id).in_(
                select(col(Agent.id)).where(col(Agent.login) == flt.assignee)
            )
        )
    if cursor is not None:
        query = query.where(col(Ticket.id) < cursor)
    query = query.order_by(col(Ticket.id).desc()).limit(limit + 1)
    rows = [tuple(r) for r in session.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1][-1] if more and rows else None)


def encode_cursor(ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"t{ticket_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not raw.startswith("t") or not raw[1:].isdigit() or len(raw) > 12:
        return None
    return int(raw[1:])


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    filename: str
    content_type: str
    size: int
    sha256: str
    stored: bool


@dataclass(frozen=True, slots=True)
class MessageInfo:
    id: int
    kind: str
    channel: str
    author: str
    text: str
    created_at: datetime
    delivery_state: str | None
    attachments: tuple[AttachmentInfo, ...]


def thread(
    session: Session, ticket_id: int, *, public: bool, message_id: int | None = None
) -> list[MessageInfo]:
    """The ticket's messages, oldest first; ``public``: without notes and system entries."""
    query = select(
        col(Message.id),
        col(Message.kind),
        col(Message.channel),
        col(Message.author_name),
        col(Message.text),
        col(Message.created_at),
        col(Message.delivery_state),
    ).where(col(Message.ticket_id) == ticket_id)
    if public:
        query = query.where(_public())
    if message_id is not None:
        query = query.where(col(Message.id) == message_id)
    rows = session.execute(query.order_by(col(Message.created_at), col(Message.id))).all()
    files: dict[int, list[AttachmentInfo]] = {}
    if rows:
        for a in session.execute(
            select(Attachment)
            .where(col(Attachment.message_id).in_([r[0] for r in rows]))
            .order_by(col(Attachment.id))
        ).scalars():
            files.setdefault(a.message_id, []).append(
                AttachmentInfo(a.filename, a.content_type, a.size, a.sha256, a.stored)
            )
    out = []
    for r in rows:
        mid, kind, channel, author, text, at, state = r
        assert mid is not None  # a stored row
        out.append(
            MessageInfo(mid, kind, channel, author, text, at, state, tuple(files.get(mid, ())))
        )
    return out


def attachment(
    session: Session, ticket_id: int, sha256: str, *, public: bool
) -> AttachmentInfo | None:
    """A file on a message of the ticket the caller may see (notes' files: agents only)."""
    query = (
        select(Attachment)
        .join(Message, col(Message.id) == col(Attachment.message_id))
        .where(col(Message.ticket_id) == ticket_id, col(Attachment.sha256) == sha256)
    )
    if public:
        query = query.where(col(Message.kind).in_(PUBLIC_KINDS))
    a = session.execute(query.limit(1)).scalars().first()
    if a is None:
        return None
    return AttachmentInfo(a.filename, a.content_type, a.size, a.sha256, a.stored)


@dataclass(frozen=True, slots=True)
class CustomerInfo:
    id: int
    name: str
    created_at: datetime
    contacts: tuple[tuple[str, str], ...]


def customer(session: Session, customer_id: int) -> CustomerInfo | None:
    row = session.get(Customer, customer_id) if 0 < customer_id < 2**63 else None
    if row is None or row.id is None:
        return None
    contacts = tuple(
        (k, v)
        for k, v in session.execute(
            select(col(Contact.kind), col(Contact.value))
            .where(col(Contact.customer_id) == row.id)
            .order_by(col(Contact.id))
        )
    )
    return CustomerInfo(row.id, row.name, row.created_at, contacts)


def customers_by_contact(session: Session, query: str, region: str) -> list[int]:
    """The customers whose contact is exactly ``query`` (an email, a phone in any format, a
    Telegram id or an account id), in their stored normal form."""
    ids: list[int] = []
    for kind, value in contact_forms(query, region):
        for (customer_id,) in session.execute(
            select(col(Contact.customer_id)).where(
                col(Contact.kind) == kind, col(Contact.value) == value
            )
        ):
            if customer_id not in ids:
                ids.append(customer_id)
    return ids


def message_ticket(session: Session, external_id: str) -> tuple[int, int] | None:
    """(ticket number, message id) of the message intake stored under ``external_id`` (api)."""
    row = session.execute(
        select(col(Ticket.number), col(Message.id))
        .join(Ticket, col(Ticket.id) == col(Message.ticket_id))
        .where(
            col(Message.channel).in_(("api", "web", "app")),
            col(Message.external_id) == external_id,
        )
    ).first()
    return (row[0], row[1] or 0) if row else None


# -- the same reads in plain SQL, for the answer built inside a ticket create's transaction -----
# (it runs in the group commit, one job after another: each statement there costs every
# waiting request; SQLAlchemy's select construction cost more than the query itself)

_SUMMARY_SQL = (
    "SELECT t.number, t.subject, t.status, t.priority, t.channel, c.id, c.name, a.login, "
    "t.created_at, t.updated_at, t.last_message_at, t.rating, t.version, t.id "
    "FROM ticket t JOIN customer c ON c.id = t.customer_id "
    "LEFT JOIN agent a ON a.id = t.assignee_id WHERE t.number = ?"
)


def _when(value: Any) -> Any:
    if isinstance(value, str):  # SQLite hands raw SQL its text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) else value


def summary_raw(sql: RawSql, number: int) -> tuple[Any, ...] | None:
    row = sql.one(_SUMMARY_SQL, number)
    if row is None:
        return None
    return (*row[:8], _when(row[8]), _when(row[9]), _when(row[10]), *row[11:])


def thread_raw(sql: RawSql, ticket_id: int, *, public: bool) -> list[MessageInfo]:
    kinds = _PUBLIC_SQL if public else ""
    rows = sql.all(
        "SELECT id, kind, channel, author_name, text, created_at, delivery_state FROM message "
        f"WHERE ticket_id = ?{kinds} ORDER BY created_at, id",
        ticket_id,
    )
    files: dict[int, list[AttachmentInfo]] = {}
    if rows:
        marks = ", ".join("?" for _ in rows)
        for mid, name, ctype, size, digest, stored in sql.all(
            "SELECT message_id, filename, content_type, size, sha256, stored FROM attachment "
            f"WHERE message_id IN ({marks}) ORDER BY id",
            *(r[0] for r in rows),
        ):
            files.setdefault(mid, []).append(
                AttachmentInfo(name, ctype, size, digest, bool(stored))
            )
    return [
        MessageInfo(mid, kind, channel, author, text, _when(at), state, tuple(files.get(mid, ())))
        for mid, kind, channel, author, text, at, state in rows
    ]
