"""Business hours and holidays: SLA deadlines count working time only when the desk says so,
rules can ask for inside or outside hours; on-call rotations with overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from sdesk.config import SLAPolicy
from sdesk.config_alerts import AlertSettings, BusinessHours
from sdesk.core.enums import Priority
from sdesk.core.hours import add_business_minutes, in_business
from sdesk.core.oncall import now_and_next, on_call
from sdesk.core.sla import due_times
from sdesk.store.models import Ticket
from tests.alerts.conftest import MakeDesk, alerts_of, runtime, ticket
from tests.conftest import T0, FakeClock

FRIDAY_5PM = datetime(2026, 11, 6, 17, 0, tzinfo=UTC)  # T0 is Monday 2026-11-02 09:00 UTC
HOURS = BusinessHours()  # Mon-Fri 09:00-18:00 UTC


def test_working_minutes_skip_the_night_the_weekend_and_holidays() -> None:
    assert add_business_minutes(HOURS, FRIDAY_5PM, 30) == FRIDAY_5PM + timedelta(minutes=30)
    assert add_business_minutes(HOURS, FRIDAY_5PM, 240) == datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
    holiday = BusinessHours(holidays=[date(2026, 11, 9)])
    assert add_business_minutes(holiday, FRIDAY_5PM, 240) == datetime(
        2026, 11, 10, 12, 0, tzinfo=UTC
    )
    saturday = datetime(2026, 11, 7, 10, 0, tzinfo=UTC)
    assert add_business_minutes(HOURS, saturday, 60) == datetime(2026, 11, 9, 10, 0, tzinfo=UTC)
    assert in_business(HOURS, T0) and not in_business(HOURS, saturday)
    berlin = BusinessHours(timezone="Europe/Berlin")  # 09:00 there is 08:00 UTC in November
    assert add_business_minutes(berlin, datetime(2026, 11, 2, 7, 0, tzinfo=UTC), 0) == datetime(
        2026, 11, 2, 8, 0, tzinfo=UTC
    )


def test_sla_deadlines_move_with_business_hours_and_holidays(
    make_desk: MakeDesk, clock: FakeClock
) -> None:
    response, resolution = due_times(SLAPolicy(), Priority.HIGH, FRIDAY_5PM, HOURS)
    assert response == datetime(2026, 11, 9, 12, 0, tzinfo=UTC)  # 4 working hours
    assert resolution == datetime(2026, 11, 11, 14, 0, tzinfo=UTC)  # 24 of 9-hour days
    assert due_times(SLAPolicy(), Priority.HIGH, FRIDAY_5PM)[0] == FRIDAY_5PM + timedelta(hours=4)

    desk = make_desk(sla_business_hours=True, business_hours={"holidays": ["2026-11-09"]}, rules=[])
    clock.now = FRIDAY_5PM
    number = ticket(desk, priority=Priority.HIGH)
    with desk.store.read() as s:
        t = s.execute(select(Ticket).where(Ticket.number == number)).scalar_one()
    assert t.first_response_due == datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def test_rules_for_inside_and_outside_hours(make_desk: MakeDesk, clock: FakeClock) -> None:
    rules = [
        {"name": "day", "event": "ticket.created", "hours": "business", "tier": "fast",
         "targets": ["agent:alice"]},
        {"name": "night", "event": "ticket.created", "hours": "outside", "tier": "fast",
         "targets": ["agent:bob"]},
    ]  # fmt: skip
    desk = make_desk(rules=rules)
    rt = runtime(desk)
    ticket(desk)  # Monday 09:00
    clock.now = FRIDAY_5PM + timedelta(hours=2)
    ticket(desk)
    rt.tail()
    assert [a.rule for a in alerts_of(desk)] == ["day", "night"]


def test_on_call_rotates_weekly_and_an_override_wins() -> None:
    settings = AlertSettings(
        rotations=[{"name": "primary", "agents": ["alice", "bob"], "start": T0.isoformat()}],
        overrides=[
            {
                "rotation": "primary",
                "agent": "carol",
                "start": (T0 + timedelta(days=8)).isoformat(),
                "end": (T0 + timedelta(days=9)).isoformat(),
            }
        ],
    )
    assert on_call(settings, "primary", T0).agent == "alice"
    assert on_call(settings, "primary", T0 + timedelta(days=7)).agent == "bob"
    assert on_call(settings, "primary", T0 + timedelta(days=8, hours=1)).agent == "carol"
    assert on_call(settings, "primary", T0 + timedelta(days=14)).agent == "alice"
    now, following = now_and_next(settings, "primary", T0 + timedelta(days=7, hours=1))
    assert (now.agent, now.end) == ("bob", T0 + timedelta(days=8))
    assert following is not None and following.agent == "carol"
    assert on_call(settings, "nobody", T0).agent is None
