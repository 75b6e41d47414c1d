"""Replies on SMS tickets: out through the outbox by the Messages API, delivery callbacks,
opt-out, and the segment count the reply box shows (checked against the server's own count)."""

from __future__ import annotations

import pytest

from sdesk.core.desk import Desk
from sdesk.core.sms import sms_size
from tests.twilio.conftest import ANN_PHONE, DESK_NUMBER, Served, messages, outbox_rows, send
from tests.twilio.conftest import written as counts
from tests.twilio.twilioapi import TwilioServer


def sms_ticket(desk: Desk, twilio: TwilioServer, served: Served) -> int:
    url = f"{served.settings.public_url}/twilio/sms"
    twilio.inbound_sms(url, ANN_PHONE, DESK_NUMBER, "Is my order on its way?")
    number = 1002
    assert messages(desk)[-1].channel == "sms"
    return number


def test_a_reply_leaves_by_sms_and_follows_its_delivery(
    desk: Desk, twilio: TwilioServer, served: Served
) -> None:
    number = sms_ticket(desk, twilio, served)
    result = desk.reply(number, "eli", "Yes, it arrives tomorrow.")
    assert result.warning is None
    send(desk)
    text = twilio.last_text()
    assert (text.to, text.from_, text.body) == (ANN_PHONE, DESK_NUMBER, "Yes, it arrives tomorrow.")
    assert text.status_callback == f"{served.settings.public_url}/twilio/sms/status"
    reply = next(m for m in messages(desk) if m.id == result.message_id)
    assert (reply.channel, reply.delivery_state, reply.message_id) == (
        "sms",
        "sent",
        f"twilio:{text.sid}",
    )
    for status in ("sent", "delivered"):
        answer = twilio.message_status(text.sid, status)
        assert answer is not None and answer.status_code == 200
    reply = next(m for m in messages(desk) if m.id == result.message_id)
    assert reply.delivery_state == "delivered"
    before = counts(desk)
    twilio.message_status(text.sid, "delivered")  # replayed
    twilio.message_status(text.sid, "sent")  # late
    assert counts(desk) == before
    reply = next(m for m in messages(desk) if m.id == result.message_id)
    assert reply.delivery_state == "delivered"


def test_an_undelivered_text_fails_with_twilios_code(
    desk: Desk, twilio: TwilioServer, served: Served
) -> None:
    number = sms_ticket(desk, twilio, served)
    result = desk.reply(number, "eli", "Your code is 1234")
    send(desk)
    twilio.message_status(twilio.last_text().sid, "undelivered", error_code=30003)
    reply = next(m for m in messages(desk) if m.id == result.message_id)
    assert reply.delivery_state == "failed"
    assert reply.delivery_error == "undelivered (Twilio error 30003)"


def test_an_opted_out_number_is_a_permanent_failure_with_the_reason(
    desk: Desk, twilio: TwilioServer, served: Served
) -> None:
    number = sms_ticket(desk, twilio, served)
    twilio.opted_out.add(ANN_PHONE)
    result = desk.reply(number, "eli", "Hello again")
    send(desk)
    send(desk)  # nothing is tried again
    assert twilio.count("messages.create") == 1 and not twilio.texts
    reply = next(m for m in messages(desk) if m.id == result.message_id)
    assert reply.delivery_state == "failed"
    assert "opted out" in (reply.delivery_error or "") and "21610" in (reply.delivery_error or "")
    (row,) = [r for r in outbox_rows(desk) if r.kind == "reply"]
    assert (row.state, row.attempts) == ("failed", 1)


def test_twilio_down_is_retried_later(desk: Desk, twilio: TwilioServer, served: Served) -> None:
    number = sms_ticket(desk, twilio, served)
    twilio.fail("messages.create", 503, 20500, "Service unavailable")
    result = desk.reply(number, "eli", "Checking")
    send(desk)
    reply = next(m for m in messages(desk) if m.id == result.message_id)
    assert reply.delivery_state == "queued" and "20500" in (reply.delivery_error or "")


@pytest.mark.parametrize(
    ("text", "segments", "encoding"),
    [
        ("a" * 160, 1, "GSM-7"),
        ("a" * 161, 2, "GSM-7"),
        ("a" * 306, 2, "GSM-7"),
        ("a" * 307, 3, "GSM-7"),
        ("€" * 80, 1, "GSM-7"),  # an extension character takes two
        ("€" * 81, 2, "GSM-7"),
        ("Grüße" + "x" * 65, 1, "GSM-7"),  # ü is in GSM-7, ß too
        ("Dzień dobry" + "x" * 59, 1, "UCS-2"),  # ń is not: the whole text is UCS-2
        ("Dzień dobry" + "x" * 60, 2, "UCS-2"),
        ("ł" * 134, 2, "UCS-2"),
        ("ł" * 135, 3, "UCS-2"),
        ("😀" * 35, 1, "UCS-2"),  # two UTF-16 units each
    ],
)
def test_segment_count_agrees_with_the_server(
    twilio: TwilioServer, text: str, segments: int, encoding: str
) -> None:
    from tests.twilio.twilioapi import _segments

    size = sms_size(text)
    assert (size.segments, size.encoding) == (segments, encoding)
    assert _segments(text) == segments


def test_a_text_to_a_country_not_allowed_never_reaches_twilio(
    desk: Desk, twilio: TwilioServer, served: Served
) -> None:
    url = f"{served.settings.public_url}/twilio/sms"
    twilio.inbound_sms(url, "+33612345678", DESK_NUMBER, "Bonjour")  # a French mobile
    before = twilio.count()
    result = desk.reply(1002, "eli", "Bonjour !")
    send(desk)
    assert twilio.count() == before
    reply = next(m for m in messages(desk) if m.id == result.message_id)
    assert reply.delivery_state == "failed"
    assert "not in [telephony] allowed_countries" in (reply.delivery_error or "")
