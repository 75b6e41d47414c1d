"""Taking the next ticket, and waking pending tickets whose time has come.

``take_next`` must never give two agents the same ticket, even in two processes at once
(ARCHITECTURE.md, "Take next"): the candidate is read with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL (a ticket another agent is taking is passed over, not waited for), and SQLite
serialises writers (``BEGIN IMMEDIATE``); the assignment itself is a conditional UPDATE
(``assignee_id IS NULL``) checked by its row count, retried on the next candidate if lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core import events, pending
from sdesk.core.acts import agent_by_login
from sdesk.core.enums import Status
from sdesk.core.permissions import require
from sdesk.store.inbox import RUNNING, unassigned_queue
from sdesk.store.models import Ticket

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

TAKE_ATTEMPTS = 5  # candidates tried before giving up (each lost only to a concurrent taker)
WAKE_BATCH = 500  # pending tickets woken per call; the poll loop calls again


def take_next(session: Session, desk: Desk, agent: str) -> int | None:
    me = agent_by_login(session, agent)
    require(me.role, "assign_self", agent)
    at = desk.clock()
    for _ in range(TAKE_ATTEMPTS):
        candidate = session.execute(
            unassigned_queue().limit(1).with_for_update(skip_locked=True, of=Ticket)
        ).first()
        if candidate is None:
            return None
        ticket_id, number = candidate
        taken = session.connection().execute(
            update(Ticket)
            .where(
                col(Ticket.id) == ticket_id,
                col(Ticket.assignee_id).is_(None),
                col(Ticket.merged_into_id).is_(None),
                col(Ticket.status).in_(RUNNING),
            )
            .values(assignee_id=me.id, version=col(Ticket.version) + 1, updated_at=at)
        )
        if taken.rowcount == 1:
            events.record(
                session, "ticket.assigned", at=at, ticket_id=ticket_id, actor=agent, to=agent
            )
            return int(number)
    return None


def wake_pending(session: Session, desk: Desk, now: datetime) -> list[int]:
    """Reopen pending tickets whose ``pending_until`` has passed; their SLA clock runs again
    from that moment (``core/pending.py``)."""
    due = (
        session.execute(
            select(Ticket)
            .where(
                col(Ticket.status) == Status.PENDING.value,
                col(Ticket.pending_until) <= now,
                col(Ticket.merged_into_id).is_(None),
            )
            .order_by(col(Ticket.pending_until), col(Ticket.id))
            .limit(WAKE_BATCH)
        )
        .scalars()
        .all()
    )
    woken = []
    for ticket in due:
        until = ticket.pending_until
        assert until is not None  # selected so
        pending.resume(ticket, min(until, now))
        ticket.status = Status.OPEN.value
        ticket.version += 1
        ticket.updated_at = now
        events.record(
            session,
            "ticket.status",
            at=now,
            ticket_id=ticket.id,
            previous=Status.PENDING.value,
            status=Status.OPEN.value,
            reason="pending until passed",
        )
        woken.append(ticket.number)
    return woken
