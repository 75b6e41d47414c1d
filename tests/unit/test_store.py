"""The store on real SQLite files: schema from the migration, pragmas, upgrades, blobs, FTS."""

from __future__ import annotations

import random
import sqlite3
import string
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlmodel import SQLModel

from sdesk.core.desk import Desk
from sdesk.store.blobs import BlobStore
from sdesk.store.engine import StoreError, database_url, open_store
from sdesk.store.failures import BadDatabaseUrl, DeskBusy, DiskFull
from sdesk.store.fulltext import fts_query, match_sql, matching_ids, ts_query
from sdesk.store.inbox import search
from sdesk.store.models import Message
from tests.factories import email

HEAD = "0016"


def test_migration_matches_the_models(tmp_path: Path) -> None:
    store = open_store(tmp_path / "d.db")
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": not_fts})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def not_fts(name: str | None, type_: str, _parent: object) -> bool:
    # FTS5 shadow tables are made by raw SQL in the migration, not by the models.
    return not (type_ == "table" and name is not None and "_fts" in name)


def test_sqlite_pragmas(tmp_path: Path) -> None:
    store = open_store(tmp_path / "d.db")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60000  # the default
    configured = open_store(tmp_path / "d.db", busy_timeout=2.5)
    with configured.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500


def test_a_write_that_found_the_desk_busy_fails_clearly_and_the_store_stays_usable(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path / "d.db", busy_timeout=0.5)
    raw = sqlite3.connect(tmp_path / "d.db", isolation_level=None)
    raw.execute("BEGIN IMMEDIATE")
    busy = pytest.raises(DeskBusy, match="this process .* held its write lock")
    with busy, store.write() as session:
        session.execute(text("INSERT INTO lease VALUES ('x', 'me', '2026-01-01')"))
    raw.execute("COMMIT")
    raw.close()
    for _ in range(3):  # every pooled connection is clean: no transaction left open
        with store.write() as session:
            session.execute(text("DELETE FROM lease"))
            session.execute(text("INSERT INTO lease VALUES ('x', 'me', '2026-01-01')"))
    with store.read() as session:
        assert session.execute(text("SELECT count(*) FROM lease")).scalar() == 1
    store.dispose()


