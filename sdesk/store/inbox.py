"""The inbox read model: filtered pages by key, counts per filter, full-text search.

The inbox order is "most urgent first": active tickets (new, open, pending) by their next SLA
deadline (a pending ticket has none: its clock is stopped), then finished ones, most recent
first. The default view is the active tickets only, as a help desk's "unsolved" view: a status
filter shows that status, ``everything`` every ticket. Each count of ``inbox_counts`` is the
number of rows its filter lists (ARCHITECTURE.md, "The inbox and search"). Pages are read by key
(the last row's sort values), never by offset, so page 500 costs what page 1 costs and a row
added meanwhile neither repeats nor skips a row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, case, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.store.contacts import customers_matching
from sdesk.store.fulltext import snippet, snippet_sources, ticket_hits
from sdesk.store.models import Agent, Ticket
from sdesk.store.queries import ACTIVE, RUNNING, TicketRow, rows_query, sla_due, to_row
from sdesk.store.types import UTCDateTime

# Active tickets without a deadline (imported ones, say) sort after every real deadline.
NO_DEADLINE = datetime(9999, 1, 1, tzinfo=UTC)
PAGE = 100  # rows the console reads at a time
SEARCH_LIMIT = 200
_SEARCH_HITS = 5000  # most recent matching messages considered; a bound for common words
# Snippets come from the newest this many matching messages (measured on the bench desk: 97 %
# of result rows find theirs there, at a third of the cost of 5,000); an older match shows the
# ticket's subject.
_SNIPPET_HITS = 1000


@dataclass(frozen=True, slots=True)
class InboxFilter:
    """What the inbox shows. Empty means the active tickets (new, open, pending); a status
    shows only that status; ``everything`` (without a status) every ticket, active ones first."""

    assignee: str | None = None  # a login: "mine"
    unassigned: bool = False
    channel: str | None = None
    status: str | None = None
    priority: str | None = None
    everything: bool = False

    def describe(self) -> str:
        parts = []
        if self.assignee:
            parts.append(f"assigned to {self.assignee}")
        if self.unassigned:
            parts.append("unassigned")
        parts += [v for v in (self.channel, self.status, self.priority) if v]
        if not self.status:
            parts.append("all tickets" if self.everything else "active tickets")
        return ", ".join(parts)

    def toggled(self, field: str, value: str | bool = True) -> InboxFilter:
        """Switch one filter on (to ``value``), or off when it already has that value.

        "Mine" and "unassigned" exclude each other; everything else combines.
        """
        if field == "unassigned":
            return replace(self, unassigned=not self.unassigned, assignee=None)
        if field == "everything":
            return replace(self, everything=not self.everything)
        if field == "assignee":
            mine = None if self.assignee == value else str(value)
            return replace(self, assignee=mine, unassigned=False)
        change: dict[str, Any] = {field: None if getattr(self, field) == value else value}
        return replace(self, **change)


@dataclass(frozen=True, slots=True)
class PageKey:
    """Where a page ends: segment 0 holds active tickets, 1 finished ones."""

    segment: int
    value: datetime
    id: int


@dataclass(frozen=True, slots=True)
class Page:
    rows: tuple[TicketRow, ...]
    more_after: bool
    more_before: bool


@dataclass(frozen=True, slots=True)
class InboxCounts:
    """What each one-filter view lists, for the filter bar: active tickets for Active, Mine,
    Unassigned, a channel and a priority (their views list active tickets only); every ticket
    of a status for that status; every ticket for ``everything``."""

    active: int
    mine: int
    unassigned: int
    channel: dict[str, int]
    priority: dict[str, int]
    status: dict[str, int]
    everything: int = 0


def _deadline() -> Any:
    return func.coalesce(sla_due(), literal(NO_DEADLINE, UTCDateTime()))


def key_of(row: TicketRow) -> PageKey:
    if row.status in ACTIVE:
        return PageKey(0, row.sla_due or NO_DEADLINE, row.id)
    return PageKey(1, row.last_message_at, row.id)


def _conditions(session: Session, flt: InboxFilter) -> list[Any] | None:
    """The filter as WHERE terms on ``ticket``; None when it can match nothing."""
    terms: list[Any] = []
    if flt.assignee:
        query = select(col(Agent.id)).where(col(Agent.login) == flt.assignee)
        agent_id = session.execute(query).scalar()
        if agent_id is None:
            return None
        terms.append(Ticket.assignee_id == agent_id)
    if flt.unassigned:
        terms.append(col(Ticket.assignee_id).is_(None))
    for field_, value in (
        (Ticket.channel, flt.channel),
        (Ticket.status, flt.status),
        (Ticket.priority, flt.priority),
    ):
        if value:
            terms.append(field_ == value)
    return terms


def _filtered(session: Session, flt: InboxFilter) -> Select[Any] | None:
    terms = _conditions(session, flt)
    return None if terms is None else rows_query().where(*terms)


def _segment(
    session: Session,
    base: Select[Any],
    segment: int,
    bound: PageKey | None,
    backwards: bool,
    limit: int,
) -> list[TicketRow]:
    if segment == 0:
        sort, query = _deadline(), base.where(col(Ticket.status).in_(ACTIVE))
        ascending = not backwards  # active tickets: nearest deadline first
    else:
        sort, query = col(Ticket.last_message_at), base.where(col(Ticket.status).notin_(ACTIVE))
        ascending = backwards  # finished tickets: most recent first
    if bound is not None and bound.segment == segment:
        pair, at = tuple_(sort, Ticket.id), tuple_(literal(bound.value, UTCDateTime()), bound.id)
        query = query.where(pair > at if ascending else pair < at)
    key = col(Ticket.id)
    order = (sort.asc(), key.asc()) if ascending else (sort.desc(), key.desc())
    return [to_row(r) for r in session.execute(query.order_by(*order).limit(limit))]


def inbox_page(
    session: Session,
    flt: InboxFilter = InboxFilter(),
    *,
    after: PageKey | None = None,
    before: PageKey | None = None,
    limit: int = 100,
) -> Page:
    """Up to ``limit`` rows after ``after`` (or before ``before``), in inbox order."""
    base = _filtered(session, flt)
    if base is None:
        return Page((), False, False)
    segments = [0, 1] if flt.everything else [0]
    if flt.status:
        segments = [0] if flt.status in ACTIVE else [1]
    # One extra row tells whether another page exists without counting the table.
    if before is not None:
        rows = _collect(session, base, segments[::-1], before, True, limit + 1)
        return Page(tuple(rows[:limit][::-1]), more_after=True, more_before=len(rows) > limit)
    rows = _collect(session, base, segments, after, False, limit + 1)
    return Page(tuple(rows[:limit]), more_after=len(rows) > limit, more_before=after is not None)


def _collect(
    session: Session,
    base: Select[Any],
    segments: list[int],
    bound: PageKey | None,
    backwards: bool,
    limit: int,
) -> list[TicketRow]:
    rows: list[TicketRow] = []
    for segment in segments:
        behind = bound is not None and (
            segment < bound.segment if not backwards else segment > bound.segment
        )
        if behind:
            continue
        rows += _segment(session, base, segment, bound, backwards, limit - len(rows))
        if len(rows) >= limit:
            break
    return rows


def inbox_counts(session: Session, me: str | None) -> InboxCounts:
    me_id = -1
    if me:
        own = select(col(Agent.id)).where(col(Agent.login) == me)
        me_id = session.execute(own).scalar() or -1
    keys = (
        col(Ticket.status),
        col(Ticket.channel),
        col(Ticket.priority),
        col(Ticket.assignee_id).is_(None).label("free"),
        func.coalesce(col(Ticket.assignee_id) == me_id, False).label("mine"),
    )
    query = select(*keys, func.count()).where(col(Ticket.merged_into_id).is_(None)).group_by(*keys)
    channel: Counter[str] = Counter()
    priority: Counter[str] = Counter()
    status: Counter[str] = Counter()
    active = mine = unassigned = 0
    for st, ch, pr, is_unassigned, is_mine, n in session.execute(query):
        status[st] += n
        if st not in ACTIVE:
            continue
        active += n
        channel[ch] += n
        priority[pr] += n
        unassigned += n if is_unassigned else 0
        mine += n if is_mine else 0
    return InboxCounts(
        active,
        mine,
        unassigned,
        dict(channel),
        dict(priority),
        dict(status),
        sum(status.values()),
    )


def search(
    session: Session,
    words: str,
    flt: InboxFilter = InboxFilter(),
    *,
    limit: int = SEARCH_LIMIT,
    region: str = "US",
) -> Page:
    """Tickets whose subject or any message matches every word, or whose customer the query
    names (a contact, a word of the name), ranked as ``store/fulltext.py`` says; each row with its
    ``snippet``. Every status is searched unless the filter names one.

    Only the most recent matching messages are considered, so a word found in half the desk
    costs a bounded amount; ``more_after`` says the list was cut. ``region``: for phone
    numbers typed without a country code (``Settings.default_region``).
    """
    ids = ticket_hits(session, words, _SEARCH_HITS)
    customers = customers_matching(session, words, region)
    terms = _conditions(session, flt)
    if (ids is None and not customers) or terms is None:
        return Page((), False, False)
    hit: list[Any] = []
    if ids is not None:
        hit.append(col(Ticket.id).in_(ids))
    if customers:
        hit.append(col(Ticket.customer_id).in_(customers.ids))
    # Customers named by a contact first (rank 0), then the rest; each newest first.
    exact = list(customers.by_contact)
    rank = case((col(Ticket.customer_id).in_(exact), 0), else_=1).label("rank")
    # The newest ``limit`` tickets are chosen on the ticket table alone; only they are then
    # joined with customer and assignee (a common word matches thousands of tickets).
    newest = col(Ticket.last_message_at).desc(), col(Ticket.id).desc()
    top = (
        select(col(Ticket.id), rank)
        .where(col(Ticket.merged_into_id).is_(None), or_(*hit), *terms)
        .order_by(*(rank, *newest) if exact else newest)
        .limit(limit + 1)
        .subquery()
    )
    query = (
        rows_query()
        .add_columns(col(Ticket.customer_id))
        .join(top, top.c.id == Ticket.id)
        .order_by(*(top.c.rank, *newest) if exact else newest)
    )
    found = list(session.execute(query))[: limit + 1]
    rows = [to_row(tuple(r)[:-1]) for r in found]
    owners = {r.id: tuple(f)[-1] for r, f in zip(rows, found, strict=True)}
    texts = snippet_sources(session, words, [r.id for r in rows[:limit]], _SNIPPET_HITS)
    shown = []
    for row in rows[:limit]:
        owner, source = owners[row.id], texts.get(row.id)
        label = (
            customers.by_contact.get(owner)
            or (snippet(source, words) if source else None)
            or customers.by_name.get(owner)
            or " ".join(row.subject.split())
        )
        shown.append(replace(row, snippet=label))
    return Page(tuple(shown), more_after=len(rows) > limit, more_before=False)


def unassigned_queue() -> Select[int | None, int]:
    """Ids and numbers of the tickets waiting for someone to take them, in the order the
    inbox's Unassigned view lists them (nearest SLA deadline first, then the oldest), without
    pending ones: those wait for the customer, not for an agent (``Desk.take_next``)."""
    return (
        select(col(Ticket.id), col(Ticket.number))
        .where(
            col(Ticket.assignee_id).is_(None),
            col(Ticket.merged_into_id).is_(None),
            col(Ticket.status).in_(RUNNING),
        )
        .order_by(_deadline().asc(), col(Ticket.id).asc())
    )
