"""Click-to-call end to end: the act, the dispatcher's real twilio client against the local
Twilio server, and Twilio's signed status callbacks into the desk's real HTTP server."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdesk.channels.twilio.service import CallWatcher
from sdesk.core.desk import Desk
from sdesk.core.errors import DeskError
from tests.conftest import FakeClock
from tests.twilio.conftest import (
    ANN_PHONE,
    DESK_NUMBER,
    ELI_PHONE,
    Served,
    calls,
    make_desk,
    messages,
    outbox_rows,
    send,
    written,
)
from tests.twilio.twilioapi import TwilioServer

TICKET = 1001


def place(desk: Desk, twilio: TwilioServer, by: str = "eli") -> str:
    """The agent presses c on Ann's ticket; the dispatcher places the call; its CallSid."""
    desk.call_customer(TICKET, by, ANN_PHONE)
    send(desk)
    (call,) = [c for c in calls(desk) if c.state not in ("completed", "busy", "failed")][-1:]
    assert call.sid is not None
    return call.sid


def test_the_call_rings_the_agent_then_dials_the_customer(
    desk: Desk, twilio: TwilioServer, served: Served
) -> None:
    message_id = desk.call_customer(TICKET, "eli", "0152 12345678")
    (call,) = calls(desk)
    assert (call.state, call.sid, call.active_ticket) == ("requested", None, call.ticket_id)
    assert twilio.count() == 0  # nothing leaves before the dispatcher runs
    send(desk)
    (created,) = [r for r in twilio.requests if r.kind == "calls.create"]
    assert created.get("To") == ELI_PHONE and created.get("From") == DESK_NUMBER
    twiml = created.get("Twiml") or ""
    assert f'callerId="{DESK_NUMBER}">{ANN_PHONE}</Dial>' in twiml
    assert created.get("StatusCallback") == f"{served.settings.public_url}/twilio/call/status"
    assert created.get("StatusCallbackEvent") == "initiated"  # the first of the four asked
    (call,) = calls(desk)
    sid = call.sid
    assert sid is not None and call.state == "queued"
    log = next(m for m in messages(desk) if m.id == message_id)
    assert (log.kind, log.delivery_state, log.message_id) == ("call", "sent", f"twilio:{sid}")

    for state in ("ringing", "in-progress"):
        answer = twilio.progress(sid, state)
        assert answer is not None and answer.status_code == 200
        assert calls(desk)[0].state == state
    assert twilio.answer(sid) == twiml  # what Twilio plays once Eli picks up
    assert f'action="{served.settings.public_url}/twilio/call/dialed"' in twiml
    answer = twilio.progress(sid, "completed", duration=95)
    assert answer is not None and answer.status_code == 200
    (call,) = calls(desk)
    assert (call.state, call.duration, call.active_ticket) == ("completed", 95, None)
    assert call.answered_at is not None and call.ended_at is not None
    assert twilio.calls[sid].events == ["initiated", "ringing", "answered", "completed"]

    before = written(desk)
    for state in ("ringing", "completed"):  # Twilio sends them again: nothing new
        twilio.calls[sid].status = state
        again = twilio.post(
            served.url("call/status"), twilio.call_params(twilio.calls[sid], CallDuration="95")
        )
        assert again.status_code == 200
    assert written(desk) == before and calls(desk)[0].state == "completed"


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed", "canceled"])
def test_every_failed_outcome_is_recorded_and_frees_the_ticket(
    desk: Desk, twilio: TwilioServer, served: Served, status: str
) -> None:
    sid = place(desk, twilio)
    twilio.progress(sid, "ringing")
    twilio.progress(sid, status)
    (call,) = calls(desk)
    assert (call.state, call.duration, call.active_ticket) == (status, 0, None)
    place(desk, twilio)  # the ticket is free for the next try
    assert twilio.count("calls.create") == 2


