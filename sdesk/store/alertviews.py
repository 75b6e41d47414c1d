"""Read models of alerts for the console and the CLI: plain dataclasses, never ORM rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.store.alertmodels import Alert, AlertNotice
from sdesk.store.models import Ticket


@dataclass(frozen=True, slots=True)
class NoticeView:
    id: int
    alert_id: int
    agent: str
    medium: str
    state: str
    reason: str | None
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class AlertView:
    id: int
    rule: str
    tier: str
    state: str
    title: str  # may quote a customer's subject: shown through safe_text only
    count: int
    ticket_number: int | None
    created_at: datetime
    next_at: datetime | None
    acked_by: str | None
    acked_how: str | None
    acked_at: datetime | None
    notices: tuple[NoticeView, ...] = ()


def _notice(n: AlertNotice) -> NoticeView:
    assert n.id is not None
    return NoticeView(
        n.id, n.alert_id, n.agent, n.medium, n.state, n.reason, n.created_at, n.sent_at
    )


def list_alerts(session: Session, *, everything: bool = False, limit: int = 100) -> list[AlertView]:
    """Active alerts, newest first (``everything``: acknowledged ones too), with who was told
    how and when, held-back notices included."""
    query = select(Alert, col(Ticket.number)).outerjoin(
        Ticket, col(Ticket.id) == col(Alert.ticket_id)
    )
    if not everything:
        query = query.where(col(Alert.state) == "active")
    rows = session.execute(query.order_by(col(Alert.id).desc()).limit(limit)).all()
    ids = [a.id for a, _n in rows]
    by_alert: dict[int, list[NoticeView]] = {}
    if ids:
        for n in session.execute(
            select(AlertNotice)
            .where(col(AlertNotice.alert_id).in_(ids))
            .order_by(col(AlertNotice.id))
        ).scalars():
            by_alert.setdefault(n.alert_id, []).append(_notice(n))
    out = []
    for a, number in rows:
        assert a.id is not None
        out.append(
            AlertView(
                a.id,
                a.rule,
                a.tier,
                a.state,
                a.title,
                a.count,
                number,
                a.created_at,
                a.next_at,
                a.acked_by,
                a.acked_how,
                a.acked_at,
                tuple(by_alert.get(a.id, ())),
            )  # fmt: skip
        )
    return out


def console_notices(session: Session, agent: str, after: int) -> list[tuple[int, str]]:
    """The toasts for ``agent`` since notice id ``after``: (notice id, alert title)."""
    rows = session.execute(
        select(col(AlertNotice.id), col(Alert.title), col(Alert.tier), col(Alert.id))
        .join(Alert, col(Alert.id) == col(AlertNotice.alert_id))
        .where(
            col(AlertNotice.agent) == agent,
            col(AlertNotice.medium) == "console",
            col(AlertNotice.id) > after,
        )
        .order_by(col(AlertNotice.id))
        .limit(20)
    ).all()
    return [(r[0] or 0, f"[{r[2]}] alert {r[3]}: {r[1]}") for r in rows]


def last_notice_id(session: Session) -> int:
    return int(session.execute(select(func.max(col(AlertNotice.id)))).scalar() or 0)


def next_steps(session: Session, ticket_ids: Iterable[int]) -> dict[int, datetime]:
    """The soonest next escalation step of each ticket's active alerts."""
    wanted = list(ticket_ids)
    if not wanted:
        return {}
    out: dict[int, datetime] = {}
    for ticket_id, at in session.execute(
        select(col(Alert.ticket_id), col(Alert.next_at)).where(
            col(Alert.ticket_id).in_(wanted),
            col(Alert.state) == "active",
            col(Alert.next_at).is_not(None),
        )
    ):
        if (
            ticket_id is not None
            and at is not None
            and (ticket_id not in out or at < out[ticket_id])
        ):
            out[ticket_id] = at
    return out


def escalations_by_number(session: Session, limit: int = 1000) -> dict[int, datetime]:
    """Ticket number → when its alerts' next escalation step is due (the soonest), for the
    inbox's rows; at most ``limit`` tickets, soonest first."""
    out: dict[int, datetime] = {}
    for number, at in session.execute(
        select(col(Ticket.number), col(Alert.next_at))
        .join(Ticket, col(Ticket.id) == col(Alert.ticket_id))
        .where(col(Alert.state) == "active", col(Alert.next_at).is_not(None))
        .order_by(col(Alert.next_at))
        .limit(limit)
    ):
        if at is not None and number not in out:
            out[number] = at
    return out
