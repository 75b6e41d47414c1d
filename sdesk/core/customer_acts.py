"""What a signed-in customer does (the web cabinet; the app may share it): open a request,
write on one of their tickets, rate one. Each is one transaction; writing goes through the
same ``intake`` as every channel, so the console sees it like mail (ARCHITECTURE.md, layers).

Ownership is checked inside the transaction: a ticket that is not the customer's is
``NotFound`` with the words a missing one gets, so an answer never tells that it exists.
The form's one-time key makes a double submit (a reload, a second click) land once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core import acts
from sdesk.core.enums import Channel, Status
from sdesk.core.errors import DeskError, NotFound
from sdesk.core.filenames import safe_filename
from sdesk.core.inbound import Inbound, InboundAttachment, Sender
from sdesk.core.intake import Outcome, intake
from sdesk.store.customer_view import own_ticket
from sdesk.store.models import Customer, Message, Ticket
from sdesk.store.rawsql import RawSql

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

MAX_SUBJECT_CHARS = 200
MAX_TEXT_CHARS = 50_000
MAX_KEY_CHARS = 64
MAX_FILES = 5


@dataclass(frozen=True, slots=True)
class Upload:
    """A file the customer sent with a form (already read, its size checked by the caller)."""

    filename: str
    content_type: str
    data: bytes


def _own_ticket(session: Session, customer_id: int, number: int) -> Ticket:
    """The customer's ticket ``number`` (a merged one: the ticket it went into), or NotFound."""
    ticket = own_ticket(session, customer_id, number)
    if ticket is None:
        raise NotFound(f"no ticket #{number}")
    return ticket


def _checked(text: str, key: str, files: Sequence[Upload]) -> str:
    if not text.strip():
        raise DeskError("please write a message")
    if len(text) > MAX_TEXT_CHARS:
        raise DeskError(f"the message is longer than {MAX_TEXT_CHARS:,} characters")
    if not key or len(key) > MAX_KEY_CHARS or not key.isascii() or not key.isprintable():
        raise DeskError("the form is incomplete; open it again")
    if len(files) > MAX_FILES:
        raise DeskError(f"at most {MAX_FILES} files at once")
    return text.replace("\r\n", "\n")


def _inbound(
    session: Session,
    customer_id: int,
    *,
    text: str,
    key: str,
    files: Sequence[Upload],
    channel: Channel,
    subject: str = "",
    ticket_number: int | None = None,
) -> Inbound:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("this account no longer exists")
    attachments = tuple(
        InboundAttachment(
            filename=safe_filename(f.filename, f"file-{n}.bin"),
            content_type=f.content_type or "application/octet-stream",
            data=f.data,
        )
        for n, f in enumerate(files, 1)
    )
    return Inbound(
        channel=channel,
        sender=Sender(customer.name or None),
        text=text,
        subject=subject,
        external_id=f"{channel.value}:{customer_id}:{key}",
        attachments=attachments,
        # The conversation is the customer's account: an agent's reply goes back to it.
        chat_id=f"customer:{customer_id}",
        customer_id=customer_id,
        ticket_number=ticket_number,
        new_ticket=ticket_number is None,
        source=f"{channel.value}:customer:{customer_id}",
    )


def _number_of(session: Session, channel: Channel, external_id: str) -> int:
    """The ticket an earlier submit of the same form landed on."""
    number = session.execute(
        select(col(Ticket.number))
        .join(Message, col(Message.ticket_id) == col(Ticket.id))
        .where(col(Message.channel) == channel.value, col(Message.external_id) == external_id)
    ).scalar_one()
    return int(number)


def new_request(
    desk: Desk,
    customer_id: int,
    *,
    subject: str,
    text: str,
    key: str,
    files: Sequence[Upload] = (),
    channel: Channel = Channel.WEB,
) -> int:
    """Open a ticket for the customer; returns its number (the first one for a repeat)."""
    text = _checked(text, key, files)
    subject = " ".join(subject.split())
    if len(subject) > MAX_SUBJECT_CHARS:
        raise DeskError(f"the subject is longer than {MAX_SUBJECT_CHARS} characters")
    with desk.store.write() as session:
        inbound = _inbound(
            session, customer_id, text=text, key=key, files=files, channel=channel, subject=subject
        )
        result = intake(RawSql(session), desk, inbound)
        if result.outcome is Outcome.DUPLICATE or result.ticket_number is None:
            return _number_of(session, channel, inbound.external_id or "")
        return result.ticket_number


def add_message(
    desk: Desk,
    customer_id: int,
    number: int,
    *,
    text: str,
    key: str,
    files: Sequence[Upload] = (),
    channel: Channel = Channel.WEB,
) -> int:
    """The customer writes on their ticket (reopening a resolved one, like a mail would);
    returns the ticket's number (a merged ticket's: the one it went into)."""
    text = _checked(text, key, files)
    with desk.store.write() as session:
        ticket = _own_ticket(session, customer_id, number)
        if ticket.status == Status.CLOSED.value:
            raise DeskError(f"ticket #{ticket.number} is closed; please open a new request")
        inbound = _inbound(
            session,
            customer_id,
            text=text,
            key=key,
            files=files,
            channel=channel,
            ticket_number=ticket.number,
        )
        intake(RawSql(session), desk, inbound)
        return ticket.number


def rate(desk: Desk, customer_id: int, number: int, score: int, comment: str = "") -> None:
    """The customer's rating of their resolved (or closed) ticket, 1 to 5."""
    with desk.store.write() as session:
        ticket = _own_ticket(session, customer_id, number)
        if ticket.status not in (Status.RESOLVED.value, Status.CLOSED.value):
            raise DeskError(f"ticket #{ticket.number} can be rated once it is resolved")
        acts.rate(session, desk, ticket.number, score, comment.strip()[:2000], "cabinet")
