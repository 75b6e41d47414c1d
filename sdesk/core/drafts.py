"""Drafts: an agent's unsent reply per ticket, kept in the desk (ARCHITECTURE.md, "Drafts").

The console saves while the agent types (debounced), so a save is one small statement in its
own transaction: an upsert on the (agent, ticket) unique key. Whitespace-only text deletes the
draft. Sending the reply drops it in the reply's transaction (``core/replies.py``); a merge
moves it onto the target ticket, joined to a draft the agent already has there
(``acts.move_drafts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core.acts import agent_by_login, ticket_by_number
from sdesk.core.errors import DeskError
from sdesk.store.models import Agent, Draft, Ticket
from sdesk.store.queries import current_number

MAX_DRAFT_CHARS = 1_000_000  # the parser's cap on a message's text; a draft is no bigger
PREVIEW_CHARS = 80


@dataclass(frozen=True, slots=True)
class DraftRow:
    """One of an agent's drafts, for a "drafts" list: the ticket and the draft's first line."""

    number: int
    subject: str
    preview: str
    updated_at: datetime
    text: str = ""  # the whole draft, for the console to write on
    kind: str = "reply"  # or "note"


def _ticket_id(session: Session, number: int) -> int:
    """The ticket a number lives in now (a merged number writes on its target)."""
    ticket = ticket_by_number(session, current_number(session, number) or number)
    assert ticket.id is not None  # a stored row
    return ticket.id


def save(
    session: Session, agent: str, number: int, text: str, at: datetime, kind: str = "reply"
) -> None:
    if kind not in ("reply", "note"):
        raise DeskError(f"a draft is a reply or a note, not {kind!r}")
    if len(text) > MAX_DRAFT_CHARS:
        raise DeskError(f"the draft is longer than {MAX_DRAFT_CHARS:,} characters")
    agent_id = agent_by_login(session, agent).id
    ticket_id = _ticket_id(session, number)
    if not text.strip():
        session.execute(
            delete(Draft).where(col(Draft.agent_id) == agent_id, col(Draft.ticket_id) == ticket_id)
        )
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = {
        "agent_id": agent_id,
        "ticket_id": ticket_id,
        "text": text,
        "kind": kind,
        "updated_at": at,
    }
    upsert = insert(Draft).values(**values)
    excluded = upsert.excluded
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=["agent_id", "ticket_id"],
            set_={"text": excluded.text, "kind": excluded.kind, "updated_at": excluded.updated_at},
        )
    )


def load(session: Session, agent: str, number: int) -> str | None:
    found = current_number(session, number)
    if found is None:
        return None
    query = (
        select(col(Draft.text))
        .join(Ticket, col(Ticket.id) == Draft.ticket_id)
        .join(Agent, col(Agent.id) == Draft.agent_id)
        .where(col(Ticket.number) == found, col(Agent.login) == agent)
    )
    return session.execute(query).scalar_one_or_none()


def drop(session: Session, agent: str, number: int) -> None:
    agent_id = agent_by_login(session, agent).id
    ticket_id = _ticket_id(session, number)
    session.execute(
        delete(Draft).where(col(Draft.agent_id) == agent_id, col(Draft.ticket_id) == ticket_id)
    )


def of_agent(session: Session, agent: str) -> list[DraftRow]:
    query = (
        select(
            col(Ticket.number),
            col(Ticket.subject),
            col(Draft.text),
            col(Draft.updated_at),
            col(Draft.kind),
        )
        .join(Ticket, col(Ticket.id) == Draft.ticket_id)
        .join(Agent, col(Agent.id) == Draft.agent_id)
        .where(col(Agent.login) == agent)
        .order_by(col(Draft.updated_at).desc(), col(Draft.id).desc())
    )
    return [
        DraftRow(number, subject, preview(text), at, text, kind)
        for number, subject, text, at, kind in session.execute(query)
    ]


def preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1].rstrip() + "…"
