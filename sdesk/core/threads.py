"""Which ticket a new inbound message joins (DESIGN, threading rules)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from sdesk.core.enums import Status
from sdesk.core.inbound import Inbound
from sdesk.store.models import Message, Ticket

SUBJECT_TAG = re.compile(r"\[#(\d{1,9})\]")
_MAX_MERGE_HOPS = 50


def chat_key(inbound: Inbound) -> str | None:
    """The conversation a chat message belongs to; None for mail-like channels."""
    if not inbound.channel.is_chat:
        return None
    ident = inbound.chat_id or next((c.value for c in inbound.sender.contacts), None)
    return f"{inbound.channel.value}:{ident}" if ident else None


def find_ticket(session: Session, inbound: Inbound) -> Ticket | None:
    """In order: a referenced message we stored or sent; our ``[#N]`` tag; the open chat."""
    ids = [*inbound.in_reply_to, *reversed(inbound.references)]
    if ids:
        for message_id in ids[:101]:
            ticket_id = session.execute(
                select(Message.ticket_id)
                .where(Message.message_id == message_id)
                .order_by(Message.id.desc())
                .limit(1)
            ).scalar()
            if ticket_id is not None:
                return _follow_merges(session, session.get(Ticket, ticket_id))
    match = SUBJECT_TAG.search(inbound.subject or "")
    if match:
        ticket = session.execute(
            select(Ticket).where(Ticket.number == int(match.group(1)))
        ).scalar_one_or_none()
        if ticket is not None:
            return _follow_merges(session, ticket)
    key = chat_key(inbound)
    if key:
        ticket = session.execute(
            select(Ticket)
            .where(Ticket.chat_key == key, Ticket.status != Status.CLOSED.value)
            .order_by(Ticket.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if ticket is not None:
            return _follow_merges(session, ticket)
    return None


def _follow_merges(session: Session, ticket: Ticket | None) -> Ticket | None:
    for _ in range(_MAX_MERGE_HOPS):
        if ticket is None or ticket.merged_into_id is None:
            return ticket
        ticket = session.get(Ticket, ticket.merged_into_id)
    return ticket
