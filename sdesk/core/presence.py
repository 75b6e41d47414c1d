"""Who is viewing or answering which ticket (collision detection between consoles).

Presence is a heartbeat, not an audited act: each console refreshes its row every few seconds
and a row past its expiry counts for nothing, so a console killed mid-reply stops showing within
``TTL``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.store.models import Presence

TTL = timedelta(seconds=15)
VIEWING, REPLYING = "viewing", "replying"


def announce(
    session: Session, agent: str, number: int | None, activity: str, now: datetime
) -> None:
    """Say what ``agent`` works on now; None clears it."""
    row = session.get(Presence, agent)
    if number is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = Presence(agent=agent, ticket_number=number, expires_at=now + TTL)
        session.add(row)
    row.ticket_number, row.activity, row.expires_at = number, activity, now + TTL
    session.execute(delete(Presence).where(col(Presence.expires_at) < now - TTL))


def others(session: Session, me: str, now: datetime) -> dict[int, tuple[tuple[str, str], ...]]:
    """Ticket number → ((agent, activity), …) for every other agent with a live heartbeat."""
    found: defaultdict[int, list[tuple[str, str]]] = defaultdict(list)
    query = (
        select(col(Presence.ticket_number), col(Presence.agent), col(Presence.activity))
        .where(col(Presence.expires_at) >= now, col(Presence.agent) != me)
        .order_by(Presence.agent)
    )
    for number, agent, activity in session.execute(query):
        found[number].append((agent, activity))
    return {n: tuple(v) for n, v in found.items()}
