"""Opening a desk: the database URL, SQLite pragmas, write transactions, schema upgrades."""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlmodel import Session, create_engine

from sdesk.store.blobs import BlobStore
from sdesk.store.failures import (
    BadDatabaseUrl,
    StoreError,
    desk_busy,
    disk_full,
    is_busy,
    is_disk_full,
    lock_holder,
    translate,
)
from sdesk.store.private import private_file, warn_if_shared

MIGRATIONS = Path(__file__).with_name("migrations")
_WRITE = "sdesk_write"
log = logging.getLogger("sdesk.store")
URL_EXAMPLE = "give a SQLite path or a URL like postgresql+psycopg://user@host/db"


def _shown(db: str) -> str:
    """The URL as an error message may show it: a password in it is masked."""
    return re.sub(r"(://[^:/@\[\]]*:)[^@/]*@", r"\1***@", db)


def database_url(db: str | Path) -> str:
    """A path or any SQLAlchemy URL; a bare path means a SQLite file."""
    db = str(db)
    if "://" in db:
        try:
            make_url(db)
        except ArgumentError as exc:
            raise BadDatabaseUrl(f"bad database URL {_shown(db)!r}: {exc}; {URL_EXAMPLE}") from None
        except ValueError as exc:  # e.g. a port that is not a number
            why = "an IPv6 host's [ is not closed" if db.count("[") != db.count("]") else ""
            why = why or f"its host or port is malformed ({exc})"
            raise BadDatabaseUrl(f"bad database URL {_shown(db)!r}: {why}; {URL_EXAMPLE}") from None
        return db
    path = Path(db).expanduser()
    if path.is_dir():
        raise StoreError(f"{path} is a directory; give a database file path")
    if not path.parent.exists():
        raise StoreError(f"folder {path.parent} does not exist")
    return f"sqlite:///{path.resolve()}"


READ_CACHE_KIB = 8 * 1024
# A batch writer's cache: the growing indexes and FTS tree stay in memory (32 MiB measured 12%
# faster on a 25,000-message ingest than 2 MiB).
BULK_CACHE_KIB = 32 * 1024
# SQLite's default: a commit that leaves the WAL this many pages long checkpoints it.
WAL_AUTOCHECKPOINT = 1000
# A bulk writer's (a poller's large sync): pages it may leave in the WAL before its commit
# checkpoints. Each checkpoint copies every page changed since the last one and syncs twice; the
# indexes change on every batch, so checkpointing every 4 MiB copied them over and over (~0.3 s
# of a 5,000-message sync). The next ordinary commit (the poller's own, right after the sync)
# checkpoints what is left, as the bulk connection goes back to the default on check-in.
BULK_WAL_PAGES = 16384
_BULK = "sdesk_bulk_wal"
HEAD = "0016"  # the newest migration; a desk already there opens without loading Alembic


DEFAULT_BUSY_TIMEOUT = 60.0  # seconds a write waits for the desk's write lock (configurable)
NOTE_AFTER = 3.0  # a write that waited this long says so once, then waits the rest


