"""``intake_many``: a poller's batch in one transaction, full-text index written once per batch."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from sdesk.config import Settings
from sdesk.core import batch as batch_module
from sdesk.core.batch import CursorMove, Unparsed, intake_many
from sdesk.core.cursors import Cursor, get_cursor
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, Role
from sdesk.core.inbound import Inbound
from sdesk.core.intake import Outcome
from sdesk.store.engine import open_store
from sdesk.store.fulltext import matching_ids
from sdesk.store.models import Event, Message, RawInbound, Ticket
from tests.conftest import FakeClock
from tests.factories import email


@pytest.fixture(autouse=True, params=["triggers dropped", "triggers kept"])
def fts_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test for both ways a batch indexes: its FTS triggers out (a large batch) or left
    to fire row by row (a few messages)."""
    dropped = request.param == "triggers dropped"
    monkeypatch.setattr(batch_module, "DEFER_FTS_FROM", 1 if dropped else 10_000)
    return str(request.param)


def schema_version(desk: Desk) -> int:
    with desk.store.read() as s:
        return int(s.execute(text("PRAGMA schema_version")).scalar_one())


@pytest.fixture
def other(tmp_path: Path, clock: FakeClock) -> Iterator[Desk]:
    """A second desk, fed one message at a time, to compare with a batch."""
    d = Desk(open_store(tmp_path / "other.db"), Settings(desk_domain="desk.test"), clock=clock)
    yield d
    d.close()


def count(desk: Desk, model: type) -> int:
    with desk.store.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def fts_hits(desk: Desk, table: str, word: str) -> list[int]:
    with desk.store.read() as s:
        return matching_ids(s, table, word)


def deferred_markers(desk: Desk) -> int:
    """Rows of SQLite's unused deferral marker (migration 0004); PostgreSQL has no such table."""
    if not desk.store.is_sqlite:
        return 0
    with desk.store.read() as s:
        return int(s.execute(text("SELECT count(*) FROM sdesk_fts_deferred")).scalar_one())


def triggers(desk: Desk) -> list[tuple[str, str]]:
    """SQLite's FTS triggers; PostgreSQL indexes by expression and has none to drop."""
    if not desk.store.is_sqlite:
        return []
    with desk.store.read() as s:
        rows = s.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
        return sorted((name, sql) for name, sql in rows)


def move(position: int) -> CursorMove:
    return CursorMove(Channel.EMAIL, "support", "INBOX", Cursor("7", str(position)))


def batch(n: int, start: int = 0) -> list[Inbound]:
    return [
        email(f"m{i}@x", frm=f"c{i % 3}@x", subject=f"Topic{i}", text=f"word{i} shared")
        for i in range(start, start + n)
    ]


def test_a_batch_is_stored_indexed_and_cursored_like_one_by_one(desk: Desk, other: Desk) -> None:
    items = [*batch(5), email("m1@x", subject="Topic1", text="word1 shared")]  # a repeat
    results = intake_many(desk, items, cursor=move(42))
    singles = [other.intake(i) for i in items]
    assert [r.outcome for r in results] == [r.outcome for r in singles]
    assert results[-1].outcome is Outcome.DUPLICATE
    for d in (desk, other):
        assert (count(d, Message), count(d, Ticket)) == (5, 5)
        assert len(fts_hits(d, "message", "shared")) == 5
        assert fts_hits(d, "message", "word3") == [4]
        assert fts_hits(d, "ticket", "Topic2") == [3]
    with desk.store.read() as s:
        assert get_cursor(s, "email", "support", "INBOX") == Cursor("7", "42")
    assert deferred_markers(desk) == 0


@pytest.mark.sqlite_only
def test_rows_added_after_a_batch_are_indexed_by_the_triggers_again(desk: Desk) -> None:
    before = triggers(desk)
    assert {"message_fts_ai", "ticket_fts_ai"} <= {name for name, _ in before}
    intake_many(desk, batch(3), cursor=move(3))
    assert triggers(desk) == before  # dropped inside the batch's transaction, put back as they were
    desk.intake(email("later@x", subject="Afterwards", text="zebra"))
    desk.add_agent("ops", role=Role.ADMIN)
    desk.add_note(1001, "ops", "giraffe note")
    assert len(fts_hits(desk, "message", "zebra")) == 1
    assert len(fts_hits(desk, "message", "giraffe")) == 1
    assert len(fts_hits(desk, "ticket", "Afterwards")) == 1


def test_unparsed_bytes_are_quarantined_in_the_batch(desk: Desk) -> None:
    junk = Unparsed(Channel.EMAIL, b"\x01\x02junk", "no headers", "imap:support/INBOX/7/9")
    results = intake_many(desk, [junk, *batch(1), junk], cursor=move(9))
    assert [r.outcome for r in results] == [
        Outcome.QUARANTINED,
        Outcome.CREATED,
        Outcome.DUPLICATE,  # the same bytes are kept once
    ]
    assert count(desk, RawInbound) == 1  # factories' mail has no raw bytes


