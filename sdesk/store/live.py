"""How a console notices what other processes changed: one cheap "stamp" polled every second.

Every write path records an event (intake, acts), so the highest event id moves whenever
anything a console shows may have changed; the highest ticket id tells which tickets are new.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.store.models import Event, Ticket
from sdesk.store.queries import TicketRow, rows_query, to_row


@dataclass(frozen=True, slots=True)
class Stamp:
    event_id: int
    ticket_id: int


def stamp(session: Session) -> Stamp:
    event_id = session.execute(select(func.max(Event.id))).scalar() or 0
    ticket_id = session.execute(select(func.max(Ticket.id))).scalar() or 0
    return Stamp(event_id, ticket_id)


def tickets_after(session: Session, ticket_id: int, *, limit: int = 50) -> list[TicketRow]:
    """Tickets created since ``ticket_id`` (a burst is cut at ``limit``)."""
    query = rows_query().where(col(Ticket.id) > ticket_id).order_by(col(Ticket.id)).limit(limit)
    return [to_row(r) for r in session.execute(query)]
