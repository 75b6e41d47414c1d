"""Alert acts: open (or group) alerts, take an escalation step, acknowledge, settle a notice.

Each is one transaction with its event (ARCHITECTURE.md, "Alerts and the scheduler"). A step
writes its ``alert_step`` row (unique per alert, step and round), its notices and the alert's
next step together, so a step is taken at most once whatever happens to the scheduler; an
acknowledgement cancels the notices not yet handed to a sender, so an ack racing the last step
places no call.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.config_alerts import TIER_MEDIA, AlertRule, AlertSettings
from sdesk.core import events
from sdesk.core.acts import agent_by_login
from sdesk.core.cursors import Cursor, get_cursor, set_cursor
from sdesk.core.enums import Role, Status
from sdesk.core.errors import DeskError, NotFound, PermissionDenied
from sdesk.core.oncall import on_call
from sdesk.core.permissions import require
from sdesk.store.alertmodels import Alert, AlertNotice
from sdesk.store.models import Agent, AgentGroup, Event, Ticket
from sdesk.store.rawsql import RawSql

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

ACTIVE, ACKNOWLEDGED, ENDED = "active", "acknowledged", "done"
LIVE = ("queued", "sending", "sent", "handed")  # notices that count against the limits
ACK_WAYS = ("console", "sms", "voice", "api", "cli")
CURSOR = ("alerts", "events", "")  # channel_cursor row: the last event the rules have read


class AlertError(DeskError):
    """An alert act that cannot be done (no such alert); the message says why."""


class AlertNotFound(AlertError, NotFound):
    """No alert has that number."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What the rules decided about one event: open (or group onto) an alert."""

    rule: AlertRule
    key: str
    title: str
    event: str
    event_id: int | None = None
    ticket_id: int | None = None


@dataclass(frozen=True, slots=True)
class Opened:
    alert_id: int
    new: bool
    next_at: datetime | None


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    alert_id: int
    agent: str
    medium: str
    address: str
    text: str
    title: str


@dataclass(slots=True)
class StepResult:
    alert_id: int
    step: int
    repeat: int
    notices: list[Notice] = field(default_factory=list)
    next_at: datetime | None = None  # when the next step is due (None: no step left)
    next_step: int = 0
    next_repeat: int = 0


def plan_of(rule: AlertRule, settings: AlertSettings) -> dict[str, Any]:
    """The escalation frozen onto the alert: later edits of the policy never change it."""
    policy = settings.policy(rule.escalation)
    if policy is None:
        steps: list[dict[str, Any]] = [
            {"targets": rule.targets, "tier": rule.tier, "wait_minutes": 0}
        ]
        return {"policy": None, "steps": steps, "repeat": 0}
    steps = [
        {
            "targets": s.targets or rule.targets,
            "tier": s.tier or rule.tier,
            "wait_minutes": s.wait_minutes,
        }
        for s in policy.steps
    ]
    return {"policy": policy.name, "steps": steps, "repeat": policy.repeat}


def open_alerts(
    desk: Desk, decisions: Sequence[Decision], *, through_event: int | None = None
) -> list[Opened]:
    """Open an alert per decision, or count it onto the active alert with the same key (a
    burst is one alert with a count); with ``through_event`` the rules' cursor moves in the
    same transaction, so a crash re-reads exactly the events not yet taken."""
    now = desk.clock()
    out: list[Opened] = []
    with desk.store.write() as session:
        sql = RawSql(session)
        known: dict[str, tuple[int, datetime | None]] = {}
        keys = list(dict.fromkeys(d.key for d in decisions))
        for chunk in range(0, len(keys), 500):
            for alert_id, key, next_at in session.execute(
                select(col(Alert.id), col(Alert.open_key), col(Alert.next_at)).where(
                    col(Alert.open_key).in_(keys[chunk : chunk + 500])
                )
            ):
                known[key] = (alert_id, next_at)
        bumps: Counter[int] = Counter()
        when = sql.time(now)
        for d in decisions:
            if d.key in known:
                alert_id, next_at = known[d.key]
                bumps[alert_id] += 1
                out.append(Opened(alert_id, False, next_at))
                continue
            alert_id = sql.insert(
                "alert", key=d.key, open_key=d.key, rule=d.rule.name, event=d.event,
                event_id=d.event_id, ticket_id=d.ticket_id, tier=d.rule.tier,
                title=d.title[:300], state=ACTIVE, count=1,
                plan=json.dumps(plan_of(d.rule, desk.settings.alerts)), step=0, repeat=0,
                next_at=when, created_at=when, last_seen_at=when,
            )  # fmt: skip
            known[d.key] = (alert_id, now)
            events.record(
                sql, "alert.raised", at=now, ticket_id=d.ticket_id, alert=alert_id,
                rule=d.rule.name, tier=d.rule.tier,
            )  # fmt: skip
            out.append(Opened(alert_id, True, now))
        for alert_id, n in bumps.items():
            sql.run(
                "UPDATE alert SET count = count + ?, last_seen_at = ? WHERE id = ?",
                n, when, alert_id,
            )  # fmt: skip
        if through_event is not None:
            set_cursor(session, *CURSOR, Cursor(None, str(through_event)), now)
    return out