class _SqliteHooks:
    """The pool's hooks for one SQLite desk: pragmas on connect, BEGIN, check-in."""

    def __init__(self, database: str | None, busy_timeout: float) -> None:
        self.database = database
        self.busy_timeout = busy_timeout

    def connect(self, dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook issue BEGIN itself so writes can say IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={_ms(self.busy_timeout)}")
        # 8 MiB of page cache per connection (default 2 MiB). A console holds several pooled
        # connections, so this stays modest; bulk writers raise it on theirs (``BULK_CACHE``).
        cur.execute(f"PRAGMA cache_size=-{READ_CACHE_KIB}")
        cur.close()

    @staticmethod
    def checkin(dbapi_conn: sqlite3.Connection | None, record: Any) -> None:
        # A connection a bulk writer used goes back to the default checkpointing for the next.
        if record is not None and record.info.pop(_BULK, False) and dbapi_conn is not None:
            # A broken connection fails its next use too, and the pool then discards it.
            with contextlib.suppress(sqlite3.Error):
                dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")

    def begin(self, conn: Connection) -> None:
        # A deferred read-then-write transaction fails with BUSY at once, ignoring busy_timeout
        # (ARCHITECTURE.md rule 6), so every write transaction takes the write lock up front.
        if not conn.get_execution_options().get(_WRITE, False):
            conn.exec_driver_sql("BEGIN")
            return
        # Typed "DBAPI connection or None"; on the SQLite engines this runs for, sqlite3's.
        self.begin_immediate(conn.connection.driver_connection)  # type: ignore[arg-type]

    def begin_immediate(self, raw: sqlite3.Connection) -> None:
        """Take the write lock. Only this BEGIN is ever retried, never a half-done transaction:
        SQLite waits ``NOTE_AFTER`` seconds, then, with a note that says who holds the lock,
        the rest of the busy timeout; after that the write fails with ``DeskBusy``."""
        began = time.monotonic()
        first = min(self.busy_timeout, NOTE_AFTER)
        if _try_begin(raw, first):
            return
        rest = self.busy_timeout - first
        if rest > 0:
            holder = lock_holder(self.database) if self.database else None
            log.warning(
                "waiting for the desk's write lock, held by %s; up to %g s more...",
                holder or "another process",
                rest,
            )
            if _try_begin(raw, rest):
                return
        raise desk_busy(self.database, round(time.monotonic() - began, 1))


def _try_begin(raw: sqlite3.Connection, wait: float) -> bool:
    """BEGIN IMMEDIATE, SQLite waiting up to ``wait`` seconds for the lock; False if still busy."""
    raw.execute(f"PRAGMA busy_timeout={_ms(wait)}")
    try:
        raw.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if not is_busy(exc):
            raise
        return False
    return True


def _ms(seconds: float) -> int:
    return max(0, int(seconds * 1000))


@dataclass
class Store:
    """An open desk. ``read()`` and ``write()`` hand out short-lived sessions."""

    url: str
    engine: Engine
    blobs: BlobStore
    database: str | None = None  # the SQLite file, named in disk-full and busy messages
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self, *, bulk: bool = False) -> Iterator[Session]:
        """One write transaction: committed on success, rolled back on any exception.

        ``bulk`` (one of many batches in a row, e.g. a first sync): on SQLite the commit leaves
        up to ``BULK_WAL_PAGES`` in the WAL rather than checkpointing every 4 MiB. A full disk
        (the database's or an attachment's) raises ``DiskFull``, a write lock another process
        keeps past ``busy_timeout`` ``DeskBusy``; earlier transactions stay committed.
        """
        bind = self.engine.execution_options(**{_WRITE: True})
        try:
            with Session(bind, expire_on_commit=False) as session, session.begin():
                if bulk and self.is_sqlite:
                    conn = session.connection()
                    conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={BULK_WAL_PAGES}")
                    conn.connection.info[_BULK] = True  # reset on check-in (``checkin``)
                yield session
                self.blobs.flush()
        except (DBAPIError, sqlite3.Error, OSError) as exc:
            # A full disk (SQLite's or a blob's) or a lock that stayed taken: a clear error,
            # the transaction rolled back; anything else passes unchanged.
            failure = translate(exc, self.database, self.busy_timeout)
            if failure is None:
                raise
            raise failure from exc

    def dispose(self) -> None:
        self.blobs.close()
        self.engine.dispose()


