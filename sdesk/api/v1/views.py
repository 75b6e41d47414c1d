"""What the ticket routes share: finding a ticket the caller may see, shaping rows into the
API's bodies, and a customer's message as an ``Inbound`` for the core's intake."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from sqlalchemy.orm import Session

from sdesk.api.v1 import reads
from sdesk.api.v1.deps import Context, scope_of
from sdesk.api.v1.errors import ApiError
from sdesk.api.v1.schemas import (
    AttachmentOut,
    CustomerIn,
    CustomerRef,
    MessageCreated,
    MessageOut,
    TicketDetailOut,
    TicketOut,
)
from sdesk.core.contacts import contact
from sdesk.core.enums import Channel, ContactKind
from sdesk.core.filenames import safe_filename
from sdesk.core.inbound import Inbound, InboundAttachment, Sender
from sdesk.core.intake import Outcome
from sdesk.core.tokens import Principal, TokenKind

PREFIX = "/api/v1"


def ticket_out(row: tuple[Any, ...]) -> TicketOut:
    (number, subject, status, priority, channel, cid, cname, assignee) = row[:8]
    created, updated, last, rating, version = row[8:13]
    return TicketOut(
        number=number,
        subject=subject,
        status=status,
        priority=priority,
        channel=channel,
        customer=CustomerRef(id=cid, name=cname),
        assignee=assignee,
        created_at=created,
        updated_at=updated,
        last_message_at=last,
        rating=rating,
        version=version,
    )


def message_out(number: int, m: reads.MessageInfo, *, agent: bool) -> MessageOut:
    return MessageOut(
        id=m.id,
        kind=m.kind,
        channel=m.channel,
        author=m.author,
        text=m.text,
        created_at=m.created_at,
        delivery_state=m.delivery_state if agent else None,
        attachments=[
            AttachmentOut(
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                sha256=a.sha256,
                url=f"{PREFIX}/tickets/{number}/attachments/{a.sha256}" if a.stored else None,
            )
            for a in m.attachments
        ],
    )


def external_id(who: Principal, key: str | None) -> str:
    """Intake's idempotency key for what the API stores: the Idempotency-Key when given, so
    even a claim taken over after a crash cannot store it twice (core/idempotency.py)."""
    return f"api:{who.token_id}:{key}" if key else f"api:{uuid.uuid4().hex}"


def detail_in(session: Session, who: Principal, scope: reads.TicketScope) -> TicketDetailOut:
    """The ticket with the thread the caller may see, read in ``session``."""
    agent = who.kind is TokenKind.AGENT
    row = reads.ticket_summary(session, scope.id)
    messages = reads.thread(session, scope.id, public=not agent)
    return TicketDetailOut(
        **ticket_out(row).model_dump(),
        messages=[message_out(scope.number, m, agent=agent) for m in messages],
    )


def account_chat(customer_id: int) -> str:
    """The conversation of a customer who writes signed in (the cabinet's convention): an
    agent's reply goes back to the account, where the app reads it."""
    return f"customer:{customer_id}"


class Views:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.desk = ctx.desk

    def visible(self, who: Principal, number: int) -> reads.TicketScope:
        with self.desk.store.read() as session:
            found = reads.find_ticket(session, number, scope_of(who))
        if found is None:
            raise ApiError(404, f"no ticket #{number}")
        return found

    def summary(self, ticket_id: int) -> TicketOut:
        with self.desk.store.read() as session:
            return ticket_out(reads.ticket_summary(session, ticket_id))

    def detail(self, who: Principal, number: int) -> TicketDetailOut:
        scope = self.visible(who, number)
        with self.desk.store.read() as session:
            return detail_in(session, who, scope)

    def sender(self, who: Principal, given: CustomerIn | None) -> Sender:
        """Who writes: a customer's token writes as its customer; others name the customer."""
        if who.kind is TokenKind.CUSTOMER:  # known: intake takes ``Inbound.customer_id``
            return Sender((given.name.strip() if given else "") or None, ())
        if given is None or not (given.email or given.phone):
            raise ApiError(422, "customer: give the customer's email or phone")
        refs = []
        for kind, value in ((ContactKind.EMAIL, given.email), (ContactKind.PHONE, given.phone)):
            if value:
                ref = contact(kind, value, self.ctx.region)
                if ref is None:
                    raise ApiError(422, f"customer.{kind.value}: not a valid {kind.value}")
                refs.append(ref)
        return Sender(given.name.strip() or None, tuple(refs))

    def stored(self, inbound: Inbound) -> tuple[int, int]:
        """Intake, then (ticket number, message id), also for a retry intake calls a duplicate."""
        result = self.desk.intake(inbound)
        number, message_id = result.ticket_number, result.message_id
        if result.outcome is Outcome.DUPLICATE and inbound.external_id:
            with self.desk.store.read() as session:
                found = reads.message_ticket(session, inbound.external_id)
            number, message_id = found if found else (None, None)
        if number is None or message_id is None:
            raise ApiError(409, "it could not be stored; retry")
        return number, message_id

    def customer_message(
        self,
        who: Principal,
        scope: reads.TicketScope,
        text: str,
        channel: str,
        files: tuple[InboundAttachment, ...],
        key: str | None,
    ) -> MessageCreated:
        number, message_id = self.stored(
            Inbound(
                channel=Channel(channel),
                sender=Sender(None, ()),
                customer_id=scope.customer_id,  # the ticket's own customer, found already
                chat_id=account_chat(scope.customer_id),
                text=text,
                external_id=external_id(who, key),
                attachments=files,
                ticket_number=scope.number,
                source=f"api token {who.name}",
            )
        )
        return self.created(who, number, message_id)

    def created(self, who: Principal, number: int, message_id: int) -> MessageCreated:
        scope = self.visible(who, number)
        agent = who.kind is TokenKind.AGENT
        with self.desk.store.read() as session:
            found = reads.thread(session, scope.id, public=not agent, message_id=message_id)
        if not found:
            raise ApiError(404, f"no message {message_id} on ticket #{number}")
        return MessageCreated(ticket=number, message=message_out(number, found[0], agent=agent))


def decoded(n: int, filename: str, content_type: str, data: str) -> InboundAttachment:
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, f"attachments.{n - 1}.data_base64: not base64") from None
    return file_in(n, filename, content_type, raw)


def file_in(n: int, filename: str, content_type: str, data: bytes) -> InboundAttachment:
    return InboundAttachment(
        filename=safe_filename(filename, f"attachment-{n}.bin"),
        content_type=content_type_of(content_type),
        data=data,
    )


def content_type_of(value: str) -> str:
    """A client's content type if it is a plain ``type/subtype``, else opaque bytes."""
    value = value.split(";", 1)[0].strip().lower()
    kind, _, sub = value.partition("/")
    plain = all(c.isascii() and (c.isalnum() or c in "-+.") for c in kind + sub)
    return value if kind and sub and plain and len(value) <= 100 else "application/octet-stream"