def events_cursor(desk: Desk) -> int:
    with desk.store.read() as session:
        cursor = get_cursor(session, *CURSOR)
    return int(cursor.position) if cursor and cursor.position else 0


def start_cursor_at_end(desk: Desk) -> int:
    """A desk's first run of the rules starts after the events already there (history is not
    paged about); returns the cursor."""
    with desk.store.write() as session:
        cursor = get_cursor(session, *CURSOR)
        if cursor is not None and cursor.position:
            return int(cursor.position)
        last = session.execute(select(func.max(col(Event.id)))).scalar() or 0
        set_cursor(session, *CURSOR, Cursor(None, str(last)), desk.clock())
        return int(last)


def run_step(desk: Desk, alert_id: int, step: int, repeat: int) -> StepResult | None:
    """Take step ``step`` of round ``repeat`` if it is the alert's next one and still due;
    None when it is not (taken already, acknowledged, not yet due): the caller does nothing."""
    taken = run_steps(desk, [(alert_id, step, repeat)])
    return taken[0] if taken else None


def run_steps(desk: Desk, wanted: Sequence[tuple[int, int, int]]) -> list[StepResult]:
    """Take each (alert, step, round) that is still the alert's next one and due, all in one
    transaction (a burst of due steps costs one commit); the ones that are not are skipped.
    Each step taken writes its unique ``alert_step`` row in that transaction."""
    if not wanted:
        return []
    now = desk.clock()
    try:
        with desk.store.write() as session:
            return _run_steps(desk, session, wanted, now)
    except IntegrityError:  # a step taken meanwhile by another process: one at a time
        if len(wanted) == 1:
            return []
        return [r for w in wanted for r in run_steps(desk, [w])]


@dataclass(slots=True)
class _Due:
    """An alert row as a step needs it (read with the write lock held)."""

    id: int
    state: str
    step: int
    repeat: int
    next_at: datetime | None
    ticket_id: int | None
    tier: str
    title: str
    count: int
    plan: str


def _run_steps(
    desk: Desk, session: Session, wanted: Sequence[tuple[int, int, int]], now: datetime
) -> list[StepResult]:
    sql = RawSql(session)
    ids = sorted({a for a, _s, _r in wanted})
    alerts: dict[int, _Due] = {}
    for chunk in range(0, len(ids), 500):
        for row in session.execute(
            select(
                col(Alert.id), col(Alert.state), col(Alert.step), col(Alert.repeat),
                col(Alert.next_at), col(Alert.ticket_id), col(Alert.tier), col(Alert.title),
                col(Alert.count), col(Alert.plan),
            )
            .where(col(Alert.id).in_(ids[chunk : chunk + 500]))
            .with_for_update()
        ):  # fmt: skip
            due = _Due(*row)  # type: ignore[arg-type,call-arg]  # id is set on stored rows
            alerts[due.id] = due
    settled = _settled_tickets(sql, {a.ticket_id for a in alerts.values() if a.ticket_id})
    results: list[StepResult] = []
    who: dict[tuple[tuple[str, ...], int | None], list[Agent]] = {}
    for alert_id, step, repeat in wanted:
        alert = alerts.get(alert_id)
        if (
            alert is None
            or alert.state != ACTIVE
            or (alert.step, alert.repeat) != (step, repeat)
            or alert.next_at is None
            or alert.next_at > now
        ):
            continue
        if alert.ticket_id in settled:
            # Its ticket was resolved or closed meanwhile: nobody is woken for it any more.
            _end(sql, alert, now, f"ticket {settled[alert.ticket_id]}")
            continue
        # The unique row: a step taken twice fails here, and the transaction with it.
        sql.insert(
            "alert_step", alert_id=alert_id, step=step, repeat=repeat, ran_at=sql.time(now),
            due_at=sql.time(alert.next_at),
        )  # fmt: skip
        results.append(_take(desk, session, sql, alert, now, who))
        events.record(
            sql, "alert.step", at=now, ticket_id=alert.ticket_id, alert=alert_id, step=step,
            repeat=repeat,
        )  # fmt: skip
    return results


