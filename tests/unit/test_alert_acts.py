"""The alert acts on both databases (SQLite and PostgreSQL): an alert opened once per key and
counted, a step taken once (its unique row), the next step frozen from the policy, the
acknowledgement with who/how/when cancelling queued notices, an SMS held by the rate limit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from sdesk.config_alerts import AlertRule, AlertSettings
from sdesk.core.alerts import (
    Decision,
    acknowledge,
    claim_notice,
    open_alerts,
    run_step,
    run_steps,
    set_agent_reach,
)
from sdesk.core.desk import Desk
from sdesk.store.alertmodels import Alert, AlertNotice, AlertStep
from tests.conftest import FakeClock

RULE = AlertRule(
    name="down", event="channel.down", tier="urgent", targets=["agent:ann"], escalation="two"
)


def test_open_step_ack_on_each_database(desk: Desk, clock: FakeClock) -> None:
    desk.settings.alerts = AlertSettings(
        rules=[RULE],
        policies=[{"name": "two", "steps": [{"wait_minutes": 5}, {"wait_minutes": 5}]}],
        storm={"sms_per_target": 1},
    )
    desk.add_agent("ann", email="ann@desk.test")
    set_agent_reach(desk, "ann", phone="+14155550101", push_target="ntfy://127.0.0.1:9/ann")
    decision = Decision(RULE, "down:k", "link down", "channel.down")
    first, again = open_alerts(desk, [decision, decision])
    assert first.new and not again.new and first.alert_id == again.alert_id

    [taken] = run_steps(desk, [(first.alert_id, 0, 0), (first.alert_id, 0, 0)])  # once
    assert [n.medium for n in taken.notices] == ["sms"]
    assert taken.next_at == clock.now + timedelta(minutes=5) and taken.next_step == 1
    assert run_step(desk, first.alert_id, 0, 0) is None  # taken already
    assert run_step(desk, first.alert_id, 1, 0) is None  # not due yet

    clock.advance(minutes=5)
    second = run_step(desk, first.alert_id, 1, 0)
    assert second is not None and second.notices == [] and second.next_at is None
    with desk.store.read() as s:
        held = s.execute(select(AlertNotice).where(AlertNotice.state == "held")).scalars().all()
        steps = s.execute(select(AlertStep.step)).scalars().all()
    assert [h.reason for h in held] == ["rate limit: 1 sms to ann in 10 min"]
    assert sorted(steps) == [0, 1]

    acked = acknowledge(desk, first.alert_id, "ann", "console")
    assert (acked.already, acked.cancelled, acked.at) == (False, 1, clock.now)  # the queued SMS
    assert not claim_notice(desk, taken.notices[0].id)  # an ack cancels what is not yet sent
    with desk.store.read() as s:
        alert = s.execute(select(Alert)).scalar_one()
    assert (alert.state, alert.count, alert.open_key, alert.acked_how) == (
        "acknowledged",
        2,
        None,
        "console",
    )
    reopened = open_alerts(desk, [decision])  # the key is free again once acknowledged
    assert reopened[0].new and reopened[0].alert_id != first.alert_id
