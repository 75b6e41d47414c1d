"""Calling a customer: the console's `c` key (click-to-call through Twilio).

The act checks everything before Twilio could ever be asked (ARCHITECTURE.md rule 9): the
number (``phonenumbers``: valid, not premium-rate, shared-cost, UAN or of unknown type, in an
allowed country), the agent's own phone (Twilio rings it first, then connects the customer),
one call under way per ticket (a held key places one call, not thirty: the ``phone_call``
row's unique ``active_ticket``), and the daily caps per agent and per desk. It then writes the
call-log message, the ``phone_call`` row and the outbox row in one transaction; the
dispatcher's Twilio sender places the call.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core import events, outbox
from sdesk.core.acts import _begin, _touch
from sdesk.core.contacts import normalise_phone
from sdesk.core.enums import Channel, DeliveryState, MessageKind
from sdesk.core.errors import DeskError, NoRoute
from sdesk.store.models import Contact, Message, PhoneCall

if TYPE_CHECKING:
    from sdesk.config import Settings
    from sdesk.core.desk import Desk

_REFUSED_TYPES = {  # phonenumbers.PhoneNumberType, by name: imported only when dialling
    "PREMIUM_RATE": "a premium-rate number",
    "SHARED_COST": "a shared-cost number",
    "UAN": "a universal access number (UAN)",
    "UNKNOWN": "a number of unknown type",
}
ENDED = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# Twilio's call states in the order a call moves through them; a report of an earlier state
# than the one known (a late or replayed callback) changes nothing.
RANK = {
    "requested": 0,
    "queued": 1,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    "answered": 3,
    **dict.fromkeys(ENDED, 4),
}


def telephony_problem(desk: Desk) -> str | None:
    """Why calls cannot be placed, or None when telephony is set up."""
    tel = desk.settings.telephony
    if tel.provider == "none":
        return "telephony is not configured: set [telephony] provider and from_number in config"
    if not tel.from_number:
        return "telephony has no caller id: set [telephony] from_number in config"
    return None


def allowed_regions(settings: Settings) -> set[str]:
    """The countries calls and texts may go to: the allow-list, else the desk's own region."""
    listed = {c.upper() for c in settings.telephony.allowed_countries}
    return listed or {settings.default_region.upper()}


def check_callable(phone: str, region: str, allowed: set[str] | None = None) -> str:
    """The number in E.164, or DeskError saying why sdesk will not dial (or text) it."""
    e164 = normalise_phone(phone, region)
    if e164 is None:
        raise DeskError(f"{phone!r} is not a phone number")
    import phonenumbers

    parsed = phonenumbers.parse(e164)
    kind = phonenumbers.number_type(parsed)
    for name, what in _REFUSED_TYPES.items():
        if kind == getattr(phonenumbers.PhoneNumberType, name):
            raise DeskError(f"{e164} is {what}; sdesk does not dial those")
    if not phonenumbers.is_valid_number(parsed):
        raise DeskError(f"{e164} is not a valid number")
    country = phonenumbers.region_code_for_number(parsed)
    if allowed is not None and country not in allowed:
        listed = ", ".join(sorted(allowed))
        raise DeskError(
            f"{e164} is in {country or 'no country'}, not in [telephony] allowed_countries "
            f"({listed})"
        )
    return e164


def _day_start(at: datetime) -> datetime:
    return datetime.combine(at.date(), time(0), tzinfo=at.tzinfo)


def _check_caps(session: Session, desk: Desk, agent_id: int, at: datetime) -> None:
    tel = desk.settings.telephony
    since = _day_start(at)
    today = (
        select(func.count())
        .select_from(PhoneCall)
        .where(
            col(PhoneCall.direction) == "outbound",
            col(PhoneCall.created_at) >= since,
            col(PhoneCall.created_at) < since + timedelta(days=1),
        )
    )
    mine = session.execute(today.where(col(PhoneCall.agent_id) == agent_id)).scalar_one()
    if mine >= tel.agent_daily_calls:
        raise DeskError(
            f"you placed {mine} calls today, your daily cap ([telephony] agent_daily_calls)"
        )
    everyone = session.execute(today).scalar_one()
    if everyone >= tel.desk_daily_calls:
        raise DeskError(
            f"the desk placed {everyone} calls today, its daily cap ([telephony] desk_daily_calls)"
        )


def call_customer(
    session: Session,
    desk: Desk,
    number: int,
    by: str,
    phone: str,
    *,
    expected_version: int | None = None,
) -> int:
    """Queue a click-to-call to one of the ticket's customer's numbers; returns the call log's
    message id. Refused (DeskError, nothing written) when any check fails."""
    problem = telephony_problem(desk)
    if problem:
        raise NoRoute(problem)
    settings = desk.settings
    at, agent, ticket = _begin(session, desk, number, by, "call", expected_version)
    assert ticket.id is not None and agent.id is not None  # stored rows
    if not agent.phone:
        raise DeskError(
            f"your profile has no phone for Twilio to ring first: sdesk agent phone {by} +..."
        )
    try:
        agent_phone = check_callable(agent.phone, settings.default_region)
    except DeskError as exc:
        raise DeskError(f"your profile's phone: {exc}") from None
    e164 = check_callable(phone, settings.default_region, allowed_regions(settings))
    known = session.execute(
        select(col(Contact.id)).where(
            col(Contact.customer_id) == ticket.customer_id,
            col(Contact.kind) == "phone",
            col(Contact.value) == e164,
        )
    ).first()
    if known is None:
        raise DeskError(f"{e164} is not a number of this ticket's customer")
    busy = session.execute(
        select(col(PhoneCall.state)).where(col(PhoneCall.active_ticket) == ticket.id)
    ).first()
    if busy is not None:
        raise DeskError(f"a call on #{number} is already under way ({busy[0]}); H hangs it up")
    _check_caps(session, desk, agent.id, at)
    key = f"call.{uuid.uuid4().hex}@{settings.desk_domain}"
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
    call = PhoneCall(
        message_id=row.id,
        ticket_id=ticket.id,
        direction="outbound",
        agent_id=agent.id,
        customer_number=e164,
        agent_number=agent_phone,
        active_ticket=ticket.id,
        created_at=at,
    )
    session.add(call)
    session.flush()
    payload = {
        "op": "call",
        "call": call.id,
        "ticket": ticket.number,
        "to": e164,
        "agent": agent_phone,
        "from": settings.telephony.from_number,
    }
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


def retry(
    session: Session, message_id: int, ticket_id: int | None, number: int, at: datetime
) -> None:
    """A failed call tried again (``retry_delivery``): its ``phone_call`` row is under way once
    more, unless another call on the ticket is."""
    call = session.execute(
        select(PhoneCall).where(col(PhoneCall.message_id) == message_id)
    ).scalar_one_or_none()
    if call is None:
        return
    busy = session.execute(
        select(col(PhoneCall.id)).where(col(PhoneCall.active_ticket) == ticket_id)
    ).first()
    if busy is not None and busy[0] != call.id:
        raise DeskError(f"a call on #{number} is already under way; H hangs it up")
    call.state, call.sid, call.error = "requested", None, None
    call.active_ticket, call.hangup_at = ticket_id, None
    call.answered_at = call.ended_at = None
    call.duration = None
    call.created_at = at  # asked for again now: placed within minutes, or not at all