def _settled_tickets(sql: RawSql, ticket_ids: set[int | None]) -> dict[int, str]:
    """The resolved or closed tickets among ``ticket_ids``, with their status."""
    ids = sorted(t for t in ticket_ids if t is not None)
    settled: dict[int, str] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        marks = ", ".join("?" * len(part))
        for ticket_id, status in sql.all(
            f"SELECT id, status FROM ticket WHERE id IN ({marks}) AND status IN (?, ?)",
            *part, Status.RESOLVED.value, Status.CLOSED.value,
        ):  # fmt: skip
            settled[int(ticket_id)] = str(status)
    return settled


def _end(sql: RawSql, alert: _Due, now: datetime, reason: str) -> None:
    """The alert stops escalating without an acknowledgement; queued notices are cancelled."""
    alert.state, alert.next_at = ENDED, None
    sql.run("UPDATE alert SET state = ?, open_key = NULL, next_at = NULL WHERE id = ?",
            ENDED, alert.id)  # fmt: skip
    sql.run(
        "UPDATE alert_notice SET state = 'cancelled', reason = ? WHERE alert_id = ? AND state = ?",
        reason, alert.id, "queued",
    )  # fmt: skip
    events.record(sql, "alert.ended", at=now, ticket_id=alert.ticket_id, alert=alert.id,
                  reason=reason)  # fmt: skip


def _take(
    desk: Desk,
    session: Session,
    sql: RawSql,
    alert: _Due,
    now: datetime,
    who: dict[tuple[tuple[str, ...], int | None], list[Agent]],
) -> StepResult:
    plan = json.loads(alert.plan)
    steps = plan["steps"]
    spec = steps[alert.step]
    result = StepResult(alert.id, alert.step, alert.repeat)
    title = _title(alert)
    targets = tuple(spec["targets"])
    key = (targets, alert.ticket_id if "assignee" in targets else None)
    if key not in who:
        who[key] = _resolve(desk, session, alert.ticket_id, list(targets), now)
    for medium in TIER_MEDIA[spec["tier"]]:
        for agent in who[key]:
            notice = _notice(desk, session, sql, alert, agent, medium, title, now)
            if notice is not None:
                result.notices.append(notice)
    wait = timedelta(minutes=float(spec["wait_minutes"]))
    if alert.step + 1 < len(steps):
        alert.step += 1
        alert.next_at = now + wait
    elif alert.repeat < int(plan["repeat"]):
        alert.step, alert.repeat = 0, alert.repeat + 1
        alert.next_at = now + wait
    else:
        alert.next_at = None  # nothing left to do but wait for an acknowledgement
    sql.run(
        "UPDATE alert SET step = ?, repeat = ?, next_at = ? WHERE id = ?",
        alert.step, alert.repeat, sql.time(alert.next_at), alert.id,
    )  # fmt: skip
    if alert.next_at is not None:
        result.next_at, result.next_step, result.next_repeat = (
            alert.next_at, alert.step, alert.repeat,
        )  # fmt: skip
    return result


def _title(alert: Alert | _Due) -> str:
    more = f" (×{alert.count})" if alert.count > 1 else ""
    return f"[{alert.tier}] alert {alert.id}: {alert.title}{more}"


def resolve_logins(desk: Desk, targets: list[str], at: datetime) -> list[str]:
    """Who the targets name at ``at`` (``assignee`` names nobody without a ticket)."""
    with desk.store.read() as session:
        return [a.login for a in _resolve(desk, session, None, targets, at)]