def test_write_transactions_take_the_lock_up_front(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: a second writer waits on busy_timeout instead of failing at once."""
    store = open_store(tmp_path / "d.db")
    other = open_store(tmp_path / "d.db")
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with store.write() as session:
            session.execute(text("SELECT 1"))
            entered.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    assert entered.wait(5)
    raw = sqlite3.connect(tmp_path / "d.db", timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        raw.execute("BEGIN IMMEDIATE")
    raw.close()
    release.set()
    holder.join()
    with other.write() as session:
        session.execute(text("SELECT 1"))


def test_unknown_newer_schema_is_refused_and_data_kept(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    Desk(open_store(db)).intake(email("keep@x"))
    with sqlite3.connect(db) as conn:  # pretend the desk was made by an older release
        conn.execute("UPDATE alembic_version SET version_num = '0000_older'")
    with pytest.raises(StoreError, match="newer than this sdesk"):
        open_store(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (HEAD,))
    store = open_store(db)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM message").scalar() == 1


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE accounts (id INTEGER)")
    with pytest.raises(StoreError, match="not an sdesk desk"):
        open_store(db)


def test_not_a_database_is_one_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open desk"):
        open_store(junk)


@pytest.mark.parametrize("bad", ["nosuchdriver://x/y", "/no/such/folder/d.db"])
def test_bad_urls_and_paths(bad: str) -> None:
    with pytest.raises(StoreError):
        open_store(bad)


@pytest.mark.parametrize(
    "bad", ["postgresql+psycopg://[::1", "postgresql://u@h:port/db", "nosuchdriver://x/y"]
)
def test_malformed_urls_are_bad_database_urls(bad: str) -> None:
    with pytest.raises(BadDatabaseUrl, match="give a SQLite path or a URL like"):
        open_store(bad)


def test_database_url_accepts_paths_and_urls(tmp_path: Path) -> None:
    assert database_url(tmp_path / "d.db") == f"sqlite:///{tmp_path / 'd.db'}"
    assert database_url("postgresql://u@localhost/desk") == "postgresql://u@localhost/desk"


def test_blobs_are_content_addressed(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    digest = blobs.put(b"hello")
    assert blobs.put(b"hello") == digest
    assert blobs.path(digest).relative_to(tmp_path / "blobs").parts == (digest[:2], digest[2:])
    assert blobs.get(digest) == b"hello"
    with pytest.raises(ValueError):
        blobs.path("../../etc/passwd")


def test_blobs_written_later_land_whole_private_and_once(tmp_path: Path) -> None:
    import hashlib
    import os
    import shutil

    blobs = BlobStore(tmp_path / "blobs")
    payloads = [os.urandom(n) for n in (0, 1, 70_000, 3_000_000)] + [b"same", b"same"]
    digests = [blobs.put_later(p) for p in payloads]
    blobs.flush()
    for data, digest in zip(payloads, digests, strict=True):
        assert digest == hashlib.sha256(data).hexdigest()
        assert blobs.get(digest) == data
        assert blobs.path(digest).stat().st_mode & 0o777 == 0o600  # customer files
    files = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert len(files) == len(set(digests))  # no temp file left, "same" stored once
    shutil.rmtree(tmp_path / "blobs")  # a folder the store knew about is gone: made again
    digest = blobs.put_later(b"same")
    blobs.flush()
    assert blobs.get(digest) == b"same"
    blobs.close()


def test_full_text_search_over_subjects_and_messages(desk: Desk) -> None:
    desk.intake(email("a@x", subject="Router keeps rebooting", text="since Tuesday"))
    desk.intake(email("b@x", subject="Invoice question", text="the router invoice is wrong"))
    desk.intake(email("c@x", subject="Hello", text="Привет, не работает интернет"))
    with desk.store.read() as s:
        assert {r.number for r in search(s, "router").rows} == {1001, 1002}
        assert {r.number for r in search(s, "rebo").rows} == {1001}
        assert {r.number for r in search(s, "интернет").rows} == {1003}
        assert search(s, '" OR * NEAR(').rows == ()


def test_fts_query_quotes_user_input() -> None:
    assert fts_query('a" OR b') == '"a" "OR" "b"*'
    assert fts_query("   ") is None


def test_ts_query_ands_words_and_leaves_no_operator() -> None:
    assert ts_query("a & !b | c:*") == "a & b & c:*"
    assert ts_query("'x' <-> (y)") == "x & y:*"
    assert ts_query(" & ") is None


def test_migration_downgrades_and_upgrades_cleanly(tmp_path: Path) -> None:
    from alembic import command

    from sdesk.store.engine import _alembic_config

    store = open_store(tmp_path / "d.db")
    with store.engine.connect() as conn:
        cfg = _alembic_config(conn)
        command.downgrade(cfg, "base")
        conn.commit()
        assert (
            conn.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE type='table' "
                "AND name != 'alembic_version'"
            ).scalar()
            == 0
        )
        command.upgrade(cfg, "head")
        conn.commit()
    Desk(store).intake(email("after@x"))


def test_older_desk_is_backed_up_then_upgraded_with_its_data(tmp_path: Path) -> None:
    from alembic import command

    from sdesk.store.engine import _alembic_config

    db = tmp_path / "d.db"
    store = open_store(db)
    Desk(store).intake(email("kept@x", subject="from the old release"))
    with store.engine.connect() as conn:
        command.downgrade(_alembic_config(conn), "0001")
        conn.commit()
    store.dispose()

    upgraded = open_store(db)
    backups = list(tmp_path.glob("d.db.before-0001-*"))
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as old:
        assert old.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
        assert old.execute("SELECT count(*) FROM message").fetchone() == (1,)
    with upgraded.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD
        assert conn.exec_driver_sql("SELECT subject, rating FROM ticket").one() == (
            "from the old release",
            None,
        )
        hit = "SELECT count(*) FROM ticket_fts WHERE ticket_fts MATCH 'release'"
        assert conn.exec_driver_sql(hit).scalar() == 1


def test_engine_head_is_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from sdesk.store import engine

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(engine.__file__).parent / "migrations"))
    assert ScriptDirectory.from_config(cfg).get_current_head() == engine.HEAD == HEAD


def test_a_bulk_write_checkpoints_less_and_its_connection_goes_back_to_the_default(
    tmp_path: Path,
) -> None:
    from sdesk.store.engine import BULK_WAL_PAGES, WAL_AUTOCHECKPOINT

    store = open_store(tmp_path / "d.db")
    try:

        def setting(session: object) -> int:
            return session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()  # type: ignore[attr-defined]

        with store.write(bulk=True) as session:
            assert setting(session) == BULK_WAL_PAGES
            raw = session.connection().connection.driver_connection
        with store.write() as session:
            assert session.connection().connection.driver_connection is raw  # the same one
            assert setting(session) == WAL_AUTOCHECKPOINT
        with pytest.raises(RuntimeError), store.write(bulk=True):
            raise RuntimeError("a failed batch")
        with store.read() as session:
            assert setting(session) == WAL_AUTOCHECKPOINT
    finally:
        store.dispose()


def test_a_full_database_is_disk_full_and_keeps_what_was_committed(tmp_path: Path) -> None:
    """SQLITE_FULL for real: the connection may not grow the file past max_page_count."""
    db = tmp_path / "d.db"
    store = open_store(db)
    with store.write() as session:
        session.execute(text("INSERT INTO lease VALUES ('kept', 'me', '2026-01-01')"))
    full = pytest.raises(DiskFull, match=rf"^disk full: {db} \(.* MiB free now\); free space and")
    with full, store.write() as session:
        pages = session.execute(text("PRAGMA page_count")).scalar()
        session.execute(text(f"PRAGMA max_page_count = {pages + 2}"))
        for n in range(200):
            session.execute(
                text("INSERT INTO lease VALUES (:n, :h, '2026-01-01')"),
                {"n": f"l{n}", "h": "x" * 4000},
            )
    store.dispose()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM lease").fetchall() == [("kept",)]


def test_a_blob_that_does_not_fit_is_disk_full_and_nothing_points_at_it(tmp_path: Path) -> None:
    """ENOSPC from a real 1 MiB filesystem while a transaction's attachment is written."""
    from tests.small_disk import small_disk

    with small_disk(tmp_path / "small", 1024) as disk:
        store = open_store(tmp_path / "d.db", attachments=disk / "blobs")
        where = rf"{disk}/blobs/[0-9a-f]{{2}}"  # the attachment's folder
        full = pytest.raises(DiskFull, match=rf"^disk full: {where} \([0-9.]+ MiB free now\); free")
        with full, store.write() as session:
            session.execute(text("INSERT INTO lease VALUES ('x', 'me', '2026-01-01')"))
            store.blobs.put_later(b"\1" * (2 * 1024 * 1024))
        with store.read() as session:
            assert session.execute(text("SELECT count(*) FROM lease")).scalar() == 0
        assert [p.name for p in (disk / "blobs").rglob("*") if p.is_file()] == []
        store.dispose()


def test_a_message_of_a_million_characters_is_stored_and_found(desk: Desk) -> None:
    """PostgreSQL refused such a message outright (a tsvector holds at most 1 MiB): the index
    covers the first 100,000 characters there (migration 0006), SQLite's FTS5 all of it."""
    rng = random.Random(7)
    words = ["".join(rng.choices(string.ascii_lowercase, k=9)) for _ in range(100_000)]
    words[10] = "quokkafirst"
    huge = " ".join(words)
    desk.intake(email("huge@x", subject="Huge", text=huge))
    with desk.store.read() as s:
        assert matching_ids(s, "message", "quokkafirst") == [1]
        assert s.execute(select(Message.text)).scalar_one() == huge
        if not desk.store.is_sqlite:  # the query says what the index says, so it is used
            s.execute(text("SET enable_seqscan = off"))  # one row: a scan would win otherwise
            sql, _ = match_sql("postgresql", "message")
            plan = s.execute(text(f"EXPLAIN {sql}"), {"q": "quokkafirst"}).scalars()
            assert any("ix_message_text_fts" in line for line in plan)
