"""A satisfaction rating given by replying with a digit (``core/notify.py`` asks for it when a
ticket is closed). Intake calls ``reply_rating`` before it would reopen or follow up a closed
ticket: a short answer that starts with 1–5, sent while a satisfaction request is fresh, is a
rating, stored on the ticket with an event ``ticket.rated`` (via "reply"), not a new request."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from sdesk.core import events
from sdesk.store.rawsql import RawSql

# "5", "5!", "4 thanks", "3/5": a digit first, then at most a few words of thanks.
_DIGIT = re.compile(r"^\s*([1-5])(?:\s*/\s*5)?(?![0-9])[^0-9]{0,60}$", re.S)
RATE_PREFIX = "rate:"  # Telegram callback data of the satisfaction buttons: "rate:<n>:<1-5>"
VIAS = ("reply", "telegram", "cabinet", "api", "agent")


def digit_of(text: str) -> int | None:
    """The rating a short reply gives, or None when it is anything else."""
    m = _DIGIT.match(text or "")
    return int(m.group(1)) if m else None


def requested(sql: RawSql, ticket_id: int, now: datetime, hours: float) -> bool:
    """Whether a satisfaction request on this ticket went out in the last ``hours``."""
    rows = sql.all(
        "SELECT data FROM event WHERE ticket_id = ? AND kind = 'notify.queued' AND created_at > ?"
        " ORDER BY id DESC LIMIT 20",
        ticket_id,
        sql.time(now - timedelta(hours=hours)),
    )
    return any(json.loads(r[0] or "{}").get("notice") == "closed" for r in rows)


def button_rating(
    sql: RawSql, chat: str, number: int, score: int, at: datetime, hours: float
) -> bool:
    """A Telegram satisfaction button (``rate:<ticket>:<n>``) pressed in ``chat``: stored when
    that chat wrote on the ticket and the request is fresh; False otherwise (an old button)."""
    row = sql.one(
        "SELECT t.id FROM ticket t WHERE t.number = ? AND t.status IN ('resolved', 'closed')"
        " AND EXISTS (SELECT 1 FROM message m WHERE m.ticket_id = t.id"
        " AND m.channel = 'telegram' AND m.author_address = ?)",
        number,
        chat,
    )
    if row is None or not 1 <= score <= 5 or not requested(sql, row[0], at, hours):
        return False
    _store(sql, row[0], score, at, "telegram")
    return True


def _store(sql: RawSql, ticket_id: int, score: int, at: datetime, via: str) -> None:
    sql.run(
        "UPDATE ticket SET rating = ?, updated_at = ?, version = version + 1 WHERE id = ?",
        score,
        sql.time(at),
        ticket_id,
    )
    events.record(
        sql, "ticket.rated", at=at, ticket_id=ticket_id, actor="customer", score=score, via=via
    )


def reply_rating(sql: RawSql, ticket_id: int, text: str, at: datetime, hours: float) -> int | None:
    """Store the rating ``text`` gives when a request is fresh; the score, or None."""
    score = digit_of(text)
    if score is None or not requested(sql, ticket_id, at, hours):
        return None
    _store(sql, ticket_id, score, at, "reply")
    return score