def _resolve(
    desk: Desk, session: Session, ticket_id: int | None, targets: list[str], now: datetime
) -> list[Agent]:
    """The active agents the targets name, each once, in a stable order."""
    logins: list[str] = []
    group_ids: list[str] = []
    everyone = False
    for target in targets:
        kind, _, name = target.partition(":")
        if kind == "team":
            everyone = True
        elif kind == "agent":
            logins.append(name)
        elif kind == "group":
            group_ids.append(name)
        elif kind == "oncall":
            who = on_call(desk.settings.alerts, name, now).agent
            if who:
                logins.append(who)
        elif kind == "assignee" and ticket_id is not None:
            ticket = session.get(Ticket, ticket_id)
            if ticket is not None and ticket.assignee_id is not None:
                agent = session.get(Agent, ticket.assignee_id)
                if agent is not None:
                    logins.append(agent.login)
    query = select(Agent).where(col(Agent.active).is_(True))
    if not everyone:
        conds = [col(Agent.login).in_(logins)] if logins else []
        if group_ids:
            ids = select(col(AgentGroup.id)).where(col(AgentGroup.name).in_(group_ids))
            conds.append(col(Agent.group_id).in_(ids))
        if not conds:
            return []
        query = query.where(or_(*conds))
    return list(session.execute(query.order_by(col(Agent.login))).scalars())


def _address(agent: Agent, medium: str) -> str:
    if medium == "email":
        return agent.email or ""
    if medium == "push":
        return agent.push_target or ""
    if medium in ("sms", "voice"):
        return agent.phone or ""
    return agent.login  # console


def _notice(
    desk: Desk, session: Session, sql: RawSql, alert: _Due, agent: Agent, medium: str,
    title: str, now: datetime,
) -> Notice | None:  # fmt: skip
    """One notice row: to send (returned), or held back with the reason (visible, never
    lost), or handed to the outbox (email), or simply there for the consoles to read."""
    address = _address(agent, medium)
    storm = desk.settings.alerts.storm
    cost = storm.sms_cost if medium == "sms" else storm.call_cost if medium == "voice" else 0.0
    reason = None
    if not address:
        reason = f"agent {agent.login} has no {'phone' if cost or medium == 'voice' else medium}"
    elif medium in ("sms", "voice"):
        reason = _limited(session, storm, agent.login, medium, cost, now)
    # SMS and calls are claimed just before they go (an ack in between cancels them); a push
    # is taken for sending in the step's own transaction.
    state = (
        "held" if reason else "sent" if medium == "console" else "sending" if medium == "push"
        else "queued"
    )  # fmt: skip
    text = _text(alert, title, medium)
    notice_id = sql.insert(
        "alert_notice", alert_id=alert.id, step=alert.step, repeat=alert.repeat,
        agent=agent.login, medium=medium, address=address, state=state, reason=reason,
        cost=0.0 if reason else cost, attempts=0, ref=None, created_at=sql.time(now),
        sent_at=sql.time(now) if state == "sent" else None,
    )  # fmt: skip
    if state not in ("queued", "sending"):
        return None
    if medium == "email":  # ordinary: through the outbox and SMTP like every mail
        _queue_email(desk, sql, notice_id, address, title, text, now)
        return None
    return Notice(notice_id, alert.id, agent.login, medium, address, text, title)


def _limited(
    session: Session, storm: Any, login: str, medium: str, cost: float, now: datetime
) -> str | None:
    """Why an SMS or call must be held back (per-target rate, the hourly cost breaker)."""
    if medium == "sms":
        most, window = storm.sms_per_target, timedelta(minutes=storm.sms_window_minutes)
    else:
        most, window = storm.calls_per_target, timedelta(minutes=storm.calls_window_minutes)
    sent = session.execute(
        select(func.count()).where(
            col(AlertNotice.agent) == login,
            col(AlertNotice.medium) == medium,
            col(AlertNotice.state).in_(LIVE),
            col(AlertNotice.created_at) > now - window,
        )
    ).scalar_one()
    if sent >= most:
        minutes = f"{window.total_seconds() / 60:g}"
        return f"rate limit: {most} {medium} to {login} in {minutes} min"
    spent = session.execute(
        select(func.coalesce(func.sum(col(AlertNotice.cost)), 0.0)).where(
            col(AlertNotice.medium).in_(("sms", "voice")),
            col(AlertNotice.state).in_(LIVE),
            col(AlertNotice.created_at) > now - timedelta(hours=1),
        )
    ).scalar_one()
    if float(spent) + cost > storm.hourly_cost_limit + 1e-9:
        return f"cost breaker: {spent:.2f} of {storm.hourly_cost_limit:.2f} spent this hour"
    return None


