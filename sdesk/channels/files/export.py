"""``sdesk export``: every ticket as one JSON object (or CSV rows), streamed page by page.

The JSON form is what ``sdesk ingest`` reads back, so desk A → export → desk B keeps tickets and
threads. Schema: README, "Export schema".
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlmodel import col

from sdesk.store.engine import Store
from sdesk.store.models import Agent, Attachment, Contact, Customer, Message, Ticket

PAGE = 200
CSV_COLUMNS = [
    "ticket",
    "subject",
    "status",
    "priority",
    "channel",
    "customer",
    "contacts",
    "assignee",
    "message_kind",
    "message_channel",
    "author",
    "created_at",
    "external_id",
    "auto",
    "text",
]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def iter_tickets(store: Store, *, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Tickets in number order; each page is one short read so writers are never held up."""
    last_id = 0
    while True:
        with store.read() as session:
            query = select(Ticket).where(
                col(Ticket.id) > last_id, col(Ticket.merged_into_id).is_(None)
            )
            if since is not None:
                query = query.where(col(Ticket.updated_at) >= since)
            tickets = list(session.execute(query.order_by(col(Ticket.id)).limit(PAGE)).scalars())
            if not tickets:
                return
            last_id = tickets[-1].id or last_id
            yield from _page(session, tickets)


def _page(session: Any, tickets: list[Ticket]) -> Iterator[dict[str, Any]]:
    ticket_ids = [t.id for t in tickets]
    customer_ids = {t.customer_id for t in tickets}
    customers = {
        c.id: c
        for c in session.execute(
            select(Customer).where(col(Customer.id).in_(customer_ids))
        ).scalars()
    }
    contacts: dict[int, list[dict[str, str]]] = defaultdict(list)
    for c in session.execute(
        select(Contact).where(col(Contact.customer_id).in_(customer_ids)).order_by(col(Contact.id))
    ).scalars():
        contacts[c.customer_id].append({"kind": c.kind, "value": c.value})
    agents = {a.id: a.login for a in session.execute(select(Agent)).scalars()}
    messages: dict[int, list[Message]] = defaultdict(list)
    for m in session.execute(
        select(Message)
        .where(col(Message.ticket_id).in_(ticket_ids))
        .order_by(col(Message.created_at), col(Message.id))
    ).scalars():
        messages[m.ticket_id].append(m)
    message_ids = [m.id for ms in messages.values() for m in ms]
    attachments: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for a in session.execute(
        select(Attachment)
        .where(col(Attachment.message_id).in_(message_ids))
        .order_by(col(Attachment.id))
    ).scalars():
        attachments[a.message_id].append(
            {
                "filename": a.filename,
                "size": a.size,
                "sha256": a.sha256,
                "content_type": a.content_type,
                "inline": a.inline,
            }
        )
    for t in tickets:
        customer = customers.get(t.customer_id)
        yield {
            "type": "ticket",
            "number": t.number,
            "subject": t.subject,
            "status": t.status,
            "priority": t.priority,
            "channel": t.channel,
            "created_at": _iso(t.created_at),
            "updated_at": _iso(t.updated_at),
            "assignee": agents.get(t.assignee_id) if t.assignee_id else None,
            "chat_key": t.chat_key,
            "customer": {
                "name": customer.name if customer else "",
                "contacts": contacts.get(t.customer_id, []),
            },
            "messages": [
                {
                    "kind": m.kind,
                    "channel": m.channel,
                    "author": m.author_name,
                    "author_agent": agents.get(m.author_agent_id) if m.author_agent_id else None,
                    "author_address": m.author_address,
                    "subject": m.subject,
                    "text": m.text,
                    "created_at": _iso(m.created_at),
                    "external_id": m.external_id,
                    "message_id": m.message_id,
                    "in_reply_to": m.in_reply_to,
                    "references": m.references,
                    "auto": m.auto,
                    "delivery_state": m.delivery_state,
                    "attachments": attachments.get(m.id, []),  # type: ignore[arg-type]
                }
                for m in messages.get(t.id, [])  # type: ignore[arg-type]
            ],
        }


class Sink(Protocol):
    """Where an export goes: a file, stdout, or anything else with ``write``."""

    def write(self, text: str, /) -> object: ...


# Written as \uXXXX in JSON Lines even to a file: C1 controls, bidi embeddings, overrides and
# isolates, zero-width characters, the BOM, the line and paragraph separators. ``json.dumps``
# escapes only C0; these would otherwise reach whoever reads the file with cat, less or an
# editor. Still the same JSON: ``sdesk ingest`` reads back the very same strings.
_JSON_INVISIBLE = re.compile("[\x80-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def json_line(record: dict[str, Any]) -> str:
    text = json.dumps(record, ensure_ascii=False)
    return _JSON_INVISIBLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) + "\n"


def write_jsonl(tickets: Iterator[dict[str, Any]], out: Sink) -> int:
    n = 0
    for ticket in tickets:
        out.write(json_line(ticket))
        n += 1
    return n


def _cell(value: Any) -> Any:
    """Defuse spreadsheet formulas: a customer's "=HYPERLINK(...)" must stay text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(tickets: Iterator[dict[str, Any]], out: Sink) -> int:
    """One row per message with its ticket's columns repeated, for spreadsheets."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    n = 0
    for t in tickets:
        n += 1
        contacts = " ".join(f"{c['kind']}:{c['value']}" for c in t["customer"]["contacts"])
        for m in t["messages"]:
            writer.writerow(
                _cell(v)
                for v in [
                    t["number"],
                    t["subject"],
                    t["status"],
                    t["priority"],
                    t["channel"],
                    t["customer"]["name"],
                    contacts,
                    t["assignee"] or "",
                    m["kind"],
                    m["channel"],
                    m["author"],
                    m["created_at"],
                    m["external_id"],
                    m["auto"] or "",
                    m["text"],
                ]
            )
    return n
