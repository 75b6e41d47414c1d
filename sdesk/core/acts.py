"""What operators do to tickets: notes, assignment, status, priority, merges, ratings. Each act is
one transaction that also writes its event. Replies, which also queue an outbox row, are in
``replies``; they start and end the way these do (``_begin``, ``_touch``)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core import events, pending
from sdesk.core.enums import Channel, MessageKind, Priority, Status
from sdesk.core.errors import DeskError, NotFound, StaleTicket
from sdesk.core.permissions import require
from sdesk.core.sla import due_times, hours_of
from sdesk.store.models import Agent, Draft, Message, Outbox, Ticket
from sdesk.store.queries import current_number

if TYPE_CHECKING:
    from sdesk.core.desk import Desk


def agent_by_login(session: Session, login: str) -> Agent:
    agent = session.execute(select(Agent).where(col(Agent.login) == login)).scalar_one_or_none()
    if agent is None or not agent.active:
        raise NotFound(f"unknown agent {login!r}; add it with: sdesk agent add {login}")
    return agent


def ticket_by_number(session: Session, number: int) -> Ticket:
    query = select(Ticket).where(col(Ticket.number) == number)
    ticket = session.execute(query).scalar_one_or_none()
    if ticket is None:
        raise NotFound(f"no ticket #{number}")
    return ticket


def _open_for_change(
    session: Session, number: int, expected_version: int | None, *, allow_closed: bool = False
) -> Ticket:
    ticket = ticket_by_number(session, number)
    if expected_version is not None and ticket.version != expected_version:
        raise StaleTicket(f"ticket #{number} changed meanwhile; look again and retry")
    if ticket.merged_into_id is not None:
        target = session.get(Ticket, ticket.merged_into_id)
        raise DeskError(f"ticket #{number} was merged into #{target.number if target else '?'}")
    if ticket.status == Status.CLOSED.value and not allow_closed:
        raise DeskError(f"ticket #{number} is closed; reopen it first")
    return ticket


def _begin(
    session: Session,
    desk: Desk,
    number: int,
    by: str,
    act: str,
    expected_version: int | None,
    *,
    allow_closed: bool = False,
) -> tuple[datetime, Agent, Ticket]:
    """The start every act shares: the time, the acting agent (allowed to do ``act``), and the
    ticket, refused if it changed since the caller saw it."""
    agent = agent_by_login(session, by)
    require(agent.role, act, by)
    ticket = _open_for_change(session, number, expected_version, allow_closed=allow_closed)
    return desk.clock(), agent, ticket


def _touch(ticket: Ticket, at: datetime) -> None:
    ticket.version += 1
    ticket.updated_at = at


def add_note(
    session: Session,
    desk: Desk,
    number: int,
    by: str,
    text: str,
    *,
    expected_version: int | None = None,
) -> int:
    if not text.strip():
        raise DeskError("the note is empty")
    at, agent, ticket = _begin(
        session, desk, number, by, "add_note", expected_version, allow_closed=True
    )
    key = f"note.{uuid.uuid4().hex}@{desk.settings.desk_domain}"
    assert ticket.id is not None  # a stored row
    row = Message(
        ticket_id=ticket.id,
        kind=MessageKind.NOTE.value,
        channel=Channel.INTERNAL.value,
        external_id=key,
        text=text,
        author_agent_id=agent.id,
        author_name=agent.name or agent.login,
        created_at=at,
        received_at=at,
    )
    session.add(row)
    _touch(ticket, at)
    session.flush()
    events.record(session, "note.added", at=at, ticket_id=ticket.id, actor=by, message=row.id)
    assert row.id is not None
    return row.id


def assign(
    session: Session,
    desk: Desk,
    number: int,
    by: str,
    to: str | None,
    *,
    expected_version: int | None = None,
) -> None:
    """Assign to an agent (``to``), or unassign with None."""
    act = "assign_self" if to == by else "assign"
    at, _agent, ticket = _begin(session, desk, number, by, act, expected_version)
    assignee = agent_by_login(session, to) if to else None
    ticket.assignee_id = assignee.id if assignee else None
    _touch(ticket, at)
    events.record(session, "ticket.assigned", at=at, ticket_id=ticket.id, actor=by, to=to)


def set_status(
    session: Session,
    desk: Desk,
    number: int,
    by: str,
    status: Status,
    *,
    pending_until: datetime | None = None,
    expected_version: int | None = None,
) -> None:
    at, _agent, ticket = _begin(
        session, desk, number, by, "set_status", expected_version, allow_closed=True
    )
    if ticket.status == Status.CLOSED.value and status is not Status.OPEN:
        raise DeskError(f"ticket #{number} is closed; it can only be reopened")
    if status is Status.PENDING and pending_until is not None and pending_until <= at:
        raise DeskError(f"pending until {pending_until:%Y-%m-%d %H:%M} UTC is already past")
    previous = ticket.status
    ticket.status = status.value
    if status is Status.PENDING:  # the SLA clock stops (core/pending.py)
        pending.pause(ticket, at, pending_until)
    else:
        pending.resume(ticket, at)
    if status is Status.RESOLVED:
        ticket.resolved_at = at
    elif status is Status.CLOSED:
        ticket.closed_at = at
        ticket.resolved_at = ticket.resolved_at or at
    else:
        ticket.resolved_at = ticket.closed_at = None
    _touch(ticket, at)
    events.record(
        session,
        f"ticket.{status.value}" if status in (Status.RESOLVED, Status.CLOSED) else "ticket.status",
        at=at,
        ticket_id=ticket.id,
        actor=by,
        previous=previous,
        status=status.value,
        pending_until=pending_until,
    )
    if status in (Status.RESOLVED, Status.CLOSED) and previous != status.value:
        from sdesk.core import notify  # notify → replies → acts: imported when first used

        notify.queue_notice(session, desk, ticket, status.value, at)  # same transaction


def set_priority(
    session: Session,
    desk: Desk,
    number: int,
    by: str,
    priority: Priority,
    *,
    expected_version: int | None = None,
) -> None:
    at, _agent, ticket = _begin(session, desk, number, by, "set_priority", expected_version)
    previous = ticket.priority
    ticket.priority = priority.value
    # From creation, later by every finished pause of the clock (core/pending.py).
    start = ticket.created_at + timedelta(seconds=ticket.sla_paused_seconds)
    ticket.first_response_due, ticket.resolution_due = due_times(
        desk.settings.sla, priority, start, hours_of(desk.settings)
    )
    _touch(ticket, at)
    events.record(
        session,
        "ticket.priority",
        at=at,
        ticket_id=ticket.id,
        actor=by,
        previous=previous,
        priority=priority.value,
    )


def merge(
    session: Session,
    desk: Desk,
    source: int,
    target: int,
    by: str,
    *,
    expected_version: int | None = None,
) -> None:
    """Move every message of ``source`` onto ``target`` and close ``source`` as merged."""
    if source == target:
        raise DeskError("a ticket cannot be merged into itself")
    at, actor, src = _begin(session, desk, source, by, "merge", expected_version, allow_closed=True)
    dst = _open_for_change(session, target, None, allow_closed=True)
    moved = col(Message.ticket_id) == src.id
    session.execute(update(Message).where(moved).values(ticket_id=dst.id))
    # Their deliveries follow, so a failed send shows (and is retried) where the messages are.
    session.execute(update(Outbox).where(col(Outbox.ticket_id) == src.id).values(ticket_id=dst.id))
    assert src.id is not None and dst.id is not None  # stored rows
    move_drafts(session, src.id, dst.id, at)
    src.merged_into_id = dst.id
    src.status = Status.CLOSED.value
    src.closed_at = at
    dst.last_message_at = max(dst.last_message_at, src.last_message_at)
    if Status(dst.status) in (Status.RESOLVED, Status.CLOSED):
        dst.status = Status.OPEN.value
        dst.resolved_at = dst.closed_at = None
    _touch(src, at)
    _touch(dst, at)
    session.add(
        Message(
            ticket_id=dst.id,
            kind=MessageKind.SYSTEM.value,
            channel=Channel.INTERNAL.value,
            external_id=f"merge.{uuid.uuid4().hex}@{desk.settings.desk_domain}",
            text=f"Ticket #{source} merged into this ticket by {by}.",
            author_agent_id=actor.id,
            author_name=actor.name or by,
            created_at=at,
            received_at=at,
        )
    )
    events.record(session, "ticket.merged", at=at, ticket_id=src.id, actor=by, into=target)
    events.record(session, "ticket.merged_in", at=at, ticket_id=dst.id, actor=by, source=source)


def move_drafts(session: Session, source_id: int, target_id: int, at: datetime) -> None:
    """A merge: the source's drafts go to the target; an agent with a draft on both keeps one,
    the target's text then the source's."""
    moving = session.execute(select(Draft).where(col(Draft.ticket_id) == source_id)).scalars()
    for draft in list(moving):
        there = session.execute(
            select(Draft).where(
                col(Draft.agent_id) == draft.agent_id, col(Draft.ticket_id) == target_id
            )
        ).scalar_one_or_none()
        if there is None:
            draft.ticket_id, draft.updated_at = target_id, at
            continue
        there.text = f"{there.text.rstrip()}\n\n{draft.text.lstrip()}"
        there.updated_at = at
        session.delete(draft)


def rate(
    session: Session, desk: Desk, number: int, score: int, comment: str = "", via: str = "agent"
) -> None:
    """The customer's satisfaction with a ticket (1 bad … 5 great); a later rating replaces it.
    ``via`` says how it came: "reply", "telegram", "cabinet", "api" or "agent" (typed in)."""
    if not 1 <= score <= 5:
        raise DeskError(f"a rating is 1 to 5, not {score}")
    # A merged ticket's number rates the ticket it went into (merged rows count nowhere).
    ticket = ticket_by_number(session, current_number(session, number) or number)
    at = desk.clock()
    ticket.rating = score
    _touch(ticket, at)
    events.record(
        session,
        "ticket.rated",
        at=at,
        ticket_id=ticket.id,
        actor="customer",
        score=score,
        comment=comment[:2000],
        via=via,
    )