def test_twilio_refusing_the_call_fails_it_on_the_ticket(desk: Desk, twilio: TwilioServer) -> None:
    twilio.fail("calls.create", 400, 21215, "Geo Permission configuration is not permitting call")
    message_id = desk.call_customer(TICKET, "eli", ANN_PHONE)
    send(desk)
    (call,) = calls(desk)
    assert (call.state, call.active_ticket) == ("failed", None)
    assert call.error is not None and "21215" in call.error
    log = next(m for m in messages(desk) if m.id == message_id)
    assert log.delivery_state == "failed" and "21215" in (log.delivery_error or "")
    (row,) = outbox_rows(desk)
    assert (row.state, row.attempts) == ("failed", 1)  # a call is never placed late


def test_a_held_key_places_one_call(desk: Desk, twilio: TwilioServer) -> None:
    refused = 0
    for _ in range(30):
        try:
            desk.call_customer(TICKET, "eli", ANN_PHONE)
        except DeskError as exc:
            assert "already under way" in str(exc)
            refused += 1
    assert refused == 29
    send(desk)
    send(desk)
    assert twilio.count("calls.create") == 1 and len(calls(desk)) == 1


def test_daily_caps_per_agent_and_per_desk(
    tmp_path: Path, twilio: TwilioServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.twilio.conftest import TOKEN_ENV
    from tests.twilio.twilioapi import AUTH_TOKEN

    monkeypatch.setenv(TOKEN_ENV, AUTH_TOKEN)
    desk = make_desk(tmp_path, twilio, clock, agent_daily_calls=2, desk_daily_calls=3)
    try:

        def call_and_end(by: str) -> None:
            sid = place(desk, twilio, by)
            desk.phone.call_status(sid, "completed", 10)

        call_and_end("eli")
        call_and_end("eli")
        before = twilio.count()
        with pytest.raises(DeskError, match="agent_daily_calls"):
            desk.call_customer(TICKET, "eli", ANN_PHONE)
        call_and_end("dana")
        with pytest.raises(DeskError, match="desk_daily_calls"):
            desk.call_customer(TICKET, "dana", ANN_PHONE)
        send(desk)
        assert twilio.count() == before + 1  # only Dana's call reached Twilio
        clock.advance(days=1)
        call_and_end("eli")  # a new day
        assert twilio.count("calls.create") == 4
    finally:
        desk.close()


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("+499001234567", "premium-rate"),
        ("+4918012345", "shared-cost"),
        ("+4918500123456", "universal access"),
        ("+15551234567", "unknown type"),
        ("+33612345678", "not in [telephony] allowed_countries"),
        ("not a number", "is not a phone number"),
    ],
)
def test_refused_numbers_never_reach_twilio(
    desk: Desk, twilio: TwilioServer, number: str, why: str
) -> None:
    from sdesk.core.enums import Channel, ContactKind
    from sdesk.core.inbound import ContactRef, Inbound, Sender

    contact = ContactRef(ContactKind.PHONE, number)
    ticket = desk.intake(
        Inbound(Channel.SMS, Sender("Pat", (contact,)), "hi", external_id=f"sms-{number}")
    ).ticket_number
    assert ticket is not None
    before = written(desk)
    with pytest.raises(DeskError, match=why.replace("[", r"\[").replace("]", r"\]")):
        desk.call_customer(ticket, "eli", number)
    send(desk)
    assert written(desk) == before
    assert twilio.count() == 0


def test_an_agent_without_a_phone_is_told_how_to_add_one(desk: Desk, twilio: TwilioServer) -> None:
    desk.phone.set_agent_phone("eli", None, "eli")
    with pytest.raises(DeskError, match="sdesk agent phone eli"):
        desk.call_customer(TICKET, "eli", ANN_PHONE)
    with pytest.raises(DeskError, match="premium-rate"):
        desk.phone.set_agent_phone("eli", "+499001234567", "eli")
    assert desk.phone.set_agent_phone("eli", "0151 23456789", "eli") == ELI_PHONE
    desk.call_customer(TICKET, "eli", ANN_PHONE)


def test_hang_up_ends_the_call_through_twilio(
    desk: Desk, twilio: TwilioServer, served: Served
) -> None:
    sid = place(desk, twilio)
    twilio.progress(sid, "ringing")
    twilio.progress(sid, "in-progress")
    assert desk.phone.hang_up(TICKET, "eli") == "hanging up"
    assert desk.phone.hang_up(TICKET, "eli") == "already hanging up"
    send(desk)
    (update,) = [r for r in twilio.requests if r.kind == "calls.update"]
    assert update.get("Status") == "completed"
    (call,) = calls(desk)
    assert (call.state, call.active_ticket) == ("completed", None)
    assert twilio.calls[sid].status == "completed"
    with pytest.raises(DeskError, match="no call is under way"):
        desk.phone.hang_up(TICKET, "eli")


