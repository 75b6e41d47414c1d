"""A channel going down is an event the rules can page on: a poller's health turning from up
(or never seen) to failed records ``channel.down`` keyed by the channel, once per fall, and a
rule on it opens one alert that later falls group onto."""

from __future__ import annotations

from sdesk.core.health import HealthRecorder
from tests.alerts.conftest import MakeDesk, PushServer, alerts_of, runtime

RULE = {"name": "mail-down", "event": "channel.down", "tier": "fast", "targets": ["team"]}


def test_a_mailbox_that_goes_down_pages_once_per_fall(
    make_desk: MakeDesk, push_server: PushServer
) -> None:
    desk = make_desk(rules=[RULE])
    rt = runtime(desk)
    rt.tail()  # the rules start reading after what is already there
    health = HealthRecorder(desk, "support")
    health.connected()
    health.failed("connection refused")
    health.failed("connection refused")  # still down: no second fall
    rt.tail()
    [alert] = alerts_of(desk)
    assert (alert.rule, alert.key, alert.count) == ("mail-down", "mail-down:channel:support", 1)
    assert "support: connection refused" in alert.title
    health.connected()
    health.failed("login failed")  # down again while the alert is still open: grouped onto it
    rt.tail()
    [again] = alerts_of(desk)
    assert (again.id, again.count) == (alert.id, 2)
