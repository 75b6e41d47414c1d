"""``sdesk fetch``'s pass of the alerts: the rules and due steps once, under the scheduler
lease; a line only when a step was taken; "busy" while another live process holds the lease."""

from __future__ import annotations

from sdesk.alerts.notifiers import notifiers
from sdesk.alerts.runtime import AlertRuntime
from sdesk.alerts.service import LEASE, AlertService
from sdesk.core import leases
from sdesk.core.alerts import signal
from tests.alerts.conftest import MakeDesk, PushServer

RULE = {"name": "down", "event": "channel.down", "tier": "fast", "targets": ["agent:bob"]}


def test_one_pass_takes_the_steps_under_the_lease(
    make_desk: MakeDesk, push_server: PushServer
) -> None:
    desk = make_desk(rules=[RULE])
    service = AlertService(desk, AlertRuntime(desk, notifiers(desk.settings)))
    assert service.run_once() is None  # the first pass starts after the events already there
    signal(desk, "channel.down", key="k", text="down")
    result = service.run_once()
    assert result is not None and result.line == "alerts: events read 1, steps taken 1"
    assert push_server.topics() == ["bob"]
    assert leases.current(desk, LEASE) is None  # given back after the pass

    other = "otherhost:1:1:scheduler"
    assert leases.acquire(desk, LEASE, other)
    busy = service.run_once()
    assert busy is not None and busy.outcome == "busy"
    assert "otherhost" in busy.line
