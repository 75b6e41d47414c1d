"""Which ticket a new inbound message joins (ARCHITECTURE.md threading rules)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sdesk.core.inbound import Inbound
from sdesk.store.rawsql import RawSql

SUBJECT_TAG = re.compile(r"\[#(\d{1,9})\]")
MAX_IDS = 100
_MAX_MERGE_HOPS = 50
_COLUMNS = "id, number, status, last_message_at, merged_into_id"


@dataclass(frozen=True, slots=True)
class ThreadTicket:
    id: int
    number: int
    status: str
    last_message_at: datetime | str


def chat_key(inbound: Inbound) -> str | None:
    """The conversation a chat message belongs to; None for mail-like channels."""
    if not inbound.channel.is_chat:
        return None
    ident = inbound.chat_id or next((c.value for c in inbound.sender.contacts), None)
    return f"{inbound.channel.value}:{ident}" if ident else None


def find_ticket(
    sql: RawSql, inbound: Inbound, chats: dict[str, ThreadTicket | None] | None = None
) -> ThreadTicket | None:
    """In order: the ticket a signed-in customer named; a referenced message we stored or
    sent; our ``[#N]`` tag; the open chat. ``chats``: a batch's answers for the open chat so
    far (``intake.Lookups``), kept."""
    if inbound.ticket_number is not None:
        row = sql.one(f"SELECT {_COLUMNS} FROM ticket WHERE number = ?", inbound.ticket_number)
        if row is not None:
            return _follow(sql, row)
    ids = list(dict.fromkeys([*inbound.in_reply_to, *reversed(inbound.references)]))[:MAX_IDS]
    for message_id in ids:
        ticket_id = sql.scalar(
            "SELECT ticket_id FROM message WHERE message_id = ? ORDER BY id DESC LIMIT 1",
            message_id,
        )
        if ticket_id is not None:
            return _follow(sql, sql.one(f"SELECT {_COLUMNS} FROM ticket WHERE id = ?", ticket_id))
    match = SUBJECT_TAG.search(inbound.subject or "")
    if match:
        row = sql.one(f"SELECT {_COLUMNS} FROM ticket WHERE number = ?", int(match.group(1)))
        if row is not None:
            return _follow(sql, row)
    key = chat_key(inbound)
    if key:
        if chats is not None and key in chats:
            return chats[key]
        row = sql.one(
            f"SELECT {_COLUMNS} FROM ticket WHERE chat_key = ? AND status != 'closed' "
            "ORDER BY id DESC LIMIT 1",
            key,
        )
        found = _follow(sql, row) if row is not None else None
        if chats is not None:
            chats[key] = found
        return found
    return None


def open_chats(sql: RawSql, keys: list[str]) -> dict[str, ThreadTicket | None]:
    """``find_ticket``'s last step for many chats at once: chat key -> the ticket its next
    message joins (None: none is open)."""
    found: dict[str, ThreadTicket | None] = dict.fromkeys(keys)
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        marks = ", ".join("?" for _ in part)
        rows = sql.all(
            f"SELECT {_COLUMNS}, chat_key FROM ticket WHERE chat_key IN ({marks}) "
            "AND status != 'closed' ORDER BY id",
            *part,
        )
        latest = {row[5]: row[:5] for row in rows}  # ordered by id: the newest wins
        for key, row in latest.items():
            found[key] = _follow(sql, row)
    return found


def find_orphaned_reply(sql: RawSql, inbound: Inbound) -> ThreadTicket | None:
    """A reply that arrived before this message (Maildir order, imports) opened a ticket of its
    own; the message it answers joins that ticket instead of starting a third thread."""
    if not inbound.message_id:
        return None
    ticket_id = sql.scalar(
        "SELECT ticket_id FROM message WHERE in_reply_to = ? ORDER BY id LIMIT 1",
        inbound.message_id,
    )
    if ticket_id is None:
        return None
    found = _follow(sql, sql.one(f"SELECT {_COLUMNS} FROM ticket WHERE id = ?", ticket_id))
    if found is not None and inbound.subject.strip():
        # The ticket was named after the reply ("Re: ..."); the original's subject is better.
        sql.run(
            "UPDATE ticket SET subject = ? WHERE id = ? AND lower(subject) LIKE 're:%'",
            inbound.subject.strip(),
            found.id,
        )
    return found


def _follow(sql: RawSql, row: tuple[Any, ...] | None) -> ThreadTicket | None:
    """Mail to a merged ticket lands on the ticket it was merged into."""
    for _ in range(_MAX_MERGE_HOPS):
        if row is None:
            return None
        if row[4] is None:
            return ThreadTicket(row[0], row[1], row[2], row[3])
        row = sql.one(f"SELECT {_COLUMNS} FROM ticket WHERE id = ?", row[4])
    return None