def _attachments_dir(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        db = Path(parsed.database)
        return db.with_name(db.name + ".files")
    from sdesk.config import data_dir

    return data_dir() / "attachments"


def open_store(
    db: str | Path,
    *,
    attachments: Path | None = None,
    upgrade: bool = True,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
) -> Store:
    """Open (creating if needed) and bring the schema to the current revision.

    An older SQLite desk is copied aside before it is upgraded, so a failed upgrade loses nothing.
    ``busy_timeout``: seconds a write waits for another process's write lock (SQLite).
    """
    url = database_url(db)
    engine = _create_engine(url)
    database = _sqlite_file(url) if engine.dialect.name == "sqlite" else None
    attachments = attachments or _attachments_dir(url)
    made = database is not None and _create_private(Path(database))
    if engine.dialect.name == "sqlite":
        hooks = _SqliteHooks(database, busy_timeout)
        event.listen(engine, "connect", hooks.connect)
        event.listen(engine, "begin", hooks.begin)
        event.listen(engine, "checkin", hooks.checkin)
    store = Store(
        url=url,
        engine=engine,
        blobs=BlobStore(attachments),
        database=database,
        busy_timeout=busy_timeout,
    )
    try:
        _migrate(store, upgrade=upgrade)
    except (DBAPIError, sqlite3.DatabaseError, OSError) as exc:
        engine.dispose()
        failure = translate(exc, database, busy_timeout)
        if failure is not None:
            raise failure from None
        if isinstance(exc, OSError):
            raise
        detail = exc.orig if isinstance(exc, DBAPIError) else exc
        raise StoreError(f"cannot open desk {_shown(url)}: {detail}") from None
    if database is not None and not made:  # an existing desk: named if others can read it
        warn_if_shared(Path(database), attachments)
    return store


# Driver modules SQLAlchemy imports for a URL, and the package that provides each.
_DRIVER_PACKAGES = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary"}


def _create_engine(url: str) -> Engine:
    try:
        # LIFO: a worker gets the connection used last, whose page cache is warm; FIFO handed
        # out each of the pooled connections in turn, each with a cold cache (bench/console
        # searches ran 2-4x slower than the same SQL on one connection).
        return create_engine(url, pool_use_lifo=True)
    except NoSuchModuleError:
        kind = make_url(url).drivername
        raise BadDatabaseUrl(
            f"bad database URL {_shown(url)!r}: no database driver {kind!r}; {URL_EXAMPLE}"
        ) from None
    except ImportError as exc:  # the dialect is known, its driver module is not installed
        module = exc.name or str(exc)
        package = _DRIVER_PACKAGES.get(module, module)
        raise StoreError(
            f"cannot use database {_shown(url)}: its driver {module!r} is not installed "
            f"(pip install '{package}')"
        ) from None
    except ArgumentError as exc:
        raise BadDatabaseUrl(f"bad database URL {_shown(url)!r}: {exc}; {URL_EXAMPLE}") from None


def _create_private(database: Path) -> bool:
    """A new desk's file is made 0600 before SQLite opens it (its -wal and -shm files follow);
    True when it was made here. An existing one is not changed."""
    try:
        return private_file(database)
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full(database.parent) from None
        return True  # not there and not creatable: SQLite says why, in its own words


def _sqlite_file(url: str) -> str | None:
    database = make_url(url).database
    return database if database and database != ":memory:" else None


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _migrate(store: Store, *, upgrade: bool) -> None:
    with store.engine.connect() as conn:
        if _current_revision(conn) == HEAD:
            return  # the common case: Alembic (~0.1 s to import) is not needed
    from alembic import command
    from alembic.script import ScriptDirectory

    with store.engine.connect() as conn:
        current = _current_revision(conn)
        cfg = _alembic_config(conn)
        script = ScriptDirectory.from_config(cfg)
        head = script.get_current_head()
        if current == head:
            return
        if current is not None and not _known(script, current):
            raise StoreError(f"desk schema {current} is newer than this sdesk knows; upgrade sdesk")
        if current is not None:
            if not upgrade:
                raise StoreError(f"desk schema {current} is older than {head}; run 'sdesk upgrade'")
            _backup_before_upgrade(store, current)
        elif inspect(conn).get_table_names():
            raise StoreError("the database holds tables that are not an sdesk desk")
        conn.commit()
        command.upgrade(cfg, "head")
        conn.commit()


def _known(script: Any, revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def _current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _backup_before_upgrade(store: Store, revision: str) -> None:
    database = make_url(store.url).database
    if not store.is_sqlite or not database:
        return  # server databases are backed up by their own tools; say so in the docs
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = Path(f"{database}.before-{revision}-{stamp}")
    private_file(target)  # a copy of the customers' data: as private as the desk
    src, dst = sqlite3.connect(database), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
