"""What a customer may see of the desk (the web cabinet): their tickets and, of a ticket's
thread, what was said between them and the desk — their messages and the agents' replies,
the notices the desk sent them; never internal notes, call logs or other system entries.
Plain dataclasses (ARCHITECTURE.md, layers).

Every query is scoped by the customer: another customer's ticket or file is simply not
found, whatever number or id is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.enums import MessageKind
from sdesk.store.models import Attachment, Message, Ticket

SHOWN_KINDS = (MessageKind.INBOUND.value, MessageKind.REPLY.value)
MAX_TICKETS = 200
MAX_MESSAGES = 500
_MERGE_HOPS = 50


@dataclass(frozen=True, slots=True)
class CustomerTicket:
    number: int
    subject: str
    status: str
    created_at: datetime
    updated_at: datetime
    rating: int | None


@dataclass(frozen=True, slots=True)
class SharedFile:
    id: int
    filename: str
    size: int
    stored: bool


@dataclass(frozen=True, slots=True)
class SharedMessage:
    """``from_desk``: an agent's reply (else the customer's own message)."""

    id: int
    from_desk: bool
    author: str
    text: str
    created_at: datetime
    files: tuple[SharedFile, ...]


@dataclass(frozen=True, slots=True)
class CustomerThread:
    ticket: CustomerTicket
    messages: tuple[SharedMessage, ...]
    cut: bool  # more than MAX_MESSAGES: the oldest are left out


@dataclass(frozen=True, slots=True)
class FileBody:
    filename: str
    sha256: str
    size: int


def _ticket_row(t: Ticket) -> CustomerTicket:
    return CustomerTicket(t.number, t.subject, t.status, t.created_at, t.updated_at, t.rating)


def tickets_of(
    session: Session, customer_id: int, limit: int = MAX_TICKETS
) -> list[CustomerTicket]:
    """The customer's tickets, latest activity first (merged ones live on in their target)."""
    rows = session.execute(
        select(Ticket)
        .where(col(Ticket.customer_id) == customer_id, col(Ticket.merged_into_id).is_(None))
        .order_by(col(Ticket.last_message_at).desc(), col(Ticket.id).desc())
        .limit(limit)
    ).scalars()
    return [_ticket_row(t) for t in rows]


def own_ticket(session: Session, customer_id: int, number: int) -> Ticket | None:
    """Ticket ``number`` when it is the customer's (a merged one: the ticket it went into)."""
    ticket = session.execute(
        select(Ticket).where(col(Ticket.number) == number)
    ).scalar_one_or_none()
    for _ in range(_MERGE_HOPS):
        if ticket is None or ticket.merged_into_id is None:
            break
        ticket = session.get(Ticket, ticket.merged_into_id)
    if ticket is None or ticket.customer_id != customer_id or ticket.merged_into_id is not None:
        return None
    return ticket


def thread_of(session: Session, customer_id: int, number: int) -> CustomerThread | None:
    ticket = own_ticket(session, customer_id, number)
    if ticket is None:
        return None
    rows = list(
        session.execute(
            select(Message)
            .where(
                col(Message.ticket_id) == ticket.id,
                col(Message.kind).in_(SHOWN_KINDS)
                # What the desk sent the customer on its own (notices, acknowledgements) has a
                # delivery; a system entry for agents (a merge) has none and stays hidden.
                | (
                    (col(Message.kind) == MessageKind.SYSTEM.value)
                    & col(Message.delivery_state).is_not(None)
                ),
            )
            .order_by(col(Message.created_at).desc(), col(Message.id).desc())
            .limit(MAX_MESSAGES + 1)
        ).scalars()
    )
    cut = len(rows) > MAX_MESSAGES
    rows = rows[:MAX_MESSAGES][::-1]
    files: dict[int, list[SharedFile]] = {}
    ids = [m.id for m in rows if m.id is not None]
    if ids:
        for a in session.execute(
            select(Attachment)
            .where(col(Attachment.message_id).in_(ids))
            .order_by(col(Attachment.id))
        ).scalars():
            assert a.id is not None
            files.setdefault(a.message_id, []).append(
                SharedFile(a.id, a.filename, a.size, a.stored)
            )
    messages = tuple(
        SharedMessage(
            id=m.id or 0,
            from_desk=m.kind != MessageKind.INBOUND.value,
            author=m.author_name,
            text=m.text,
            created_at=m.created_at,
            files=tuple(files.get(m.id or 0, ())),
        )
        for m in rows
    )
    return CustomerThread(_ticket_row(ticket), messages, cut)


def file_of(session: Session, customer_id: int, number: int, file_id: int) -> FileBody | None:
    """A file on a shown message of the customer's ticket ``number``; None for anything else."""
    ticket = own_ticket(session, customer_id, number)
    if ticket is None:
        return None
    row = session.execute(
        select(Attachment)
        .join(Message, col(Message.id) == col(Attachment.message_id))
        .where(
            col(Attachment.id) == file_id,
            col(Message.ticket_id) == ticket.id,
            col(Message.kind).in_(SHOWN_KINDS),
            col(Attachment.stored).is_(True),
        )
    ).scalar_one_or_none()
    return FileBody(row.filename, row.sha256, row.size) if row is not None else None
