"""The field engineer's arrival time: set on a ticket from the console, told to the customer at
once (by SMS when they have a phone and the desk has Twilio, else by their own channel) in the
same transaction (core/notify.py)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sdesk.core import events, notify
from sdesk.core.acts import _begin, _touch
from sdesk.core.errors import DeskError

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

_CLOCK = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")
_IN = re.compile(r"^\s*\+\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$", re.I)


def parse_arrival(text: str, now: datetime, zone: str = "UTC") -> datetime:
    """ "14:30" (the desk's time zone; tomorrow when already past) or "+45m", "+1h30m" → UTC."""
    if m := _CLOCK.match(text):
        hour, minute = int(m.group(1)), int(m.group(2))
        if hour > 23 or minute > 59:
            raise DeskError(f"{text.strip()!r} is no time of day (HH:MM)")
        tz = ZoneInfo(zone)
        local = now.astimezone(tz)
        at = datetime.combine(local.date(), time(hour, minute), tz)
        if at <= local:
            at += timedelta(days=1)
        return at.astimezone(now.tzinfo)
    if (m := _IN.match(text)) and (m.group(1) or m.group(2)):
        delta = timedelta(hours=int(m.group(1) or 0), minutes=int(m.group(2) or 0))
        if not timedelta(0) < delta <= timedelta(days=7):
            raise DeskError("an arrival is within a week from now")
        return now + delta
    raise DeskError(f"arrival {text.strip()!r}: type HH:MM or +45m")


def set_arrival(session: Session, desk: Desk, number: int, by: str, at: datetime) -> int | None:
    """Store the arrival time with an event and tell the customer; the notice's message id."""
    now, _agent, ticket = _begin(session, desk, number, by, "set_arrival", None)
    if at <= now:
        raise DeskError(f"arrival {at:%Y-%m-%d %H:%M} UTC is already past")
    ticket.arrival_at = at
    _touch(ticket, now)
    events.record(session, "ticket.arrival", at=now, ticket_id=ticket.id, actor=by, arrival=at)
    zone = ZoneInfo(desk.settings.alerts.business_hours.timezone)
    local = at.astimezone(zone)
    shown = (
        f"{local:%H:%M}" if local.date() == now.astimezone(zone).date() else f"{local:%d.%m %H:%M}"
    )
    return notify.queue_notice(
        session, desk, ticket, "arrival", now, arrival=shown, prefer_sms=True
    )
