"""What operators do to tickets. Each act is one transaction that also writes its event and,
for replies, the outbox row that will carry it out (DESIGN: the outbox)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sdesk.core import events, outbox
from sdesk.core.attachments import OutgoingFile
from sdesk.core.enums import Channel, DeliveryState, MessageKind, Priority, Status
from sdesk.core.errors import DeskError, NoRoute, NotFound, StaleTicket
from sdesk.core.permissions import require
from sdesk.core.sla import due_times
from sdesk.core.text import safe_text
from sdesk.core.threads import SUBJECT_TAG
from sdesk.store.models import Agent, Attachment, Message, Outbox, Ticket
from sdesk.store.queries import current_number

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

MAX_REFERENCES = 20


def agent_by_login(session: Session, login: str) -> Agent:
    agent = session.execute(select(Agent).where(Agent.login == login)).scalar_one_or_none()
    if agent is None or not agent.active:
        raise NotFound(f"unknown agent {login!r}; add it with: sdesk agent add {login}")
    return agent


def ticket_by_number(session: Session, number: int) -> Ticket:
    ticket = session.execute(select(Ticket).where(Ticket.number == number)).scalar_one_or_none()
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


def new_message_id(desk: Desk, ticket_number: int) -> str:
    return f"sdesk.{ticket_number}.{uuid.uuid4().hex[:20]}@{desk.settings.desk_domain}"


def _last_inbound(session: Session, ticket_id: int) -> Message | None:
    return session.execute(
        select(Message)
        # An auto-reply or bounce is no address to answer: the reply would go to a robot.
        .where(
            Message.ticket_id == ticket_id,
            Message.kind.in_(("inbound", "call")),
            Message.author_agent_id.is_(None),  # our own outgoing calls are not the customer
            Message.auto.is_(None),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _reply_subject(ticket: Ticket) -> str:
    return tagged_subject(ticket.subject, ticket.number)


def tagged_subject(subject: str, number: int) -> str:
    """``Re: <subject> [#N]``: the tag threads the customer's answer back even without headers."""
    if not SUBJECT_TAG.search(subject):
        subject = f"{subject} [#{number}]"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def quote_block(message: Message, max_chars: int) -> str:
    """``On <date>, <name> wrote:`` and the message with ``> `` before each line, cut at
    ``max_chars`` of its text so a long thread cannot make every reply huge."""
    at = message.created_at
    date = f"{_DAYS[at.weekday()]}, {at.day} {_MONTHS[at.month - 1]} {at.year} {at:%H:%M} UTC"
    name = " ".join(safe_text(message.author_name or message.author_address or "").split())
    text = message.text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    cut = len(text) > max_chars
    if cut:
        head = text[:max_chars]
        text = head.rsplit("\n", 1)[0] if "\n" in head else head  # whole lines where it can
    lines = [f"> {line}".rstrip() for line in text.split("\n")]
    if cut:
        lines.append("> [… shortened]")
    return f"On {date}, {name or 'you'} wrote:\n" + "\n".join(lines)


def reply(
    session: Session,
    desk: Desk,
    number: int,
    by: str,
    text: str,
    *,
    expected_version: int | None = None,
    files: Sequence[OutgoingFile] = (),
    quote: bool | None = None,
) -> int:
    """Queue a reply through the channel the customer last used; returns the message's row id.

    ``files`` (already in the blob store) go out as attachments, by email only; ``quote``
    (default ``[email] quote_history``) puts the customer's last message under an email reply.
    """
    if not text.strip():
        raise DeskError("the reply is empty")
    at, agent, ticket = _begin(session, desk, number, by, "reply", expected_version)
    last = _last_inbound(session, ticket.id)  # type: ignore[arg-type]
    channel = Channel(last.channel if last else ticket.channel)
    if channel is Channel.PHONE:
        channel = Channel.SMS  # a call is answered in writing by SMS to the same number
    recipient = last.author_address if last else None
    if not recipient:
        raise NoRoute(f"ticket #{number} has no address to reply to; add a note instead")
    if files and channel is not Channel.EMAIL:
        raise NoRoute(f"this reply goes by {channel.label}; only email carries attachments")
    message_id = new_message_id(desk, ticket.number)
    references: list[str] = []
    if last is not None:
        references = [
            *(last.references or "").split(),
            *([last.message_id] if last.message_id else []),
        ]
    payload = {
        "ticket": ticket.number,
        "subject": _reply_subject(ticket),
        "message_id": message_id,
        "in_reply_to": last.message_id if last else None,
        "references": references[-MAX_REFERENCES:],
        "text": text,
    }
    if quote is None:
        quote = desk.settings.email.quote_history
    if quote and last is not None and channel is Channel.EMAIL and last.text.strip():
        payload["quote"] = quote_block(last, desk.settings.email.quote_max_chars)
    if files:
        payload["attachments"] = [f.payload() for f in files]
    row = Message(
        ticket_id=ticket.id,
        kind=MessageKind.REPLY.value,
        channel=channel.value,
        external_id=message_id,
        message_id=message_id if channel is Channel.EMAIL else None,
        in_reply_to=payload["in_reply_to"],
        references=" ".join(payload["references"]) or None,
        subject=payload["subject"],
        text=text,
        author_agent_id=agent.id,
        author_name=agent.name or agent.login,
        author_address=recipient,
        created_at=at,
        received_at=at,
        delivery_state=DeliveryState.QUEUED.value,
    )
    session.add(row)
    session.flush()
    for f in files:
        session.add(
            Attachment(
                message_id=row.id,  # type: ignore[arg-type]
                filename=f.filename,
                content_type=f.content_type,
                size=f.size,
                sha256=f.sha256,
            )
        )
    outbox.queue(
        session,
        kind="reply",
        channel=channel.value,
        ticket_id=ticket.id,
        message_id=row.id,
        recipient=recipient,
        payload=payload,
        at=at,
        key=f"reply:{message_id}",
    )
    if ticket.first_response_at is None:
        ticket.first_response_at = at
    if ticket.status == Status.NEW.value:
        ticket.status = Status.OPEN.value
    ticket.last_message_at = at
    _touch(ticket, at)
    events.record(
        session,
        "message.replied",
        at=at,
        ticket_id=ticket.id,
        actor=by,
        message=row.id,
        channel=channel.value,
        files=len(files) or None,
    )
    assert row.id is not None
    return row.id


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
    previous = ticket.status
    ticket.status = status.value
    ticket.pending_until = pending_until if status is Status.PENDING else None
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
    ticket.first_response_due, ticket.resolution_due = due_times(
        desk.settings.sla, priority, ticket.created_at
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
    session.execute(update(Message).where(Message.ticket_id == src.id).values(ticket_id=dst.id))
    # Their deliveries follow, so a failed send shows (and is retried) where the messages are.
    session.execute(update(Outbox).where(Outbox.ticket_id == src.id).values(ticket_id=dst.id))
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


def retry_delivery(session: Session, desk: Desk, message_id: int, by: str) -> None:
    """Send a failed reply or call again: back into the outbox queue, due now."""
    message = session.get(Message, message_id)
    if message is None or message.delivery_state is None:
        raise NotFound(f"no outbound message {message_id}")
    ticket = session.get(Ticket, message.ticket_id)
    assert ticket is not None
    at, _agent, ticket = _begin(session, desk, ticket.number, by, "reply", None)
    if message.delivery_state != DeliveryState.FAILED.value:
        raise DeskError(f"the message is {message.delivery_state}, not failed; nothing to retry")
    queued = session.execute(
        select(Outbox).where(Outbox.message_id == message_id)
    ).scalar_one_or_none()
    if queued is None:
        raise NotFound(f"message {message_id} has nothing in the outbox to retry")
    queued.state = DeliveryState.QUEUED.value
    queued.next_attempt_at = at
    queued.attempts = 0  # an operator's retry gets the full set of attempts again
    message.delivery_state = DeliveryState.QUEUED.value
    message.delivery_error = None
    _touch(ticket, at)
    events.record(
        session, "message.retry", at=at, ticket_id=ticket.id, actor=by, message=message_id
    )


def rate(session: Session, desk: Desk, number: int, score: int, comment: str = "") -> None:
    """The customer's satisfaction with a ticket (1 bad … 5 great); a later rating replaces it."""
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
    )
