"""Read models: plain dataclasses for the CLI and console, never live ORM rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Case, Select, case, select
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from sdesk.store.models import (
    Agent,
    Attachment,
    Contact,
    Customer,
    Event,
    Message,
    PhoneCall,
    Ticket,
)

ACTIVE = ("new", "open", "pending")
RUNNING = ("new", "open")  # active with the SLA clock running: pending stops it


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
    sla_due: datetime | None  # None while pending: the SLA clock is stopped
    version: int
    id: int
    pending_until: datetime | None = None  # "pending until …" (None: until the customer answers)
    snippet: str = ""  # search results only: the matching text, plain (store/fulltext.py)


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    filename: str
    content_type: str
    size: int
    sha256: str
    stored: bool


@dataclass(frozen=True, slots=True)
class CallRow:
    """A call-log entry's call (``phone_call``): its state as Twilio reports it."""

    direction: str
    state: str
    number: str
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int | None
    hangup_requested: bool
    error: str | None
    recording_url: str | None

    @property
    def active(self) -> bool:
        return self.state not in ENDED_CALL


ENDED_CALL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


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
    call: CallRow | None = None  # a call-log entry's call, when it went through Twilio


@dataclass(frozen=True, slots=True)
class TicketDetail:
    ticket: TicketRow
    customer_contacts: tuple[tuple[str, str], ...]
    messages: tuple[MessageRow, ...]
    events: tuple[EventRow, ...] = ()
    rating: int | None = None  # the customer's satisfaction, 1 to 5 (core/ratings.py)
    arrival_at: datetime | None = None  # when the field engineer arrives (core/arrival.py)

    @property
    def active_call(self) -> CallRow | None:
        """The ticket's call under way, if any (the newest)."""
        return next((m.call for m in reversed(self.messages) if m.call and m.call.active), None)


@dataclass(frozen=True, slots=True)
class EventRow:
    """A change to the ticket (assignment, status, priority …) for the thread's timeline."""

    kind: str
    actor: str
    data: dict[str, Any]
    created_at: datetime


# What the thread shows from the audit log; the rest (received, replied, noted) are messages.
TIMELINE_EVENTS = (
    "ticket.assigned",
    "ticket.status",
    "ticket.resolved",
    "ticket.closed",
    "ticket.priority",
    "ticket.rated",
    "message.retry",
    "autoreply.skipped",
)


def sla_due() -> Case[datetime | None]:
    """The next deadline that matters: first response until answered, then resolution.

    None while pending: the clock is stopped (core/pending.py), so a ticket waiting for the
    customer shows no countdown and sorts after every running deadline."""
    return case(
        (col(Ticket.status).notin_(RUNNING), None),
        (col(Ticket.first_response_at).is_(None), Ticket.first_response_due),
        else_=Ticket.resolution_due,
    )


def rows_query() -> Select[*tuple[Any, ...]]:
    """The inbox row of every ticket that was not merged away."""
    assignee = aliased(Agent)
    return (
        select(
            col(Ticket.number),
            col(Ticket.subject),
            col(Ticket.status),
            col(Ticket.priority),
            col(Ticket.channel),
            col(Customer.name),
            col(assignee.login),
            col(Ticket.created_at),
            col(Ticket.last_message_at),
            sla_due().label("sla_due"),
            col(Ticket.version),
            col(Ticket.id),
            col(Ticket.pending_until),
        )
        .join(Customer, col(Customer.id) == Ticket.customer_id)
        .outerjoin(assignee, col(assignee.id) == Ticket.assignee_id)
        .where(col(Ticket.merged_into_id).is_(None))
    )


def to_row(r: tuple[Any, ...]) -> TicketRow:
    return TicketRow(*r)


def current_number(session: Session, number: int) -> int | None:
    """The ticket a number now lives in: itself, or where it was merged (followed to the end)."""
    for _ in range(32):  # merge chains are short; the bound guards against a corrupt cycle
        row = session.execute(
            select(col(Ticket.merged_into_id)).where(col(Ticket.number) == number)
        ).first()
        if row is None:
            return None
        if row[0] is None:
            return number
        number = session.execute(
            select(col(Ticket.number)).where(col(Ticket.id) == row[0])
        ).scalar_one()
    return None


