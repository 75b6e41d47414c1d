"""Calling a customer: the console's `c` key. The act records the call on the ticket and queues
it in the outbox; the telephony layer (Twilio) places it."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core import events, outbox
from sdesk.core.acts import _begin, _touch
from sdesk.core.contacts import normalise_phone
from sdesk.core.enums import Channel, DeliveryState, MessageKind
from sdesk.core.errors import DeskError, NoRoute
from sdesk.store.models import Contact, Message

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

_REFUSED_TYPES = {  # phonenumbers.PhoneNumberType, by name: imported only when dialling
    "PREMIUM_RATE": "a premium-rate number",
    "SHARED_COST": "a shared-cost number",
}


def telephony_problem(desk: Desk) -> str | None:
    """Why calls cannot be placed, or None when telephony is set up."""
    tel = desk.settings.telephony
    if tel.provider == "none":
        return "telephony is not configured: set [telephony] provider and from_number in config"
    if not tel.from_number:
        return "telephony has no caller id: set [telephony] from_number in config"
    return None


def check_callable(phone: str, region: str) -> str:
    """The number in E.164, or DeskError saying why sdesk will not dial it."""
    e164 = normalise_phone(phone, region)
    if e164 is None:
        raise DeskError(f"{phone!r} is not a phone number")
    import phonenumbers

    kind = phonenumbers.number_type(phonenumbers.parse(e164))
    for name, what in _REFUSED_TYPES.items():
        if kind == getattr(phonenumbers.PhoneNumberType, name):
            raise DeskError(f"{e164} is {what}; sdesk does not dial those")
    return e164


def call_customer(
    session: Session,
    desk: Desk,
    number: int,
    by: str,
    phone: str,
    *,
    expected_version: int | None = None,
) -> int:
    """Queue an outbound call to one of the ticket's customer's numbers; returns the call log's
    message id."""
    problem = telephony_problem(desk)
    if problem:
        raise NoRoute(problem)
    at, agent, ticket = _begin(session, desk, number, by, "call", expected_version)
    e164 = check_callable(phone, desk.settings.default_region)
    known = session.execute(
        select(col(Contact.id)).where(
            col(Contact.customer_id) == ticket.customer_id,
            col(Contact.kind) == "phone",
            col(Contact.value) == e164,
        )
    ).first()
    if known is None:
        raise DeskError(f"{e164} is not a number of this ticket's customer")
    key = f"call.{uuid.uuid4().hex}@{desk.settings.desk_domain}"
    assert ticket.id is not None  # a stored row
    row = Message(
        ticket_id=ticket.id,
        kind=MessageKind.CALL.value,
        channel=Channel.PHONE.value,
        external_id=key,
        text=f"Outgoing call to {e164} placed by {agent.name or by}.",
        author_agent_id=agent.id,
        author_name=agent.name or by,
        author_address=e164,
        created_at=at,
        received_at=at,
        delivery_state=DeliveryState.QUEUED.value,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    payload = {"ticket": ticket.number, "to": e164, "from": desk.settings.telephony.from_number}
    outbox.queue(
        session,
        kind="call",
        channel=Channel.PHONE.value,
        ticket_id=ticket.id,
        message_id=row.id,
        recipient=e164,
        payload=payload,
        at=at,
        key=key,
    )
    _touch(ticket, at)
    events.record(
        session, "call.requested", at=at, ticket_id=ticket.id, actor=by, message=row.id, to=e164
    )
    return row.id
