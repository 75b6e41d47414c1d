"""Replies: an operator's answer on a ticket, threaded for the customer's client and queued in
the outbox for the channel the customer used (ARCHITECTURE.md transactions); and a failed one
sent again."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core import events, outbox, routes
from sdesk.core.acts import _begin, _touch
from sdesk.core.attachments import OutgoingFile
from sdesk.core.enums import Channel, DeliveryState, MessageKind, Status
from sdesk.core.errors import DeskError, NoRoute, NotFound
from sdesk.core.text import safe_text
from sdesk.core.threads import SUBJECT_TAG
from sdesk.store.models import Attachment, Draft, Message, Outbox, Ticket

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

MAX_REFERENCES = 20


@dataclass(frozen=True, slots=True)
class ReplyResult:
    """What ``Desk.reply`` did: the stored reply's row id, and a line for the operator when it
    cannot leave yet (its channel has no sender set up; ``core/routes.py``)."""

    message_id: int
    warning: str | None = None


_PLACEHOLDER = re.compile(r"\{(customer|ticket|agent)\}")


def fill_canned(text: str, *, customer: str, ticket: int, agent_name: str) -> str:
    """A canned response with ``{customer}``, ``{ticket}`` and ``{agent}`` (the agent's display
    name, as the customer should read it, not the login) filled; other braces stay as typed."""
    values = {"customer": customer or "there", "ticket": str(ticket), "agent": agent_name}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def new_message_id(desk: Desk, ticket_number: int) -> str:
    return f"sdesk.{ticket_number}.{uuid.uuid4().hex[:20]}@{desk.settings.desk_domain}"


def _last_inbound(session: Session, ticket_id: int) -> Message | None:
    return session.execute(
        select(Message)
        # An auto-reply or bounce is no address to answer: the reply would go to a robot.
        .where(
            col(Message.ticket_id) == ticket_id,
            col(Message.kind).in_(("inbound", "call")),
            col(Message.author_agent_id).is_(None),  # our own outgoing calls are not the customer
            col(Message.auto).is_(None),
        )
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
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
) -> ReplyResult:
    """Queue a reply through the channel the customer last used, and drop the agent's draft
    on the ticket (it was sent). A channel with no sender set up still gets the reply stored and
    queued, its delivery "waiting" with the reason, which the result carries as ``warning``.

    ``files`` (already in the blob store) go out as attachments, by email or Telegram; ``quote``
    (default ``[email] quote_history``) puts the customer's last message under an email reply.
    """
    if not text.strip():
        raise DeskError("the reply is empty")
    at, agent, ticket = _begin(session, desk, number, by, "reply", expected_version)
    assert ticket.id is not None  # a stored row
    last = _last_inbound(session, ticket.id)
    channel = Channel(last.channel if last else ticket.channel)
    if channel is Channel.PHONE:
        channel = Channel.SMS  # a call is answered in writing by SMS to the same number
    recipient = last.author_address if last else None
    if not recipient:
        raise NoRoute(f"ticket #{number} has no address to reply to; add a note instead")
    if files and channel not in (Channel.EMAIL, Channel.TELEGRAM, Channel.WEB):
        raise NoRoute(
            f"this reply goes by {channel.label}; only email, Telegram and the web cabinet "
            "carry attachments"
        )
    message_id = new_message_id(desk, ticket.number)
    references: list[str] = []
    if last is not None:
        references = [
            *(last.references or "").split(),
            *([last.message_id] if last.message_id else []),
        ]
    subject = _reply_subject(ticket)
    in_reply_to = last.message_id if last else None
    references = references[-MAX_REFERENCES:]
    payload: dict[str, Any] = {
        "ticket": ticket.number,
        "subject": subject,
        "message_id": message_id,
        "in_reply_to": in_reply_to,
        "references": references,
        "text": text,
    }
    if quote is None:
        quote = desk.settings.email.quote_history
    if quote and last is not None and channel is Channel.EMAIL and last.text.strip():
        payload["quote"] = quote_block(last, desk.settings.email.quote_max_chars)
    if files:
        payload["attachments"] = [f.payload() for f in files]
    warning = routes.why_not_sent(desk.settings, channel)
    row = Message(
        ticket_id=ticket.id,
        kind=MessageKind.REPLY.value,
        channel=channel.value,
        external_id=message_id,
        message_id=message_id if channel is Channel.EMAIL else None,
        in_reply_to=in_reply_to,
        references=" ".join(references) or None,
        subject=subject,
        text=text,
        author_agent_id=agent.id,
        author_name=agent.name or agent.login,
        author_address=recipient,
        created_at=at,
        received_at=at,
        delivery_state=(DeliveryState.WAITING if warning else DeliveryState.QUEUED).value,
        delivery_error=warning,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    session.execute(
        delete(Draft).where(col(Draft.agent_id) == agent.id, col(Draft.ticket_id) == ticket.id)
    )
    for f in files:
        session.add(
            Attachment(
                message_id=row.id,
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
        waiting=warning,
    )
    return ReplyResult(row.id, warning)


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
        select(Outbox).where(col(Outbox.message_id) == message_id)
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
