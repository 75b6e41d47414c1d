"""Twilio's webhooks on the desk's real HTTP server: texts and calls coming in, voicemail with
its recording and transcription, the signature check, and replays."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sdesk.core.desk import Desk
from sdesk.store.models import Attachment, Contact, Ticket
from tests.twilio.conftest import (
    ANN_PHONE,
    DESK_NUMBER,
    Served,
    calls,
    messages,
    written,
)
from tests.twilio.twilioapi import Call, TwilioServer


def public(served: Served, path: str) -> str:
    """The URL Twilio was given (``[http] public_url``): what it signs."""
    return f"{served.settings.public_url}/twilio/{path}"


def tickets(desk: Desk) -> list[Ticket]:
    with desk.store.read() as s:
        rows = list(s.execute(select(Ticket).order_by(Ticket.id)).scalars())
        s.expunge_all()
        return rows


def test_a_text_from_a_phone_an_email_customer_gave_joins_that_customer(
    desk: Desk, twilio: TwilioServer, served: Served
) -> None:
    (mail_ticket,) = tickets(desk)
    sid, answer = twilio.inbound_sms(public(served, "sms"), "+49 1521 2345678", DESK_NUMBER, "Hi!")
    assert answer.status_code == 200 and answer.text.startswith("<?xml")
    text = messages(desk)[-1]
    sms_ticket = tickets(desk)[-1]
    assert (text.channel, text.kind, text.text, text.external_id) == ("sms", "inbound", "Hi!", sid)
    assert sms_ticket.channel == "sms" and sms_ticket.customer_id == mail_ticket.customer_id
    with desk.store.read() as s:
        phones = s.execute(select(Contact.value).where(Contact.kind == "phone")).scalars().all()
    assert phones == [ANN_PHONE]  # no second customer, no second contact

    twilio.inbound_sms(public(served, "sms"), ANN_PHONE, DESK_NUMBER, "Still there?")
    assert len(tickets(desk)) == 2  # the open SMS ticket takes the next text
    assert messages(desk)[-1].ticket_id == sms_ticket.id

    before = written(desk)
    twilio.inbound_sms(public(served, "sms"), ANN_PHONE, DESK_NUMBER, "Hi!", sid=sid)
    assert written(desk) == before  # Twilio sent it again: nothing new


def test_an_mms_brings_its_pictures_and_a_file_it_cannot_fetch_stays_a_link(
    desk: Desk, twilio: TwilioServer, served: Served
) -> None:
    """The files are fetched from Twilio (basic auth, through ``api_base_url``) into the
    message's attachments; one Twilio no longer has is named with the reason, and the text and
    the other file are stored all the same."""
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    kept = twilio.add_media(png, "image/png")
    gone = kept.rsplit("/", 1)[0] + "/ME" + "f" * 32
    before = twilio.count("media.fetch")
    sid, answer = twilio.inbound_sms(
        public(served, "sms"),
        ANN_PHONE,
        DESK_NUMBER,
        "see",
        media=[(kept, "image/png"), (gone, "image/jpeg")],
    )
    assert answer.status_code == 200
    assert twilio.count("media.fetch") - before == 2
    text = messages(desk)[-1]
    assert text.text == "see" and text.external_id == sid
    with desk.store.read() as s:
        files = list(
            s.execute(select(Attachment).where(Attachment.message_id == text.id)).scalars()
        )
        s.expunge_all()
    assert [(f.filename, f.content_type, f.size) for f in files] == [
        ("mms-1.png", "image/png", len(png))
    ]
    assert desk.store.blobs.get(files[0].sha256) == png
    assert f"MMS image/jpeg: {gone} (not fetched: Twilio answered 404)" in text.notes


def test_voicemail_with_recording_and_transcription(
    desk: Desk, twilio: TwilioServer, served: Served
) -> None:
    sid, answer = twilio.inbound_call(public(served, "voice"), "+4915299998888", DESK_NUMBER)
    assert answer.status_code == 200
    twiml = answer.text
    assert "<Say>Thank you for calling." in twiml and "<Record " in twiml
    assert f'recordingStatusCallback="{public(served, "voice/recording")}"' in twiml
    assert f'transcribeCallback="{public(served, "voice/transcription")}"' in twiml
    (call,) = calls(desk)
    assert (call.direction, call.sid, call.customer_number) == ("inbound", sid, "+4915299998888")
    log = messages(desk)[-1]
    assert log.kind == "call" and "Incoming call from +4915299998888" in log.text

    recording = {
        "AccountSid": twilio.account_sid,
        "CallSid": sid,
        "RecordingSid": "RE0123",
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE0123",
        "RecordingStatus": "completed",
        "RecordingDuration": "14",
    }
    assert twilio.post(public(served, "voice/recording"), recording).status_code == 200
    done = twilio.post(public(served, "voice/recorded"), recording)
    assert "<Hangup" in done.text
    transcript = {
        "CallSid": sid,
        "RecordingSid": "RE0123",
        "TranscriptionSid": "TR1",
        "TranscriptionStatus": "completed",
        "TranscriptionText": "Please call me back about the invoice.",
    }
    assert twilio.post(public(served, "voice/transcription"), transcript).status_code == 200
    ended = {**twilio.call_params(twilio_call(sid)), "CallStatus": "completed"}
    ended["CallDuration"] = "31"
    assert twilio.post(public(served, "call/status"), ended).status_code == 200

    (call,) = calls(desk)
    assert (call.state, call.duration, call.recording_duration) == ("completed", 31, 14)
    assert call.recording_url == recording["RecordingUrl"]
    log = messages(desk)[-1]
    assert "Voicemail: Please call me back about the invoice." in log.text
    assert f"voicemail (14 s): {recording['RecordingUrl']}" in log.notes

    before = written(desk)
    for path, params in (
        ("voice/recording", recording),
        ("voice/transcription", transcript),
        ("call/status", ended),
    ):
        assert twilio.post(public(served, path), params).status_code == 200
    again = twilio.inbound_call(public(served, "voice"), "+4915299998888", DESK_NUMBER, sid=sid)
    assert again[1].status_code == 200
    assert written(desk) == before  # every replay: nothing new


def twilio_call(sid: str) -> Call:
    """An inbound call as the fake's ``call_params`` wants it (it was never created there)."""
    return Call(sid=sid, to=DESK_NUMBER, from_="+4915299998888", status="completed")


