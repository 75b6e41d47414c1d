"""Which rules an event matches: event × priority × business hours (× minutes unassigned)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import col

from sdesk.config_alerts import AlertRule, AlertSettings
from sdesk.core.alerts import Decision
from sdesk.core.desk import Desk
from sdesk.core.hours import in_business
from sdesk.store.models import Event, Ticket

# Event kinds in the log → the rule vocabulary's names for them.
KINDS = {"message.failed": "delivery.failed"}
BATCH = 500


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    kind: str
    ticket_id: int | None
    data: dict[str, object]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TicketInfo:
    number: int
    priority: str
    subject: str


def read_events(desk: Desk, after: int, limit: int = BATCH) -> list[EventRow]:
    with desk.store.read() as session:
        rows = session.execute(
            select(
                col(Event.id), col(Event.kind), col(Event.ticket_id), col(Event.data),
                col(Event.created_at),
            )
            .where(col(Event.id) > after)
            .order_by(col(Event.id))
            .limit(limit)
        )  # fmt: skip
        return [EventRow(r[0], r[1], r[2], json.loads(r[3] or "{}"), r[4]) for r in rows]


def tickets(desk: Desk, ids: Iterable[int]) -> dict[int, TicketInfo]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    with desk.store.read() as session:
        rows = session.execute(
            select(col(Ticket.id), col(Ticket.number), col(Ticket.priority), col(Ticket.subject))
            .where(col(Ticket.id).in_(wanted))
        )  # fmt: skip
        return {r[0]: TicketInfo(r[1], r[2], r[3]) for r in rows}


def matches(
    rule: AlertRule, settings: AlertSettings, kind: str, event: EventRow,
    ticket: TicketInfo | None, at: datetime,
) -> bool:  # fmt: skip
    if rule.event != kind:
        return False
    if rule.priorities and (ticket is None or ticket.priority not in rule.priorities):
        return False
    if kind == "ticket.unassigned" and event.data.get("minutes") != rule.after_minutes:
        return False
    if kind == "message.received" and event.data.get("auto"):
        return False  # robots (auto-replies, bounces) never page anyone
    if rule.hours != "any":
        inside = in_business(settings.business_hours, at)
        if inside != (rule.hours == "business"):
            return False
    return True


def decide(desk: Desk, rows: list[EventRow]) -> list[Decision]:
    """The alerts the events call for, in event order."""
    settings = desk.settings.alerts
    info = tickets(desk, (r.ticket_id for r in rows if r.ticket_id is not None))
    out: list[Decision] = []
    for row in rows:
        kind = KINDS.get(row.kind, row.kind)
        if kind == "delivery.failed" and row.ticket_id is None:
            continue  # an alert's own mail that failed: its notice says so, no alert on it
        ticket = info.get(row.ticket_id) if row.ticket_id is not None else None
        for rule in settings.rules:
            if matches(rule, settings, kind, row, ticket, row.created_at):
                out.append(_decision(rule, kind, row, ticket))
    return out


def _decision(rule: AlertRule, kind: str, row: EventRow, ticket: TicketInfo | None) -> Decision:
    if ticket is not None:
        key = f"{rule.name}:ticket:{row.ticket_id}"
        title = f"{kind} on #{ticket.number} ({ticket.priority}): {ticket.subject}"
    else:
        key = f"{rule.name}:{row.data.get('key') or kind}"
        title = f"{kind}: {row.data.get('text') or row.data.get('key') or ''}"
    return Decision(rule, key, title, kind, row.id, row.ticket_id)


def dry_run(desk: Desk, rule: AlertRule, at: datetime) -> list[tuple[int, str, str, float]]:
    """What the rule would do, without sending: (step, who, how, minutes from now)."""
    from sdesk.config_alerts import TIER_MEDIA
    from sdesk.core.alerts import plan_of, resolve_logins

    plan = plan_of(rule, desk.settings.alerts)
    out: list[tuple[int, str, str, float]] = []
    offset = 0.0
    rounds = int(plan["repeat"]) + 1
    for _round in range(rounds):
        for n, spec in enumerate(plan["steps"]):
            for login in resolve_logins(desk, spec["targets"], at):
                for medium in TIER_MEDIA[spec["tier"]]:
                    out.append((n, login, medium, offset))
            offset += float(spec["wait_minutes"])
    return out
