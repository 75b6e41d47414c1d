"""Pending stops the SLA clock (ARCHITECTURE.md, "Pending and the SLA clock").

A ticket set pending waits for the customer (or for ``pending_until``): its deadlines must not
run out meanwhile. Going pending stamps ``pending_since``; leaving pending, by whatever way (an
agent's act, the customer's answer, ``until`` passing), moves both due times later by the time
spent pending and adds it to ``sla_paused_seconds``, so due times recomputed from the ticket's
creation (a priority change) keep every earlier pause.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sdesk.store.models import Ticket
from sdesk.store.rawsql import RawSql


def pause(ticket: Ticket, at: datetime, until: datetime | None) -> None:
    """Stop the clock (again pending: it keeps the first stamp, only ``until`` moves)."""
    if ticket.pending_since is None:
        ticket.pending_since = at
    ticket.pending_until = until


def resume(ticket: Ticket, at: datetime) -> timedelta:
    """Start the clock again; returns how long it stood still (zero if it was running)."""
    since, ticket.pending_since, ticket.pending_until = ticket.pending_since, None, None
    if since is None:
        return timedelta(0)
    paused = max(at - since, timedelta(0))
    if ticket.first_response_due is not None:
        ticket.first_response_due += paused
    if ticket.resolution_due is not None:
        ticket.resolution_due += paused
    ticket.sla_paused_seconds += int(paused.total_seconds())
    return paused


def resume_raw(sql: RawSql, ticket_id: int, at: datetime) -> None:
    """``resume`` for intake's hot path (a customer answering a pending ticket), in raw SQL."""
    row = sql.one(
        "SELECT pending_since, first_response_due, resolution_due FROM ticket WHERE id = ?",
        ticket_id,
    )
    if row is None or row[0] is None:
        return
    since, first_due, resolution_due = (_aware(v) for v in row)
    assert since is not None
    paused = max(at - since, timedelta(0))
    sql.run(
        "UPDATE ticket SET pending_since = NULL, first_response_due = ?, resolution_due = ?, "
        "sla_paused_seconds = sla_paused_seconds + ? WHERE id = ?",
        sql.time(first_due + paused if first_due else None),
        sql.time(resolution_due + paused if resolution_due else None),
        int(paused.total_seconds()),
        ticket_id,
    )


def _aware(value: object) -> datetime | None:
    """A raw-SQL datetime (naive UTC text on SQLite, naive UTC on PostgreSQL) as aware UTC."""
    if value is None:
        return None
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(at, datetime)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
