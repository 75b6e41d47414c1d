"""Read models: plain dataclasses for the CLI and console, never live ORM rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select, text
from sqlalchemy.orm import Session, aliased

from sdesk.store.models import Agent, Attachment, Contact, Customer, Message, Ticket

ACTIVE = ("new", "open", "pending")


@dataclass(frozen=True, slots=True)
class TicketRow:
    number: int
    subject: str
    status: str
    priority: str
    channel: str
    customer: str
    assignee: str | None
    created_at: datetime
    last_message_at: datetime
    sla_due: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    filename: str
    content_type: str
    size: int
    sha256: str
    stored: bool


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: int
    kind: str
    channel: str
    author: str
    subject: str
    text: str
    created_at: datetime
    auto: str | None
    delivery_state: str | None
    delivery_error: str | None
    notes: str
    attachments: tuple[AttachmentRow, ...]


@dataclass(frozen=True, slots=True)
class TicketDetail:
    ticket: TicketRow
    customer_contacts: tuple[tuple[str, str], ...]
    messages: tuple[MessageRow, ...]


def _sla_due():  # type: ignore[no-untyped-def]
    """The next deadline that matters: first response until answered, then resolution."""
    return case(
        (Ticket.status.notin_(ACTIVE), None),
        (Ticket.first_response_at.is_(None), Ticket.first_response_due),
        else_=Ticket.resolution_due,
    )


def _rows_query():  # type: ignore[no-untyped-def]
    assignee = aliased(Agent)
    sla = _sla_due().label("sla_due")
    query = (
        select(
            Ticket.number,
            Ticket.subject,
            Ticket.status,
            Ticket.priority,
            Ticket.channel,
            Customer.name,
            assignee.login,
            Ticket.created_at,
            Ticket.last_message_at,
            sla,
            Ticket.version,
        )
        .join(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .where(Ticket.merged_into_id.is_(None))
    )
    return query, sla


def _to_row(r: tuple) -> TicketRow:  # type: ignore[type-arg]
    return TicketRow(*r)


def list_tickets(
    session: Session, *, limit: int = 50, status: str | None = None
) -> list[TicketRow]:
    """Most urgent SLA first; finished tickets after the active ones, newest first."""
    query, sla = _rows_query()
    if status:
        query = query.where(Ticket.status == status)
    query = query.order_by(sla.is_(None), sla, Ticket.last_message_at.desc(), Ticket.id)
    return [_to_row(r) for r in session.execute(query.limit(limit))]


def ticket_detail(session: Session, number: int) -> TicketDetail | None:
    query, _sla = _rows_query()
    row = session.execute(query.where(Ticket.number == number)).first()
    if row is None:
        return None
    ticket_id, customer_id = session.execute(
        select(Ticket.id, Ticket.customer_id).where(Ticket.number == number)
    ).one()
    contacts = tuple(
        (k, v)
        for k, v in session.execute(
            select(Contact.kind, Contact.value)
            .where(Contact.customer_id == customer_id)
            .order_by(Contact.id)
        )
    )
    messages = (
        session.execute(
            select(Message)
            .where(Message.ticket_id == ticket_id)
            .order_by(Message.created_at, Message.id)
        )
        .scalars()
        .all()
    )
    atts: dict[int, list[AttachmentRow]] = {}
    for a in session.execute(
        select(Attachment).where(Attachment.message_id.in_([m.id for m in messages]))
    ).scalars():
        atts.setdefault(a.message_id, []).append(
            AttachmentRow(a.filename, a.content_type, a.size, a.sha256, a.stored)
        )
    return TicketDetail(
        ticket=_to_row(tuple(row)),
        customer_contacts=contacts,
        messages=tuple(
            MessageRow(
                m.id,
                m.kind,
                m.channel,
                m.author_name,
                m.subject,
                m.text,
                m.created_at,
                m.auto,
                m.delivery_state,
                m.delivery_error,
                m.notes,
                tuple(atts.get(m.id, [])),  # type: ignore[arg-type]
            )
            for m in messages
        ),
    )


_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(user_query: str) -> str | None:
    """User words → an FTS5 query of quoted terms (prefix on the last), so no input is syntax."""
    words = _WORD.findall(user_query)[:16]
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def search_tickets(session: Session, user_query: str, *, limit: int = 50) -> list[TicketRow]:
    """Tickets whose subject or any message matches every word (SQLite FTS5)."""
    match = fts_query(user_query)
    if match is None:
        return []
    hits = text(
        "SELECT id FROM ticket WHERE id IN (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH :q)"
        " UNION SELECT ticket_id FROM message WHERE id IN "
        "(SELECT rowid FROM message_fts WHERE message_fts MATCH :q)"
    )
    ids = [r[0] for r in session.execute(hits, {"q": match})]
    if not ids:
        return []
    query, _sla = _rows_query()
    query = query.where(Ticket.id.in_(ids)).order_by(Ticket.last_message_at.desc()).limit(limit)
    return [_to_row(r) for r in session.execute(query)]