def test_a_failure_rolls_back_the_whole_batch_and_its_cursor(desk: Desk) -> None:
    intake_many(desk, batch(2), cursor=move(2))
    before = (count(desk, Message), count(desk, Event), count(desk, Ticket))
    schema = triggers(desk)
    broken = dataclasses.replace(batch(1, 10)[0], priority="urgent")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        intake_many(desk, [*batch(3, 20), broken], cursor=move(99))
    assert (count(desk, Message), count(desk, Event), count(desk, Ticket)) == before
    assert fts_hits(desk, "message", "word20") == []
    with desk.store.read() as s:
        assert get_cursor(s, "email", "support", "INBOX") == Cursor("7", "2")
    assert deferred_markers(desk) == 0
    assert triggers(desk) == schema  # the rollback took the dropping back too
    desk.intake(email("after@x", text="okapi"))  # the triggers index again
    assert len(fts_hits(desk, "message", "okapi")) == 1


def test_a_reply_later_in_the_same_batch_threads_onto_its_ticket(desk: Desk) -> None:
    first = email("root@x", subject="Broken", text="first")
    reply = email("re@x", subject="Re: Broken", text="second", in_reply_to=("root@x",))
    results = intake_many(desk, [first, reply])
    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.APPENDED]
    assert results[0].ticket_number == results[1].ticket_number


def test_events_attachments_and_numbers_of_a_batch_match_one_by_one(
    desk: Desk, other: Desk
) -> None:
    from sdesk.core.inbound import InboundAttachment
    from sdesk.store import rawsql

    files = [InboundAttachment(f"f{i}.txt", "text/plain", f"file {i}".encode()) for i in range(3)]
    items: list[Inbound | Unparsed] = []
    for i in range(rawsql.DEFERRED_ROWS + 40):  # more rows than one multi-row INSERT takes
        item = email(f"e{i}@x", frm=f"c{i % 7}@x", subject=f"Case {i}")
        if i % 3 == 0:
            item = email(f"e{i}@x", frm=f"c{i % 7}@x", subject="Re: Case", in_reply_to=("e0@x",))
        items.append(dataclasses.replace(item, attachments=tuple(files[: i % 4])))
    items.insert(5, Unparsed(Channel.EMAIL, b"\x00\x01 junk", "no headers"))
    intake_many(desk, items, cursor=move(1))
    for item in items:
        if isinstance(item, Unparsed):
            other.quarantine(channel=item.channel, raw=item.raw, error=item.error)
        else:
            other.intake(item)

    def rows(d: Desk, sql: str) -> list[tuple[object, ...]]:
        with d.store.read() as s:
            return [tuple(r) for r in s.execute(text(sql))]

    for sql in (
        "SELECT id, ticket_id, kind, actor, data FROM event ORDER BY id",
        "SELECT id, message_id, filename, content_type, size, sha256, inline, stored "
        "FROM attachment ORDER BY id",
        "SELECT id, number, subject, customer_id FROM ticket ORDER BY id",
    ):
        got = rows(desk, sql)
        assert got and got == rows(other, sql)


def test_a_batch_finds_customers_and_repeats_like_one_by_one(desk: Desk, other: Desk) -> None:
    before = [
        email("old@x", frm="known@x", name="", subject="Before"),  # known by address only
        email("seen@x", frm="b@x", raw=b"the bytes"),
    ]
    items = [
        email("n1@x", frm="KNOWN@x", name="Kim Known", subject="Now signed"),
        email("seen@x", frm="b@x", raw=b"the bytes"),  # stored before the batch: a repeat
        email("n2@x", frm="new@x", name="Nia New"),
        email("n3@x", frm="new@x", name="Nia N."),  # a customer the batch itself added
        email("n2@x", frm="new@x", name="Nia New"),  # repeated within the batch
        email("n4@x", frm="c@x", raw=b"first bytes"),
        email("n4@x", frm="c@x", raw=b"other bytes"),  # a reused id: kept under its hash
        email(None, frm="d@x", raw=b"no id at all"),
        email(None, frm="d@x", raw=b"no id at all"),
    ]
    for d in (desk, other):
        intake_many(d, before)
    results = intake_many(desk, items, cursor=move(1))
    singles = [other.intake(i) for i in items]
    assert [r.outcome for r in results] == [r.outcome for r in singles]
    assert [r.outcome for r in results].count(Outcome.DUPLICATE) == 3

    def rows(d: Desk, sql: str) -> list[tuple[object, ...]]:
        with d.store.read() as s:
            return [tuple(r) for r in s.execute(text(sql))]

    for sql in (
        "SELECT id, name FROM customer ORDER BY id",
        "SELECT customer_id, kind, value, display FROM contact ORDER BY id",
        "SELECT id, ticket_id, external_id, author_customer_id FROM message ORDER BY id",
    ):
        assert rows(desk, sql) == rows(other, sql)
    assert rows(desk, "SELECT name FROM customer WHERE id = 1") == [("Kim Known",)]


@pytest.mark.sqlite_only
def test_only_a_large_batch_changes_the_schema(desk: Desk, fts_path: str) -> None:
    """Dropping the triggers makes every other connection re-read the schema: not for a few
    messages (IDLE news)."""
    before = schema_version(desk)
    intake_many(desk, batch(3), cursor=move(3))
    changed = schema_version(desk) != before
    assert changed is (fts_path == "triggers dropped")
    assert len(fts_hits(desk, "message", "shared")) == 3