def _text(alert: Alert | _Due, title: str, medium: str) -> str:
    if medium in ("sms", "voice"):
        return f"{title}. Reply ACK {alert.id} to acknowledge."
    return f"{title}\n\nAcknowledge it in the console (alerts view) or: sdesk alerts ack {alert.id}"


def _queue_email(
    desk: Desk, sql: RawSql, notice_id: int, address: str, title: str, text: str,
    now: datetime,
) -> None:  # fmt: skip
    payload = {
        "subject": title,
        "text": text,
        "message_id": f"<alert-{notice_id}.{uuid.uuid4().hex[:12]}@{desk.settings.desk_domain}>",
        "automatic": True,
    }
    when = sql.time(now)
    outbox_id = sql.insert(
        "outbox", kind="alert", channel="email", ticket_id=None, message_id=None,
        recipient=address, payload=json.dumps(payload, ensure_ascii=False), state="queued",
        attempts=0, next_attempt_at=when, last_error=None, created_at=when, sent_at=None,
        idempotency_key=f"alert-notice:{notice_id}",
    )  # fmt: skip
    sql.run(
        "UPDATE alert_notice SET state = 'handed', ref = ? WHERE id = ?",
        f"outbox:{outbox_id}", notice_id,
    )  # fmt: skip


def claim_notice(desk: Desk, notice_id: int) -> bool:
    """Take a queued notice for sending; False when an acknowledgement cancelled it (or another
    sender took it): nothing is sent then."""
    with desk.store.write() as session:
        alive = select(col(Alert.id)).where(col(Alert.state) == ACTIVE)
        changed = session.execute(
            update(AlertNotice)
            .where(
                col(AlertNotice.id) == notice_id,
                col(AlertNotice.state) == "queued",
                col(AlertNotice.alert_id).in_(alive),
            )
            .values(state="sending", attempts=AlertNotice.attempts + 1)
        )
        return bool(getattr(changed, "rowcount", 0))


def settle_notice(desk: Desk, notice_id: int, *, error: str = "", ref: str | None = None) -> None:
    settle_notices(desk, [(notice_id, error, ref)])


def settle_notices(desk: Desk, outcomes: Sequence[tuple[int, str, str | None]]) -> None:
    """Record what became of sent notices, (id, error or "", upstream ref), in one
    transaction; a failure keeps its reason on the notice."""
    if not outcomes:
        return
    now = desk.clock()
    with desk.store.write() as session:
        rows = {
            r.id: r
            for r in session.execute(
                select(AlertNotice).where(col(AlertNotice.id).in_([o[0] for o in outcomes]))
            ).scalars()
        }
        for notice_id, error, ref in outcomes:
            row = rows.get(notice_id)
            if row is None:
                continue
            if error:
                row.state, row.reason = "failed", error[:300]
            else:
                row.state, row.sent_at, row.ref = "sent", now, ref
            if error or row.medium in ("sms", "voice"):  # the audit log: the costly and failed
                events.record(
                    session, "alert.notice", at=now, alert=row.alert_id, notice=notice_id,
                    medium=row.medium, agent=row.agent, state=row.state,
                )  # fmt: skip


def requeue_stale(desk: Desk, older_than: timedelta) -> list[int]:
    """Notices left "sending" by a sender that died: queued again (a notice is sent at least
    once; a step is never taken twice). Returns the queued notices to send."""
    now = desk.clock()
    with desk.store.write() as session:
        session.execute(
            update(AlertNotice)
            .where(
                col(AlertNotice.state) == "sending",
                col(AlertNotice.created_at) < now - older_than,
            )
            .values(state="queued")
        )
        rows = session.execute(
            select(col(AlertNotice.id))
            .join(Alert, col(Alert.id) == col(AlertNotice.alert_id))
            .where(
                col(AlertNotice.state) == "queued",
                col(AlertNotice.medium).in_(("push", "sms", "voice")),
                col(Alert.state) == ACTIVE,
            )
            .order_by(col(AlertNotice.id))
            .limit(1000)
        ).scalars()
        return list(rows)


def notice(desk: Desk, notice_id: int) -> Notice | None:
    with desk.store.read() as session:
        row = session.get(AlertNotice, notice_id)
        alert = session.get(Alert, row.alert_id) if row is not None else None
        if row is None or alert is None or row.id is None:
            return None
        title = _title(alert)
        text = _text(alert, title, row.medium)
        return Notice(row.id, alert.id or 0, row.agent, row.medium, row.address, text, title)


