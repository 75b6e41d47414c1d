"""Dashboard numbers on a real desk: which tickets count, for which day, and which are left out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind, Priority, Status
from sdesk.core.inbound import ContactRef, Inbound
from sdesk.store.dashboard import Dashboard, dashboard_stats
from tests.conftest import T0, FakeClock
from tests.factories import chat, email

DAYS = tuple(date(2026, 10, 20) + timedelta(days=i) for i in range(14))  # ends on T0's day


def at(clock: FakeClock, month: int, day: int, hour: int, minute: int = 0) -> None:
    clock.now = datetime(2026, month, day, hour, minute, tzinfo=UTC)


def new(desk: Desk, inbound: Inbound) -> int:
    number = desk.intake(inbound).ticket_number
    assert number is not None
    return number


def stats(desk: Desk, now: datetime = T0, days: int = 14) -> Dashboard:
    with desk.store.read() as session:
        return dashboard_stats(session, now, days=days)


@pytest.fixture
def busy(desk: Desk, clock: FakeClock) -> Desk:
    """Two weeks of a small desk, each ticket there to hit one rule (see the comments)."""
    desk.add_agent("agent", name="Agent")

    # before the period, resolved inside it: only its rating (5) counts
    at(clock, 9, 1, 9)
    old = new(desk, email("old@x", frm="old@example.org", subject="Old"))
    at(clock, 9, 2, 9)
    desk.set_status(old, "agent", Status.RESOLVED)
    desk.rate(old, 1)  # created and resolved before the period: left out
    at(clock, 10, 10, 9)
    a = new(desk, email("a@x", frm="a@example.org", subject="A"))
    clock.advance(hours=1)
    desk.reply(a, "agent", "on it")
    at(clock, 10, 25, 9)
    desk.set_status(a, "agent", Status.RESOLVED)
    desk.rate(a, 5)

    # one minute before the period: still new, low, breached now; not in the period
    at(clock, 10, 19, 23, 59)
    h = new(desk, email("h@x", frm="h@example.org", subject="H"))
    desk.set_priority(h, "agent", Priority.LOW)

    # first day: answered in 2 h (on time) and in 10 h (late: normal is due in 8 h)
    at(clock, 10, 20, 0, 30)
    b = new(desk, email("b@x", frm="b@example.org", subject="B"))
    clock.advance(hours=2)
    desk.reply(b, "agent", "fixed")
    at(clock, 10, 20, 10)
    c = new(desk, email("c@x", frm="c@example.org", subject="C"))
    clock.advance(hours=10)
    desk.reply(c, "agent", "sorry for the wait")
    at(clock, 10, 21, 12)
    desk.set_status(b, "agent", Status.RESOLVED)
    desk.rate(b, 4)
    desk.set_status(c, "agent", Status.CLOSED)
    desk.rate(c, 2)

    # pending, answered in 1 h 30 min; its resolution (3 days) would be overdue since 31 Oct,
    # but it went pending on 28 Oct: the clock stopped there, so it is not breached now
    at(clock, 10, 28, 10)
    i = new(desk, chat(Channel.TELEGRAM, "tg-i", "hi", ContactRef(ContactKind.TELEGRAM, "111")))
    clock.advance(hours=1, minutes=30)
    desk.reply(i, "agent", "checking")
    desk.set_status(i, "agent", Status.PENDING, pending_until=T0 + timedelta(days=1))

    # high, answered in 30 min, resolution (24 h) overdue since 1 Nov 12:00; rated while open
    at(clock, 10, 31, 12)
    d = new(desk, chat(Channel.TELEGRAM, "tg-d", "down", ContactRef(ContactKind.TELEGRAM, "222")))
    desk.set_priority(d, "agent", Priority.HIGH)
    clock.advance(minutes=30)
    desk.reply(d, "agent", "looking")
    desk.rate(d, 3)

    # merged away: unanswered past its due time, yet counted nowhere
    at(clock, 11, 1, 10)
    g = new(desk, email("g@x", frm="g@example.org", subject="G"))

    # today: urgent and unanswered past its 1 h; normal, not yet due
    at(clock, 11, 2, 7)
    e = new(desk, email("e@x", frm="e@example.org", subject="E"))
    desk.set_priority(e, "agent", Priority.URGENT)
    desk.merge(g, e, "agent")
    at(clock, 11, 2, 8, 30)
    new(desk, chat(Channel.SMS, "sms-f", "help", ContactRef(ContactKind.PHONE, "+12125550100")))

    clock.now = T0
    return desk


def test_every_figure_over_two_weeks(busy: Desk) -> None:
    got = stats(busy)
    assert got.days == DAYS
    zeros = [0] * 14
    assert got.per_channel == {
        "email": tuple([2, *zeros[:12], 1]),
        "telegram": tuple([*zeros[:8], 1, 0, 0, 1, 0, 0]),
        "sms": tuple([*zeros[:13], 1]),
    }
    assert got.open_by_priority == {"low": 1, "normal": 2, "high": 1, "urgent": 1}
    assert list(got.open_by_priority) == ["low", "normal", "high", "urgent"]
    assert got.breached_now == 3  # low one's first response, high, urgent (pending: stopped)
    assert got.breached_period == 2  # answered late, urgent unanswered
    assert got.answered == 4
    assert got.median_first_response == timedelta(hours=1, minutes=45)  # of 0:30 1:30 2:00 10:00
    assert got.ratings == {1: 0, 2: 1, 3: 1, 4: 1, 5: 1}
    assert got.satisfaction == 3.5
    assert (got.created, got.rated) == (6, 4)
    assert got.by_agent == (("-", 3.5, 4),)  # nobody was assigned
    # by the Monday of the week resolved (d, never resolved, by the week it was created)
    assert got.by_week == ((date(2026, 10, 19), 11 / 3, 3), (date(2026, 10, 26), 3.0, 1))


def test_ratings_by_agent(desk: Desk, clock: FakeClock) -> None:
    desk.add_agent("ann", name="Ann")
    desk.add_agent("bob", name="Bob")
    for i, (agent, score) in enumerate([("ann", 5), ("ann", 4), ("bob", 2)]):
        n = new(desk, email(f"r{i}@x", frm=f"r{i}@example.org", subject=f"R{i}"))
        desk.assign(n, "ann", agent)
        desk.set_status(n, "ann", Status.RESOLVED)
        desk.rate(n, score)
    got = stats(desk, clock())
    assert got.by_agent == (("ann", 4.5, 2), ("bob", 2.0, 1))


def test_one_day_sees_only_today(busy: Desk) -> None:
    got = stats(busy, days=1)
    assert got.days == (date(2026, 11, 2),)
    assert got.per_channel == {"email": (1,), "sms": (1,)}
    assert got.open_by_priority == {"low": 1, "normal": 2, "high": 1, "urgent": 1}
    assert (got.breached_now, got.breached_period) == (3, 1)
    assert (got.answered, got.median_first_response) == (0, None)
    assert (got.satisfaction, got.ratings) == (None, {1: 0, 2: 0, 3: 0, 4: 0, 5: 0})


def test_the_day_is_the_utc_day_whatever_zone_now_is_given_in(busy: Desk) -> None:
    from zoneinfo import ZoneInfo

    assert stats(busy, T0.astimezone(ZoneInfo("Pacific/Auckland"))) == stats(busy)


def test_an_empty_desk(desk: Desk) -> None:
    got = stats(desk)
    assert got == Dashboard(
        days=DAYS,
        per_channel={},
        open_by_priority={"low": 0, "normal": 0, "high": 0, "urgent": 0},
        breached_now=0,
        breached_period=0,
        median_first_response=None,
        answered=0,
        satisfaction=None,
        ratings={1: 0, 2: 0, 3: 0, 4: 0, 5: 0},
    )


def test_days_must_be_positive_and_now_aware(desk: Desk) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        stats(desk, days=0)
    with pytest.raises(ValueError, match="naive"):
        stats(desk, T0.replace(tzinfo=None))


def test_a_ticket_stamped_after_now_is_not_in_the_period(desk: Desk, clock: FakeClock) -> None:
    clock.advance(days=1)  # another machine's clock runs a day ahead
    new(desk, email("ahead@x"))
    got = stats(desk, T0)
    assert (got.per_channel, got.breached_period, got.answered) == ({}, 0, 0)
    assert got.open_by_priority["normal"] == 1  # still open, whatever its clock said
