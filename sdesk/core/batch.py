"""``intake_many``: a channel poller's batch and its cursor in one transaction, written the
cheap way a batch can be (no savepoint per message, the full-text index once, rows nothing reads
back in multi-row INSERTs, ticket numbers counted once). One message is ``intake``'s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sdesk.core.cursors import Cursor, set_cursor
from sdesk.core.enums import Channel
from sdesk.core.inbound import Inbound
from sdesk.core.intake import IntakeResult, TicketNumbers, intake, quarantine
from sdesk.store.engine import BULK_CACHE_KIB
from sdesk.store.rawsql import RawSql

if TYPE_CHECKING:
    from sdesk.core.desk import Desk


@dataclass(frozen=True, slots=True)
class Unparsed:
    """Bytes a channel could not turn into an ``Inbound``: quarantined with the error."""

    channel: Channel
    raw: bytes
    error: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class CursorMove:
    """Where a channel's cursor goes once a batch is stored (in the batch's transaction)."""

    channel: Channel
    account: str
    folder: str
    cursor: Cursor


def intake_many(
    desk: Desk,
    items: Sequence[Inbound | Unparsed],
    *,
    cursor: CursorMove | None = None,
    bulk: bool = False,
) -> list[IntakeResult]:
    """Store a poller's batch and move its cursor in ONE transaction (ARCHITECTURE.md transactions).

    Unlike ``Desk.batch``, no savepoint is taken per message: a channel poller has no use for
    one (any failure must roll the whole batch back, cursor included, so it is fetched again),
    and each savepoint makes SQLite's FTS5 flush its pending terms as a new index segment. For
    the same reason a batch of ``DEFER_FTS_FROM`` or more writes the full-text index once, its
    per-row insert triggers dropped meanwhile (``_defer_fts``). An exception leaves nothing
    written.
    ``bulk``: one of many batches in a row (``Store.write``: checkpointed less often).

    The rows nothing in the batch reads back (events, attachment records) are written together
    at the end, a few hundred per statement; ticket numbers are counted here after one read.
    """
    results: list[IntakeResult] = []
    numbers = TicketNumbers()
    with desk.store.write(bulk=bulk) as session:
        sql = RawSql(session)
        if sql.sqlite:
            sql.run(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")  # keep the growing indexes in memory
        deferred = _defer_fts(sql) if sql.sqlite and len(items) >= DEFER_FTS_FROM else None
        sql.defer_inserts("event", "attachment")
        for item in items:
            if isinstance(item, Unparsed):
                result = quarantine(
                    sql,
                    desk,
                    channel=item.channel,
                    raw=item.raw,
                    error=item.error,
                    source=item.source,
                )
            else:
                result = intake(sql, desk, item, numbers=numbers)
            results.append(result)
        sql.flush_deferred()
        if deferred is not None:
            _index_deferred(sql, deferred)
        if cursor is not None:
            set_cursor(
                session,
                cursor.channel.value,
                cursor.account,
                cursor.folder,
                cursor.cursor,
                desk.clock(),
            )
    return results


_FTS_INDEXED = (("message", "text"), ("ticket", "subject"))
# Items from which a batch takes its FTS triggers out (``_defer_fts``). Dropping them changes the
# schema, which makes every other connection (a console's) re-read it; a few messages (IDLE
# news) are cheaper indexed by the triggers as they go, in the batch's one transaction.
DEFER_FTS_FROM = 50


def _defer_fts(sql: RawSql) -> tuple[list[int], list[str]]:
    """Drop the FTS insert triggers for this transaction; the ids stored so far and the
    triggers' SQL, to put them back.

    A table with a trigger makes every INSERT into it a multi-write statement, which SQLite
    runs with a statement journal: each INSERT copied the ~6 pages it touched to a temp file
    (218 MB in 106,000 writes for a 5,000-message sync, most of the store's system time).
    DDL is transactional in SQLite and this transaction holds the write lock, so no other
    connection ever sees the table without its triggers or a message without its index entry.
    (The marker table of migration 0004, which the triggers still test, is no longer set.)
    """
    names = [f"{table}_fts_ai" for table, _ in _FTS_INDEXED]
    marks = "?" + ", ?" * (len(names) - 1)
    triggers = [
        row[0]
        for row in sql.all(
            f"SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks}) "
            "ORDER BY name",
            *names,
        )
    ]
    for name in names:
        sql.run(f"DROP TRIGGER IF EXISTS {name}")
    ids = [sql.scalar(f"SELECT coalesce(max(id), 0) FROM {table}") for table, _ in _FTS_INDEXED]
    return ids, triggers


def _index_deferred(sql: RawSql, deferred: tuple[list[int], list[str]]) -> None:
    """Index every row added since ``_defer_fts`` (new rows always get higher ids: this
    transaction holds the write lock) and put the triggers back, as they were."""
    ids, triggers = deferred
    for (table, column), mark in zip(_FTS_INDEXED, ids, strict=True):
        sql.run(
            f"INSERT INTO {table}_fts(rowid, {column}) SELECT id, {column} FROM {table} "
            "WHERE id > ?",
            mark,
        )
    for trigger in triggers:
        sql.run(trigger)


def _catch_up_fts(sql: RawSql, deferred: tuple[list[int], list[str]]) -> None:
    """Index the rows added so far and move the marks past them, the triggers still aside.

    Before an UPDATE of an indexed column (a chat's edit of a message stored earlier in the
    same batch): the FTS update trigger deletes the OLD text from the index, and deleting text
    the index never had corrupts it ("database disk image is malformed")."""
    ids, _ = deferred
    for n, (table, column) in enumerate(_FTS_INDEXED):
        top = int(sql.scalar(f"SELECT coalesce(max(id), 0) FROM {table}"))
        if top > ids[n]:
            sql.run(
                f"INSERT INTO {table}_fts(rowid, {column}) SELECT id, {column} FROM {table} "
                "WHERE id > ?",
                ids[n],
            )
            ids[n] = top