def ticket_detail(session: Session, number: int) -> TicketDetail | None:
    """The ticket with its thread; a merged ticket's number opens the ticket it went into."""
    found = current_number(session, number)
    if found is None:
        return None
    number = found
    row = session.execute(rows_query().where(col(Ticket.number) == number)).first()
    if row is None:
        return None
    ticket_id, customer_id, rating, arrival_at = session.execute(
        select(
            col(Ticket.id), col(Ticket.customer_id), col(Ticket.rating), col(Ticket.arrival_at)
        ).where(col(Ticket.number) == number)
    ).one()
    contacts = tuple(
        (k, v)
        for k, v in session.execute(
            select(col(Contact.kind), col(Contact.value))
            .where(col(Contact.customer_id) == customer_id)
            .order_by(col(Contact.id))
        )
    )
    messages = (
        session.execute(
            select(Message)
            .where(col(Message.ticket_id) == ticket_id)
            .order_by(col(Message.created_at), col(Message.id))
        )
        .scalars()
        .all()
    )
    atts: dict[int, list[AttachmentRow]] = {}
    for a in session.execute(
        select(Attachment).where(col(Attachment.message_id).in_([m.id for m in messages]))
    ).scalars():
        atts.setdefault(a.message_id, []).append(
            AttachmentRow(a.filename, a.content_type, a.size, a.sha256, a.stored)
        )
    calls = {
        c.message_id: CallRow(
            c.direction,
            c.state,
            c.customer_number,
            c.created_at,
            c.answered_at,
            c.ended_at,
            c.duration,
            c.hangup_at is not None,
            c.error,
            c.recording_url,
        )
        for c in session.execute(
            select(PhoneCall).where(col(PhoneCall.ticket_id) == ticket_id)
        ).scalars()
    }
    events = tuple(
        EventRow(kind, actor, _json(data), at)
        for kind, actor, data, at in session.execute(
            select(col(Event.kind), col(Event.actor), col(Event.data), col(Event.created_at))
            .where(col(Event.ticket_id) == ticket_id, col(Event.kind).in_(TIMELINE_EVENTS))
            .order_by(col(Event.created_at), col(Event.id))
        )
    )
    return TicketDetail(
        events=events,
        ticket=to_row(tuple(row)),
        customer_contacts=contacts,
        messages=tuple(_message_row(m, atts, calls) for m in messages),
        rating=rating,
        arrival_at=arrival_at,
    )


def _message_row(
    m: Message, atts: dict[int, list[AttachmentRow]], calls: dict[int, CallRow]
) -> MessageRow:
    assert m.id is not None  # a stored row
    return MessageRow(
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
        tuple(atts.get(m.id, [])),
        calls.get(m.id),
    )


@dataclass(frozen=True, slots=True)
class ContactRow:
    kind: str
    value: str
    display: str


@dataclass(frozen=True, slots=True)
class CustomerCard:
    """One person across every channel, with their other tickets (most recent first)."""

    id: int
    name: str
    note: str
    since: datetime
    contacts: tuple[ContactRow, ...]
    tickets: tuple[TicketRow, ...]
    more_tickets: bool

    @property
    def phones(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.contacts if c.kind == "phone")


def customer_card(session: Session, number: int, *, limit: int = 20) -> CustomerCard | None:
    """The card of the customer behind ticket ``number``."""
    customer = session.execute(
        select(Customer)
        .join(Ticket, col(Ticket.customer_id) == col(Customer.id))
        .where(col(Ticket.number) == number)
    ).scalar_one_or_none()
    if customer is None:
        return None
    contacts = tuple(
        ContactRow(*r)
        for r in session.execute(
            select(col(Contact.kind), col(Contact.value), col(Contact.display))
            .where(col(Contact.customer_id) == customer.id)
            .order_by(col(Contact.kind), col(Contact.id))
        )
    )
    rows = [
        to_row(r)
        for r in session.execute(
            rows_query()
            .where(col(Ticket.customer_id) == customer.id)
            .order_by(col(Ticket.last_message_at).desc(), col(Ticket.id).desc())
            .limit(limit + 1)
        )
    ]
    assert customer.id is not None
    return CustomerCard(
        customer.id,
        customer.name,
        customer.note,
        customer.created_at,
        contacts,
        tuple(rows[:limit]),
        len(rows) > limit,
    )


@dataclass(frozen=True, slots=True)
class AgentRow:
    login: str
    name: str  # the display name (``{agent}`` in canned responses); may be empty on old rows
    role: str

    @property
    def display(self) -> str:
        """How customers and colleagues see the agent: the name, else the login."""
        return self.name or self.login


def list_agents(session: Session) -> list[AgentRow]:
    query = (
        select(col(Agent.login), col(Agent.name), col(Agent.role))
        .where(col(Agent.active))
        .order_by(col(Agent.login))
    )
    return [AgentRow(*r) for r in session.execute(query)]


def agent_row(session: Session, login: str) -> AgentRow | None:
    query = select(col(Agent.login), col(Agent.name), col(Agent.role)).where(
        col(Agent.login) == login, col(Agent.active)
    )
    row = session.execute(query).first()
    return AgentRow(*row) if row else None


def _json(data: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
