"""Bringing whole tickets in from an sdesk export, so desk A → export → desk B keeps threads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core import events
from sdesk.core.enums import Channel, MessageKind, Priority, Status
from sdesk.core.inbound import InboundAttachment, Sender
from sdesk.core.intake import IntakeResult, Outcome, customer_for, store_attachments
from sdesk.core.sla import due_times, hours_of
from sdesk.store.models import Agent, Message, Ticket
from sdesk.store.rawsql import RawSql

if TYPE_CHECKING:
    from sdesk.core.desk import Desk


@dataclass(frozen=True, slots=True)
class ImportedMessage:
    kind: MessageKind
    channel: Channel
    external_id: str
    text: str
    created_at: datetime
    subject: str = ""
    author_name: str = ""
    author_agent: str | None = None
    author_address: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: str | None = None
    auto: str | None = None
    delivery_state: str | None = None
    attachments: tuple[InboundAttachment, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportedTicket:
    number: int | None
    subject: str
    status: Status
    priority: Priority
    channel: Channel
    customer: Sender
    created_at: datetime
    messages: tuple[ImportedMessage, ...]
    assignee: str | None = None
    updated_at: datetime | None = None
    chat_key: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _agent_id(session: Session, login: str | None) -> int | None:
    if not login:
        return None
    return session.execute(select(col(Agent.id)).where(col(Agent.login) == login)).scalar()


def import_ticket(session: Session, desk: Desk, record: ImportedTicket) -> IntakeResult:
    """Create the ticket (keeping its number when free) or complete it with missing messages."""
    known = [
        session.execute(
            select(col(Message.ticket_id)).where(
                col(Message.channel) == m.channel.value, col(Message.external_id) == m.external_id
            )
        ).scalar()
        for m in record.messages
    ]
    ticket_id = next((t for t in known if t is not None), None)
    if ticket_id is not None and all(t is not None for t in known):
        return IntakeResult(Outcome.DUPLICATE)
    at = desk.clock()
    customer_id = customer_for(
        RawSql(session), record.customer, record.created_at, desk.settings.default_region
    )
    outcome = Outcome.APPENDED
    if ticket_id is None:
        number = record.number
        if (
            number is None
            or session.execute(select(col(Ticket.id)).where(col(Ticket.number) == number)).first()
        ):
            start = desk.settings.first_ticket_number - 1
            number = (session.execute(select(func.max(Ticket.number))).scalar() or start) + 1
        response_due, resolution_due = due_times(
            desk.settings.sla, record.priority, record.created_at, hours_of(desk.settings)
        )
        last = max((m.created_at for m in record.messages), default=record.created_at)
        ticket_id = session.execute(
            insert(Ticket)
            .values(
                number=number,
                subject=record.subject,
                status=record.status.value,
                priority=record.priority.value,
                channel=record.channel.value,
                customer_id=customer_id,
                assignee_id=_agent_id(session, record.assignee),
                chat_key=record.chat_key,
                created_at=record.created_at,
                updated_at=max(record.updated_at or last, last),
                last_message_at=last,
                first_response_due=response_due,
                resolution_due=resolution_due,
                resolved_at=last if record.status in (Status.RESOLVED, Status.CLOSED) else None,
                closed_at=last if record.status is Status.CLOSED else None,
            )
            .returning(col(Ticket.id))
        ).scalar_one()
        outcome = Outcome.CREATED
        events.record(session, "ticket.imported", at=at, ticket_id=ticket_id, number=number)
    first_response = None
    for message, existing in zip(record.messages, known, strict=True):
        if existing is not None:
            continue
        author_customer = (
            customer_id if message.kind in (MessageKind.INBOUND, MessageKind.CALL) else None
        )
        message_row = session.execute(
            insert(Message)
            .values(
                ticket_id=ticket_id,
                kind=message.kind.value,
                channel=message.channel.value,
                external_id=message.external_id,
                message_id=message.message_id,
                in_reply_to=message.in_reply_to,
                references=message.references,
                subject=message.subject,
                text=message.text,
                author_agent_id=_agent_id(session, message.author_agent),
                author_customer_id=author_customer,
                author_name=message.author_name,
                author_address=message.author_address,
                auto=message.auto,
                created_at=message.created_at,
                received_at=message.created_at,
                delivery_state=message.delivery_state,
            )
            .returning(col(Message.id))
        ).scalar_one()
        assert message_row is not None  # the id INSERT ... RETURNING gave
        store_attachments(RawSql(session), desk, message.attachments, message_row)
        if message.kind is MessageKind.REPLY and first_response is None:
            first_response = message.created_at
    if first_response is not None:
        session.execute(
            update(Ticket)
            .where(col(Ticket.id) == ticket_id, col(Ticket.first_response_at).is_(None))
            .values(first_response_at=first_response)
        )
    query = select(col(Ticket.number)).where(col(Ticket.id) == ticket_id)
    number = session.execute(query).scalar_one()
    return IntakeResult(outcome, number)
