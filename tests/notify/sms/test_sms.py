"""Notices by SMS through the real Twilio client against the local Twilio server: the arrival
time goes by SMS to a customer with a phone (whatever channel they wrote on), a resolved SMS
ticket is told by SMS; the arrival time is parsed and stored with an event."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from sdesk.core.arrival import parse_arrival
from sdesk.core.desk import Desk
from sdesk.core.enums import Status
from sdesk.core.errors import DeskError
from sdesk.store.models import Event, Ticket
from tests.conftest import FakeClock
from tests.twilio.conftest import ANN_PHONE, DESK_NUMBER, Served, outbox_rows, send
from tests.twilio.twilioapi import TwilioServer

pytestmark = pytest.mark.timeout(60)


def test_arrival_time_is_texted_to_a_customer_with_a_phone(
    desk: Desk, twilio: TwilioServer, served: Served, clock: FakeClock
) -> None:
    number = 1001  # Ann's mail ticket; she gave her mobile too
    eta = clock() + timedelta(minutes=45)
    assert desk.set_arrival(number, "eli", eta) is not None
    send(desk)
    text = twilio.last_text()
    assert (text.to, text.from_) == (ANN_PHONE, DESK_NUMBER)
    assert f"#{number}" in text.body and f"{eta:%H:%M}" in text.body
    with desk.store.read() as s:
        t = s.execute(select(Ticket).where(Ticket.number == number)).scalar_one()
        [ev] = s.execute(select(Event).where(Event.kind == "ticket.arrival")).scalars()
    assert t.arrival_at == eta
    assert json.loads(ev.data or "{}")["arrival"].startswith(f"{eta:%Y-%m-%d %H:%M}")
    with pytest.raises(DeskError, match="already past"):
        desk.set_arrival(number, "eli", clock() - timedelta(minutes=1))


def test_a_resolved_sms_ticket_is_told_by_sms(
    desk: Desk, twilio: TwilioServer, served: Served
) -> None:
    twilio.inbound_sms(f"{served.settings.public_url}/twilio/sms", ANN_PHONE, DESK_NUMBER, "Hi?")
    number = 1002
    desk.set_status(number, "eli", Status.RESOLVED)
    send(desk)
    text = twilio.last_text()
    assert text.to == ANN_PHONE and "resolved" in text.body
    assert [r.kind for r in outbox_rows(desk) if r.channel == "sms"] == ["notice"]


def test_parse_arrival(clock: FakeClock) -> None:
    now = clock()
    assert parse_arrival("+45m", now) == now + timedelta(minutes=45)
    assert parse_arrival("+1h30m", now) == now + timedelta(minutes=90)
    later = (now + timedelta(hours=2)).strftime("%H:%M")
    assert parse_arrival(later, now) == (now + timedelta(hours=2)).replace(second=0, microsecond=0)
    earlier = (now - timedelta(hours=1)).strftime("%H:%M")
    assert parse_arrival(earlier, now) > now  # tomorrow
    for bad in ("soon", "25:00", "+0m", "+9999h"):
        with pytest.raises(DeskError):
            parse_arrival(bad, now)
