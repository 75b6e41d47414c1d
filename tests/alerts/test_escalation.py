"""Escalation step by step, frozen when it starts, stopped by an acknowledgement given each
way (the console's act, an SMS reply, the voice call's key press, the CLI); an ack racing
the last step places no call. The test clock moves; nothing sleeps."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sdesk.alerts.ack import ack_by_sms, parse_ack, voice_gather
from sdesk.core.alerts import AlertError, run_step, signal
from sdesk.core.desk import Desk
from tests.alerts.conftest import PHONES, MakeDesk, alerts_of, notices, runtime, steps
from tests.conftest import FakeClock
from tests.twilio.twilioapi import TwilioServer

PAGE_RULE = {
    "name": "switch-down",
    "event": "channel.down",
    "tier": "urgent",
    "targets": ["oncall:primary"],
    "escalation": "page",
}
POLICY = {
    "name": "page",
    "steps": [
        {"wait_minutes": 5},
        {"tier": "emergency", "wait_minutes": 10},
        {"targets": ["group:field"], "tier": "urgent", "wait_minutes": 10},
    ],
    "repeat": 1,
}


def paging_desk(make_desk: MakeDesk, **extra: Any) -> Desk:
    return make_desk(rules=[PAGE_RULE], policies=[POLICY], **extra)


def test_escalation_runs_step_by_step_until_acknowledged(
    make_desk: MakeDesk, twilio: TwilioServer, clock: FakeClock
) -> None:
    desk = paging_desk(make_desk)
    rt = runtime(desk)
    signal(desk, "channel.down", key="imap:support", text="mailbox support unreachable")
    rt.tail()
    [alert] = alerts_of(desk)
    assert twilio.kinds() == {"messages.create": 1}  # step 0: SMS to alice (on call)

    clock.advance(minutes=4, seconds=59)
    assert rt.run_due() == 0
    clock.advance(seconds=1)
    assert rt.run_due() == 1  # step 1: a call to alice
    assert twilio.count("calls.create") == 1 and twilio.last_call().to == PHONES["alice"]
    clock.advance(minutes=10)
    assert rt.run_due() == 1  # step 2: the field group (bob) by SMS
    assert twilio.last_text().to == PHONES["bob"]

    # Editing the policy now changes nothing for this alert: it was frozen when it started.
    desk.settings.alerts.policies[0].steps[0].wait_minutes = 999
    clock.advance(minutes=10)
    assert rt.run_due() == 1  # round 2, step 0
    assert steps(desk) == [(alert.id, 0, 0), (alert.id, 0, 1), (alert.id, 0, 2), (alert.id, 1, 0)]
    [now] = alerts_of(desk)
    assert json.loads(now.plan)["steps"][0]["wait_minutes"] == 5

    acked = desk.acknowledge_alert(alert.id, "alice", "console")
    assert (acked.already, acked.by, acked.how, acked.at) == (False, "alice", "console", clock.now)
    before = twilio.count()
    for _ in range(6):
        clock.advance(minutes=10)
        assert rt.run_due() == 0
    assert twilio.count() == before
    [done] = alerts_of(desk)
    assert (done.state, done.acked_by, done.acked_how, done.acked_at) == (
        "acknowledged",
        "alice",
        "console",
        acked.at,
    )
    assert desk.acknowledge_alert(alert.id, "bob", "cli").already


def test_escalation_ends_after_its_rounds(make_desk: MakeDesk, clock: FakeClock) -> None:
    desk = paging_desk(make_desk)
    rt = runtime(desk)
    signal(desk, "channel.down", key="k", text="down")
    rt.tail()
    for _ in range(10):
        clock.advance(minutes=10)
        rt.run_due()
    assert len(steps(desk)) == 6  # 3 steps × (1 + 1 repeat), each exactly once
    [alert] = alerts_of(desk)
    assert (alert.state, alert.next_at) == ("active", None)  # waits for someone to ack


def test_an_sms_reply_acknowledges(make_desk: MakeDesk, clock: FakeClock) -> None:
    desk = paging_desk(make_desk)
    rt = runtime(desk)
    signal(desk, "channel.down", key="k", text="down")
    rt.tail()
    [alert] = alerts_of(desk)
    assert parse_ack(f"ack #{alert.id}") == alert.id and parse_ack("thanks") is None
    assert ack_by_sms(desk, PHONES["bob"], "hello") is None  # not an ACK: an ordinary SMS
    assert ack_by_sms(desk, "+14155559999", f"ACK {alert.id}") is None  # a customer's text
    assert alerts_of(desk)[0].state == "active"
    assert ack_by_sms(desk, PHONES["bob"], f"ACK {alert.id}") == (
        f"Alert {alert.id} acknowledged. Thank you."
    )
    [a] = alerts_of(desk)
    assert (a.state, a.acked_by, a.acked_how) == ("acknowledged", "bob", "sms")
    assert "already acknowledged by bob" in (ack_by_sms(desk, PHONES["alice"], f"ACK {a.id}") or "")
    assert "no alert" in (ack_by_sms(desk, PHONES["alice"], "ACK 99999") or "")


def test_the_voice_key_press_acknowledges(
    make_desk: MakeDesk, twilio: TwilioServer, clock: FakeClock
) -> None:
    desk = paging_desk(make_desk)
    rt = runtime(desk)
    signal(desk, "channel.down", key="k", text="down")
    rt.tail()
    clock.advance(minutes=5)
    rt.run_due()
    [voice] = notices(desk, medium="voice")
    assert "Not acknowledged" in voice_gather(desk, voice.id, {"Digits": "2"})
    assert alerts_of(desk)[0].state == "active"
    assert "Acknowledged" in voice_gather(
        desk, voice.id, {"Digits": "1", "CallSid": voice.ref or ""}
    )
    [a] = alerts_of(desk)
    assert (a.state, a.acked_by, a.acked_how) == ("acknowledged", "alice", "voice")


def test_an_ack_racing_the_last_step_places_no_call(
    make_desk: MakeDesk, twilio: TwilioServer, clock: FakeClock
) -> None:
    desk = paging_desk(make_desk)
    rt = runtime(desk)
    signal(desk, "channel.down", key="a", text="one")
    signal(desk, "channel.down", key="b", text="two")
    rt.tail()
    first, second = alerts_of(desk)
    clock.advance(minutes=5)
    twilio.reset()

    # The ack commits first: the step finds the alert acknowledged and does nothing.
    desk.acknowledge_alert(first.id, "alice", "console")
    assert run_step(desk, first.id, 1, 0) is None

    # The step commits first, the ack comes before the call is placed: it is cancelled.
    taken = run_step(desk, second.id, 1, 0)
    assert taken is not None and [n.medium for n in taken.notices] == ["voice"]
    acked = desk.acknowledge_alert(second.id, "bob", "console")
    assert acked.cancelled == 1
    rt.deliver(taken.notices)
    assert twilio.count("calls.create") == 0
    assert [n.state for n in notices(desk, medium="voice")] == ["cancelled"]


def test_acknowledging_what_is_not_there_says_so(make_desk: MakeDesk) -> None:
    desk = paging_desk(make_desk)
    with pytest.raises(AlertError, match="no alert 7"):
        desk.acknowledge_alert(7, "alice", "console")
    with pytest.raises(AlertError, match="unknown way"):
        desk.acknowledge_alert(7, "alice", "carrier pigeon")