def test_forwarding_then_voicemail_when_nobody_answers(
    desk: Desk, twilio: TwilioServer, served: Served
) -> None:
    desk.settings = desk.settings.model_copy(
        update={
            "telephony": desk.settings.telephony.model_copy(update={"forward_to": "+4915100000001"})
        }
    )
    _sid, answer = twilio.inbound_call(public(served, "voice"), ANN_PHONE, DESK_NUMBER)
    assert f'<Dial action="{public(served, "voice/dialed")}"' in answer.text
    assert ">+4915100000001</Dial>" in answer.text
    missed = twilio.post(public(served, "voice/dialed"), {"DialCallStatus": "no-answer"})
    assert "<Record " in missed.text
    taken = twilio.post(public(served, "voice/dialed"), {"DialCallStatus": "completed"})
    assert "<Hangup" in taken.text and "<Record" not in taken.text


@pytest.mark.parametrize("how", ["unsigned", "wrong", "other token", "other url", "changed"])
def test_unsigned_or_wrongly_signed_webhooks_are_refused_and_store_nothing(
    desk: Desk, twilio: TwilioServer, served: Served, how: str
) -> None:
    from twilio.request_validator import RequestValidator

    params = {
        "MessageSid": "SM" + "1" * 32,
        "From": ANN_PHONE,
        "To": DESK_NUMBER,
        "Body": "let me in",
    }
    url = public(served, "sms")
    signature = {
        "unsigned": None,
        "wrong": "bm9wZQ==",
        "other token": RequestValidator("not-the-token").compute_signature(url, params),
        "other url": twilio.signature("https://evil.example/twilio/sms", params),
        "changed": twilio.signature(url, {**params, "Body": "hello"}),
    }[how]
    before = written(desk)
    for path in ("sms", "voice", "call/status", "sms/status", "voice/recording"):
        answer = twilio.post(
            public(served, path), params, signature=signature, signed=signature is not None
        )
        assert answer.status_code == 403, (path, answer.text)
        assert answer.headers["content-type"].startswith("application/json")
    assert written(desk) == before


def test_an_unknown_path_and_a_bad_form_are_clear_errors(
    desk: Desk, twilio: TwilioServer, served: Served
) -> None:
    assert twilio.post(public(served, "nope"), {}).status_code == 404
    missing = twilio.post(public(served, "sms"), {"Body": "no sender"})
    assert missing.status_code == 400 and "MessageSid" in missing.json()["error"]


def test_odd_values_and_a_huge_body_are_answered_not_crashed_on(
    desk: Desk, twilio: TwilioServer, served: Served
) -> None:
    odd = {"CallSid": "CA-none", "CallStatus": "weird", "CallDuration": "abc"}
    assert twilio.post(public(served, "call/status"), odd).status_code == 200  # nothing known
    before = written(desk)
    huge = {"MessageSid": "SM1", "From": ANN_PHONE, "Body": "x" * 100_000}
    answer = twilio.post(public(served, "sms"), huge)
    assert answer.status_code == 413 and "too large" in answer.json()["error"]
    assert written(desk) == before
