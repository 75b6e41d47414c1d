"""Customer notifications (``[notify]``): the ticket resolved (how to reopen it), closed (a
satisfaction request), and the engineer's arrival time, through the customer's own channel.

Each notice is queued in the OUTBOX in the transaction of the change that causes it (the act
calls ``queue_notice``), as a system message on the ticket, so the cabinet shows it too and the
dispatcher sends it like a reply (ARCHITECTURE.md transactions). Rule 9 (outbound safety) holds
as for the automatic acknowledgement (core/autoreply.py): never to a robot's address, at most
``per_recipient_limit`` notices to one address per window; each skip is a ``notify.skipped``
event with its reason.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core import events, outbox, routes
from sdesk.core.autoreply import robot_address
from sdesk.core.enums import Channel, ContactKind, DeliveryState, MessageKind
from sdesk.core.ratings import RATE_PREFIX
from sdesk.core.replies import _last_inbound, _reply_subject
from sdesk.store.models import Contact, Customer, Message, Outbox, TelegramUpdate, Ticket

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

OUTBOX_KIND = "notice"  # every customer notice counts toward the per-recipient cap
AUTHOR = "sdesk"
_PLACEHOLDER = re.compile(r"\{(customer|ticket|subject|link|arrival|url)\}")


def fill(template: str, values: dict[str, str]) -> str:
    """Known placeholders only, in one pass (a customer's ``{ticket}`` in a subject stays)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)


def rating_buttons(number: int) -> list[list[dict[str, str]]]:
    """One row of five inline buttons, 1 to 5, for the Telegram satisfaction request."""
    return [[{"text": str(n), "data": f"{RATE_PREFIX}{number}:{n}"} for n in range(1, 6)]]


def queue_notice(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    notice: str,
    at: datetime,
    *,
    arrival: str = "",
    prefer_sms: bool = False,
) -> int | None:
    """Queue ``notice`` ("resolved", "closed", "arrival") to the ticket's customer; the stored
    message's id, or None when it is off or skipped (the reason is an event)."""
    settings = desk.settings.notify
    if not getattr(settings, notice):
        return None
    assert ticket.id is not None
    last = _last_inbound(session, ticket.id)
    channel = Channel(last.channel if last else ticket.channel)
    if channel is Channel.PHONE:
        channel = Channel.SMS  # a caller is answered by SMS to the same number
    address = (last.author_address if last else None) or ""
    if prefer_sms and desk.settings.telephony.provider == "twilio":
        phone = _phone_of(session, ticket.customer_id)
        if phone:
            channel, address = Channel.SMS, phone
    why = _why_not(session, desk, channel, address, at)
    if why:
        events.record(session, "notify.skipped", at=at, ticket_id=ticket.id, notice=notice, why=why)
        return None
    customer = session.get(Customer, ticket.customer_id)
    name = ((last.author_name if last else "") or (customer.name if customer else "")).strip()
    if "@" in name or name.startswith("+"):
        name = ""  # an address or a number is no name to greet
    url = ""
    http = desk.settings.http
    if http is not None and http.public_url and notice == "closed":
        url = f"{http.public_url.rstrip('/')}/tickets/{ticket.number}"
    language = _language(session, last) or settings.language
    values = {
        "customer": name.split()[0] if name.split() else "",
        "ticket": str(ticket.number),
        "subject": ticket.subject,
        "arrival": arrival,
        "url": url,
    }
    values["link"] = fill(settings.template("link", language), values) if url else ""
    text = fill(settings.template(notice, language), values)
    if not values["customer"]:
        text = text.replace(", !", "!").replace(" ,", ",")  # "Hello ," / "Здравствуйте, !"
    message_id = (
        f"sdesk.{ticket.number}.{notice}.{uuid.uuid4().hex[:16]}@{desk.settings.desk_domain}"
    )
    subject = _reply_subject(ticket)
    references = [
        *((last.references or "").split() if last else []),
        *([last.message_id] if last and last.message_id else []),
    ][-20:]
    payload: dict[str, Any] = {
        "ticket": ticket.number,
        "subject": subject,
        "message_id": message_id,
        "in_reply_to": last.message_id if last else None,
        "references": references,
        "text": text,
        "automatic": True,
    }
    if notice == "closed" and channel is Channel.TELEGRAM:
        payload["buttons"] = rating_buttons(ticket.number)
    warning = routes.why_not_sent(desk.settings, channel)
    row = Message(
        ticket_id=ticket.id,
        kind=MessageKind.SYSTEM.value,
        channel=channel.value,
        external_id=message_id,
        message_id=message_id if channel is Channel.EMAIL else None,
        in_reply_to=payload["in_reply_to"],
        references=" ".join(references) or None,
        subject=subject,
        text=text,
        author_name=AUTHOR,
        author_address=address,
        created_at=at,
        received_at=at,
        delivery_state=(DeliveryState.WAITING if warning else DeliveryState.QUEUED).value,
        delivery_error=warning,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    outbox.queue(
        session,
        kind=OUTBOX_KIND,
        channel=channel.value,
        ticket_id=ticket.id,
        message_id=row.id,
        recipient=address,
        payload=payload,
        at=at,
        key=f"{OUTBOX_KIND}:{message_id}",
    )
    session.flush()  # the next notice in this transaction counts this one toward the cap
    events.record(
        session,
        "notify.queued",
        at=at,
        ticket_id=ticket.id,
        notice=notice,
        message=row.id,
        channel=channel.value,
        to=address,
    )
    return row.id


def _why_not(
    session: Session, desk: Desk, channel: Channel, address: str, at: datetime
) -> str | None:
    settings = desk.settings.notify
    if not address:
        return "no address to tell"
    if channel is Channel.EMAIL and (why := robot_address(address)):
        return why
    since = at - timedelta(hours=settings.per_recipient_hours)
    sent = session.execute(
        select(func.count())
        .select_from(Outbox)
        .where(
            col(Outbox.kind) == OUTBOX_KIND,
            func.lower(Outbox.recipient) == address.lower(),
            col(Outbox.created_at) > since,
        )
    ).scalar_one()
    if sent >= settings.per_recipient_limit:
        return (
            f"cap: {sent} notices to {address} in the last "
            f"{settings.per_recipient_hours:g} h (limit {settings.per_recipient_limit})"
        )
    return None


def _phone_of(session: Session, customer_id: int) -> str | None:
    row = session.execute(
        select(col(Contact.value))
        .where(
            col(Contact.customer_id) == customer_id, col(Contact.kind) == ContactKind.PHONE.value
        )
        .order_by(col(Contact.id))
        .limit(1)
    ).first()
    return str(row[0]) if row else None


def _language(session: Session, last: Message | None) -> str | None:
    """The customer's language when their channel says it: Telegram's ``language_code`` on the
    update that brought their last message; None elsewhere (the desk's language is used)."""
    if last is None or last.id is None or last.channel != Channel.TELEGRAM.value:
        return None
    raw = session.execute(
        select(col(TelegramUpdate.raw)).where(col(TelegramUpdate.message_id) == last.id).limit(1)
    ).scalar_one_or_none()
    try:
        update = json.loads(raw or b"{}")
    except ValueError:
        return None
    message = update.get("message") or update.get("edited_message") or {}
    code = (message.get("from") or {}).get("language_code")
    return code if isinstance(code, str) and code else None
