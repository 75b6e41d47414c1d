"""Storm control: a burst of identical alerts is one alert with a count and one notification;
at most 5 SMS to one agent in 10 minutes; an hourly cost breaker on SMS and calls. What is
held back stays visible with its reason."""

from __future__ import annotations

from sdesk.core.alerts import signal
from tests.alerts.conftest import MakeDesk, PushServer, alerts_of, notices, runtime
from tests.conftest import FakeClock
from tests.twilio.twilioapi import TwilioServer

PUSH_RULE = {"name": "down-push", "event": "channel.down", "tier": "fast", "targets": ["team"]}
SMS_RULE = {
    "name": "down-sms",
    "event": "channel.down",
    "tier": "urgent",
    "targets": ["agent:alice"],
}


def test_a_thousand_identical_alerts_in_a_minute_send_one_grouped_notification(
    make_desk: MakeDesk, push_server: PushServer, clock: FakeClock
) -> None:
    desk = make_desk(rules=[PUSH_RULE])
    rt = runtime(desk)
    for i in range(1000):
        signal(desk, "channel.down", key="imap:support", text="mailbox support unreachable")
        if i % 100 == 99:
            rt.tail()
        clock.advance(seconds=0.06)
    rt.tail()
    [alert] = alerts_of(desk)
    assert alert.count == 1000
    assert sorted(push_server.topics()) == ["alice", "bob", "carol"]  # once each
    assert len(notices(desk, medium="push")) == 3


def test_at_most_five_sms_to_one_agent_in_ten_minutes(
    make_desk: MakeDesk, twilio: TwilioServer, clock: FakeClock
) -> None:
    desk = make_desk(rules=[SMS_RULE])
    rt = runtime(desk)
    for i in range(7):
        signal(desk, "channel.down", key=f"box{i}", text=f"mailbox {i} unreachable")
        clock.advance(minutes=1)
    rt.tail()
    assert twilio.count("messages.create") == 5
    held = notices(desk, state="held")
    assert len(held) == 2
    assert held[0].reason == "rate limit: 5 sms to alice in 10 min"
    clock.advance(minutes=10)  # the window has passed: texts go again
    signal(desk, "channel.down", key="later", text="again")
    rt.tail()
    assert twilio.count("messages.create") == 6


def test_the_hourly_cost_breaker_holds_sms_and_calls(
    make_desk: MakeDesk, twilio: TwilioServer, clock: FakeClock
) -> None:
    storm = {"hourly_cost_limit": 0.15, "sms_cost": 0.05, "sms_per_target": 100}
    rule = SMS_RULE | {"targets": ["team"]}
    desk = make_desk(rules=[rule], storm=storm)
    rt = runtime(desk)
    signal(desk, "channel.down", key="one", text="first")  # 3 agents: 0.15 spent
    signal(desk, "channel.down", key="two", text="second")
    rt.tail()
    assert twilio.count("messages.create") == 3
    held = notices(desk, state="held")
    assert len(held) == 3
    assert all(n.reason and n.reason.startswith("cost breaker: 0.15 of 0.15") for n in held)
    clock.advance(minutes=61)
    signal(desk, "channel.down", key="three", text="third")
    rt.tail()
    assert twilio.count("messages.create") == 6


def test_a_failing_push_is_recorded_on_its_notice(
    make_desk: MakeDesk, push_server: PushServer
) -> None:
    desk = make_desk(rules=[PUSH_RULE | {"targets": ["agent:carol"]}])
    rt = runtime(desk)
    push_server.status = 500
    signal(desk, "channel.down", key="x", text="down")
    rt.tail()
    [push] = notices(desk, medium="push")
    assert push.state == "failed" and push.reason