def test_hang_up_while_ringing_cancels(desk: Desk, twilio: TwilioServer, served: Served) -> None:
    sid = place(desk, twilio)
    twilio.progress(sid, "ringing")
    desk.phone.hang_up(TICKET, "eli")
    send(desk)
    assert twilio.calls[sid].status == "canceled"
    assert calls(desk)[0].state == "canceled"


def test_hang_up_before_the_call_left_cancels_it_here(desk: Desk, twilio: TwilioServer) -> None:
    desk.call_customer(TICKET, "eli", ANN_PHONE)
    assert desk.phone.hang_up(TICKET, "eli") == "call canceled"
    send(desk)
    assert twilio.count() == 0
    (call,) = calls(desk)
    assert (call.state, call.active_ticket) == ("canceled", None)


def test_without_a_public_url_the_watcher_polls_the_state(
    tmp_path: Path, twilio: TwilioServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.twilio.conftest import TOKEN_ENV
    from tests.twilio.twilioapi import AUTH_TOKEN

    monkeypatch.setenv(TOKEN_ENV, AUTH_TOKEN)
    desk = make_desk(tmp_path, twilio, clock, public=False)
    try:
        sid = place(desk, twilio)
        (created,) = [r for r in twilio.requests if r.kind == "calls.create"]
        assert created.get("StatusCallback") is None  # nowhere for Twilio to call back
        assert "action=" not in (created.get("Twiml") or "")
        watcher = CallWatcher(desk)
        assert watcher.every == desk.settings.telephony.poll_seconds
        twilio.progress(sid, "in-progress", notify=False)
        assert watcher.look() == 1 and calls(desk)[0].state == "in-progress"
        assert watcher.look() == 0  # nothing new
        twilio.progress(sid, "completed", duration=61, notify=False)
        assert watcher.look() == 1
        (call,) = calls(desk)
        assert (call.state, call.duration, call.active_ticket) == ("completed", 61, None)
        assert desk.phone.active_calls() == []
        assert twilio.count("calls.fetch") == 3
    finally:
        desk.close()


@pytest.mark.parametrize(
    ("leg", "duration", "note"),
    [
        ("completed", "65", "the customer answered; talked 1:05"),
        ("busy", "0", "the customer's phone: busy"),
        ("no-answer", "0", "the customer's phone: no answer"),
    ],
)
def test_how_the_customers_leg_ended_is_on_the_call(
    desk: Desk, twilio: TwilioServer, served: Served, leg: str, duration: str, note: str
) -> None:
    sid = place(desk, twilio)
    twilio.progress(sid, "in-progress")
    params = twilio.call_params(twilio.calls[sid], DialCallStatus=leg, DialCallDuration=duration)
    answer = twilio.post(served.url("call/dialed"), params)
    assert answer.status_code == 200 and "<Hangup" in answer.text
    before = written(desk)
    assert twilio.post(served.url("call/dialed"), params).status_code == 200  # again
    assert written(desk) == before
    log = next(m for m in messages(desk) if m.id == calls(desk)[0].message_id)
    assert log.notes.splitlines() == [note]


def test_a_call_found_late_is_not_placed(
    desk: Desk, twilio: TwilioServer, clock: FakeClock
) -> None:
    """A dispatcher that crashed mid-send leaves the row to be found again minutes later: by
    then the agent has stopped waiting at the phone, so it fails instead of ringing."""
    message_id = desk.call_customer(TICKET, "eli", ANN_PHONE)
    clock.advance(minutes=3)
    send(desk)
    assert twilio.count() == 0
    (call,) = calls(desk)
    assert (call.state, call.active_ticket, call.error) == (
        "failed",
        None,
        "not placed: 3 minutes late",
    )
    desk.retry_delivery(message_id, "eli")  # y: asked again now, placed now
    send(desk)
    assert twilio.count("calls.create") == 1 and calls(desk)[0].state == "queued"