@dataclass(frozen=True, slots=True)
class Acked:
    alert_id: int
    already: bool  # acknowledged before (by ``by`` ``how``)
    by: str
    how: str
    at: datetime
    cancelled: int  # notices not yet sent that will not be


def acknowledge(desk: Desk, alert_id: int, by: str, how: str) -> Acked:
    """Stop the alert's escalation, recording who, how and when; notices not yet handed to a
    sender are cancelled in the same transaction (an ack racing a step places no call)."""
    if how not in ACK_WAYS:
        raise AlertError(f"unknown way to acknowledge {how!r}")
    now = desk.clock()
    with desk.store.write() as session:
        alert = session.execute(
            select(Alert).where(col(Alert.id) == alert_id).with_for_update()
        ).scalar_one_or_none()
        if alert is None:
            raise AlertNotFound(f"no alert {alert_id}")
        if alert.state != ACTIVE:
            return Acked(alert_id, True, alert.acked_by or "", alert.acked_how or "",
                         alert.acked_at or now, 0)  # fmt: skip
        alert.state, alert.open_key, alert.next_at = ACKNOWLEDGED, None, None
        alert.acked_at, alert.acked_by, alert.acked_how = now, by, how
        cancelled = session.execute(
            update(AlertNotice)
            .where(col(AlertNotice.alert_id) == alert_id, col(AlertNotice.state) == "queued")
            .values(state="cancelled", reason=f"acknowledged by {by}")
        )
        events.record(
            session, "alert.acknowledged", at=now, ticket_id=alert.ticket_id, actor=by,
            alert=alert_id, how=how,
        )  # fmt: skip
        return Acked(alert_id, False, by, how, now, int(getattr(cancelled, "rowcount", 0)))


def signal(desk: Desk, kind: str, *, key: str, text: str, ticket_id: int | None = None) -> None:
    """Record a system event the rules may alert on (``channel.down``, ``delivery.failed``)."""
    signals(desk, [(kind, key, text)], ticket_id=ticket_id)


def signals(
    desk: Desk, items: Sequence[tuple[str, str, str]], *, ticket_id: int | None = None
) -> None:
    """Several system events (kind, key, text) in one transaction."""
    now = desk.clock()
    with desk.store.write() as session:
        for kind, key, text in items:
            events.record(session, kind, at=now, ticket_id=ticket_id, key=key, text=text)


_UNSET: Any = object()


def set_agent_reach(
    desk: Desk,
    login: str,
    *,
    push_target: str | None = _UNSET,
    phone: str | None = _UNSET,
    email: str | None = _UNSET,
    group: str | None = _UNSET,
    by: str | None = None,
) -> None:
    """How alerts reach an agent: an apprise push URL, a phone, an email, a group (made when
    new). Only what is given changes; once the desk has an admin, ``by`` must manage agents."""
    now = desk.clock()
    with desk.store.write() as session:
        has_admin = session.execute(
            select(col(Agent.id)).where(col(Agent.role) == Role.ADMIN.value)
        ).first()
        if has_admin:
            if by is None:
                raise PermissionDenied("only an admin may change how agents are reached")
            require(agent_by_login(session, by).role, "manage_agents", by)
        agent = session.execute(select(Agent).where(col(Agent.login) == login)).scalar_one_or_none()
        if agent is None:
            raise AlertError(f"no agent {login!r}")
        changed: dict[str, Any] = {}
        if push_target is not _UNSET:
            agent.push_target = changed["push_target"] = push_target or None
        if phone is not _UNSET:
            agent.phone = changed["phone"] = phone or None
        if email is not _UNSET:
            agent.email = changed["email"] = email or None
        if group is not _UNSET:
            agent.group_id = None
            if group:
                row = session.execute(
                    select(AgentGroup).where(col(AgentGroup.name) == group)
                ).scalar_one_or_none()
                if row is None:
                    row = AgentGroup(name=group)
                    session.add(row)
                    session.flush()
                agent.group_id = row.id
            changed["group"] = group
        # The push URL may hold a token: the event says what changed, not to what.
        events.record(session, "agent.reach", at=now, actor=login, changed=sorted(changed))
