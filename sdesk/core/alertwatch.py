"""Events that come from time passing, not from an act: an SLA deadline near or gone by, a
ticket left unassigned for N minutes. Recorded once per ticket (and per N), so the rules see
them like any other event; run by the scheduler every few seconds."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from sdesk.core import events
from sdesk.store.models import Event, Ticket

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

ACTIVE = ("new", "open")
BATCH = 2000  # tickets looked at per pass, nearest deadline first


def watch(desk: Desk, now: datetime | None = None) -> int:
    """Record the SLA and unassigned events that are due; returns how many."""
    now = now or desk.clock()
    settings = desk.settings.alerts
    minutes = sorted({r.after_minutes for r in settings.rules if r.event == "ticket.unassigned"})
    pct = settings.sla_warning_percent / 100
    written = 0
    with desk.store.write() as session:
        tickets = list(
            session.execute(
                select(Ticket)
                .where(
                    col(Ticket.status).in_(ACTIVE),
                    col(Ticket.first_response_at).is_(None),
                    col(Ticket.first_response_due).is_not(None),
                )
                .order_by(col(Ticket.first_response_due))
                .limit(BATCH)
            ).scalars()
        )
        if not tickets:
            return 0
        ids = [t.id for t in tickets]
        seen: set[tuple[int | None, str, str]] = set()
        for ticket_id, kind, data in session.execute(
            select(col(Event.ticket_id), col(Event.kind), col(Event.data)).where(
                col(Event.ticket_id).in_(ids),
                col(Event.kind).in_(("sla.warning", "sla.breached", "ticket.unassigned")),
            )
        ):
            seen.add((ticket_id, kind, str(json.loads(data or "{}").get("minutes", ""))))
        for t in tickets:
            due = t.first_response_due
            assert due is not None
            todo: list[tuple[str, dict[str, Any]]] = []
            if due <= now:
                todo.append(("sla.breached", {"due": due.isoformat()}))
            elif t.created_at + (due - t.created_at) * pct <= now:
                todo.append(("sla.warning", {"due": due.isoformat()}))
            if t.assignee_id is None:
                age = (now - t.created_at).total_seconds() / 60
                todo.extend(("ticket.unassigned", {"minutes": m}) for m in minutes if age >= m)
            for kind, data in todo:
                if (t.id, kind, str(data.get("minutes", ""))) in seen:
                    continue
                events.record(session, kind, at=now, ticket_id=t.id, number=t.number, **data)
                written += 1
    return written
