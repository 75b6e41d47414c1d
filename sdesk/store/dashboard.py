"""The dashboard's numbers: a few bounded queries, folded into one plain dataclass.

Headless on purpose: the console draws it, but a report or a test can ask for it without Textual.
Only the period's tickets are fetched row by row (for the median); everything over the whole desk
is counted in SQL, so a 100,000-ticket desk costs one scan, not 100,000 Python objects.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.enums import Priority
from sdesk.store.models import Agent, Ticket
from sdesk.store.queries import ACTIVE, sla_due

SCORES = (1, 2, 3, 4, 5)


@dataclass(frozen=True, slots=True)
class Dashboard:
    """What the desk looks like over the last ``len(days)`` days; every count skips merged
    tickets, whose messages live on in the ticket they went into."""

    days: tuple[date, ...]
    per_channel: dict[str, tuple[int, ...]]  # channel value → tickets created per day
    open_by_priority: dict[str, int]  # every priority, low → urgent, zeros included
    breached_now: int
    breached_period: int
    median_first_response: timedelta | None
    answered: int
    satisfaction: float | None
    ratings: dict[int, int]  # score 1..5 → tickets rated so
    # (agent login, mean score, tickets rated): the period's ratings by the ticket's assignee
    by_agent: tuple[tuple[str, float, int], ...] = ()
    # (Monday of the week, mean score, tickets rated), oldest first, by when it was resolved
    by_week: tuple[tuple[date, float, int], ...] = ()

    @property
    def created(self) -> int:
        return sum(sum(row) for row in self.per_channel.values())

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())


def dashboard_stats(session: Session, now: datetime, *, days: int = 14) -> Dashboard:
    """The dashboard as of ``now`` (aware UTC): ``days`` calendar days in UTC ending today."""
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    if now.tzinfo is None:  # astimezone() would take it for local time and shift the days
        raise ValueError("naive datetime given as now; use aware UTC")
    now = now.astimezone(UTC)
    first = now.date() - timedelta(days=days - 1)
    start = datetime.combine(first, time(), tzinfo=UTC)
    day_list = tuple(first + timedelta(days=i) for i in range(days))
    kept = col(Ticket.merged_into_id).is_(None)

    per_day: dict[str, list[int]] = {}
    waits: list[float] = []
    breached_period = 0
    period = select(
        col(Ticket.channel),
        col(Ticket.created_at),
        col(Ticket.first_response_at),
        col(Ticket.first_response_due),
    ).where(kept, col(Ticket.created_at) >= start)
    for channel, created, answered_at, due in session.execute(period):
        index = (created.date() - first).days
        if index >= days:  # stamped by a clock ahead of ours: not in the period yet
            continue
        per_day.setdefault(channel, [0] * days)[index] += 1
        if answered_at is not None:
            waits.append((answered_at - created).total_seconds())
            breached_period += due is not None and answered_at > due
        else:
            breached_period += due is not None and due < now

    open_by_priority = {p.value: 0 for p in Priority}
    for priority, count in session.execute(
        select(col(Ticket.priority), func.count())
        .where(kept, col(Ticket.status).in_(ACTIVE))
        .group_by(Ticket.priority)
    ):
        open_by_priority[priority] = open_by_priority.get(priority, 0) + count

    # the status filter lets SQLite use ix_ticket_status_due instead of scanning every ticket
    breached_now = session.execute(
        select(func.count()).where(kept, col(Ticket.status).in_(ACTIVE), sla_due() < now)
    ).scalar_one()

    ratings = dict.fromkeys(SCORES, 0)
    for score, count in session.execute(
        select(col(Ticket.rating), func.count())
        .where(
            kept,
            col(Ticket.rating).is_not(None),
            or_(col(Ticket.created_at) >= start, col(Ticket.resolved_at) >= start),
        )
        .group_by(col(Ticket.rating))
    ):
        if score in ratings:  # a score outside 1..5 can only come from a hand-edited desk
            ratings[score] = count
    rated = sum(ratings.values())
    by_agent, by_week = _rating_splits(session, kept, start)

    return Dashboard(
        days=day_list,
        per_channel={ch: tuple(row) for ch, row in per_day.items() if any(row)},
        open_by_priority=open_by_priority,
        breached_now=int(breached_now),
        breached_period=breached_period,
        median_first_response=(timedelta(seconds=statistics.median(waits)) if waits else None),
        answered=len(waits),
        satisfaction=(sum(s * n for s, n in ratings.items()) / rated) if rated else None,
        ratings=ratings,
        by_agent=by_agent,
        by_week=by_week,
    )


def _rating_splits(
    session: Session, kept: Any, start: datetime
) -> tuple[tuple[tuple[str, float, int], ...], tuple[tuple[date, float, int], ...]]:
    """The period's ratings by assignee (unassigned ones under "-") and by week resolved; one
    row per rated ticket is read, so this is bounded by the period, not the desk."""
    agents: dict[str, list[int]] = {}
    weeks: dict[date, list[int]] = {}
    rows = session.execute(
        select(
            col(Ticket.rating), col(Agent.login), col(Ticket.resolved_at), col(Ticket.created_at)
        )
        .outerjoin(Agent, col(Agent.id) == col(Ticket.assignee_id))
        .where(
            kept,
            col(Ticket.rating).is_not(None),
            or_(col(Ticket.created_at) >= start, col(Ticket.resolved_at) >= start),
        )
    )
    for score, login, resolved, created in rows:
        if score not in SCORES:
            continue
        agents.setdefault(login or "-", []).append(score)
        day = (resolved or created).astimezone(UTC).date()
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(score)
    by_agent = sorted(
        ((a, sum(v) / len(v), len(v)) for a, v in agents.items()), key=lambda r: (-r[2], r[0])
    )
    by_week = sorted((w, sum(v) / len(v), len(v)) for w, v in weeks.items())
    return tuple(by_agent), tuple(by_week)
