"""The telephony acts (``Desk.phone``) on both databases: a call's state only moves forward,
inbound calls and recordings are stored once per Twilio id, a text's delivery ends once."""

from __future__ import annotations

from sqlalchemy import func, select

from sdesk.config import TelephonySettings
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind, Role
from sdesk.core.inbound import ContactRef
from sdesk.store.models import Event, Message, PhoneCall
from tests.conftest import FakeClock
from tests.factories import chat

CUSTOMER = "+12015550123"


def setup(desk: Desk) -> None:
    desk.settings = desk.settings.model_copy(
        update={"telephony": TelephonySettings(provider="twilio", from_number="+12125550100")}
    )
    desk.add_agent("dana", role=Role.DISPATCHER, phone="+12125550141")
    desk.intake(chat(Channel.SMS, "SM1", "call me", ContactRef(ContactKind.PHONE, CUSTOMER)))


def events(desk: Desk) -> int:
    with desk.store.read() as s:
        return int(s.execute(select(func.count()).select_from(Event)).scalar_one())


def call(desk: Desk) -> PhoneCall:
    with desk.store.read() as s:
        row = s.execute(select(PhoneCall).order_by(PhoneCall.id.desc())).scalars().first()  # type: ignore[union-attr]  # a column
        assert row is not None
        s.expunge(row)
        return row


def test_a_calls_state_moves_forward_only(desk: Desk, clock: FakeClock) -> None:
    setup(desk)
    desk.call_customer(1001, "dana", CUSTOMER)
    placed = call(desk)
    assert placed.id is not None
    desk.phone.call_placed(placed.id, "CA1")
    assert desk.phone.call_status("CA1", "ringing")
    clock.advance(seconds=5)
    assert desk.phone.call_status("CA1", "in-progress")
    clock.advance(seconds=30)
    assert not desk.phone.call_status("CA1", "ringing")  # late: nothing
    assert not desk.phone.call_status("CA1", "in-progress")  # again: nothing
    seen = events(desk)
    assert desk.phone.call_status("CA1", "completed")  # polled: no duration yet, measured here
    assert (call(desk).state, call(desk).duration, call(desk).active_ticket) == (
        "completed",
        30,
        None,
    )
    assert desk.phone.call_status("CA1", "completed", 31)  # Twilio's own count wins
    assert not desk.phone.call_status("CA1", "completed", 31)
    assert not desk.phone.call_status("CA1", "busy")
    assert call(desk).duration == 31 and events(desk) == seen + 2
    assert not desk.phone.call_status("CA-unknown", "ringing")
    assert desk.phone.active_calls() == []


def test_inbound_calls_and_recordings_are_stored_once(desk: Desk) -> None:
    setup(desk)
    first = desk.phone.inbound_call("CA9", CUSTOMER, "+12125550100")
    again = desk.phone.inbound_call("CA9", CUSTOMER, "+12125550100")
    assert not first.repeated and again.repeated
    assert (again.ticket_number, again.message_id) == (first.ticket_number, first.message_id)
    assert desk.phone.call_recording("CA9", "RE1", "https://api.twilio.com/RE1", 12)
    assert not desk.phone.call_recording("CA9", "RE1", "https://api.twilio.com/RE1", 12)
    assert desk.phone.call_transcription("CA9", "call me back")
    assert not desk.phone.call_transcription("CA9", "call me back")
    with desk.store.read() as s:
        message = s.get(Message, first.message_id)
        assert message is not None
        calls = s.execute(select(func.count()).select_from(PhoneCall)).scalar_one()
    assert calls == 1 and message.kind == "call"
    assert "Voicemail: call me back" in message.text and "RE1" in message.notes


def test_a_texts_delivery_ends_once(desk: Desk) -> None:
    setup(desk)
    result = desk.reply(1001, "dana", "on our way")
    with desk.store.write() as s:
        message = s.get(Message, result.message_id)
        assert message is not None
        message.message_id, message.delivery_state = "twilio:SM7", "sent"
    assert not desk.phone.sms_status("SM7", "sent")
    assert desk.phone.sms_status("SM7", "undelivered", 21610)
    assert not desk.phone.sms_status("SM7", "delivered")
    with desk.store.read() as s:
        message = s.get(Message, result.message_id)
    assert message is not None and message.delivery_state == "failed"
    assert "opted out" in (message.delivery_error or "")
