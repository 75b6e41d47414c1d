"""Hot-path SQL straight to the driver, inside the session's own transaction.

Intake runs about ten statements a message. Built with SQLAlchemy's ``insert().values()`` each
costs ~330 µs, precompiled Core ~90 µs, the sqlite3 cursor ~12 µs (measured here) — the
difference between ingest keeping pace with the mail parser and being five times slower. SQL here
is written with ``?`` placeholders and plain column names; values are adapted the way the ORM
stores them (UTC datetimes as naive text on SQLite), so ORM reads see the same rows.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

_QMARK = re.compile(r"\?")
_INSERT = re.compile(r"INSERT INTO (\w+) \(([^()]*)\) VALUES \((\?(?:, \?)*)\)\Z")
DEFERRED_ROWS = 200  # rows one multi-row INSERT of deferred rows takes (SQLite allows 32,766 ?)
# INSERT statements by (table, columns, with RETURNING): intake builds the same few thousands of
# times a batch.
_INSERTS: dict[tuple[str, tuple[str, ...], bool], str] = {}


class RawSql:
    def __init__(self, session: Session) -> None:
        conn = session.connection()
        self.sqlite = conn.dialect.name == "sqlite"
        if self.sqlite:
            self._cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        else:
            self._conn = conn
            self._format = conn.dialect.paramstyle in ("format", "pyformat")
        self._converted: dict[str, str] = {}
        self._times: dict[datetime, Any] = {}
        self._last_time: datetime | None = None
        self._last_stored: Any = None
        self._deferring: frozenset[str] = frozenset()
        self._deferred: dict[str, list[tuple[Any, ...]]] = {}
        self._direct: set[str] = set()  # INSERTs seen that are not deferred
        self._last: Any = None  # the last statement's cursor or result (``changes``)

    def defer_inserts(self, *tables: str) -> None:
        """From now on, ``run("INSERT INTO <table> (...) VALUES (?, ...)")`` into these tables
        only queues the row; ``flush_deferred`` writes the queue with a few multi-row INSERTs
        (one statement step for up to ``DEFERRED_ROWS`` rows instead of one each). Only for
        rows nothing reads back before the flush: ``run`` returns no id anyway."""
        self._deferring = frozenset(tables)

    def flush_deferred(self) -> None:
        """Write the queued rows, in the order they were queued per statement."""
        deferred, self._deferred = self._deferred, {}
        for sql, rows in deferred.items():
            head, _, marks = sql.rpartition(" VALUES ")
            for start in range(0, len(rows), DEFERRED_ROWS):
                part = rows[start : start + DEFERRED_ROWS]
                values = ", ".join([marks] * len(part))
                self._execute(f"{head} VALUES {values}", tuple(v for row in part for v in row))

    def time(self, value: datetime | None) -> Any:
        if value is None:
            return None
        if value is self._last_time:  # the same moment again (hashing one calls utcoffset)
            return self._last_stored
        stored = self._times.get(value)  # intake stamps a few moments on many rows
        if stored is None:
            stored = value.astimezone(UTC).replace(tzinfo=None)
            if self.sqlite:
                # SQLAlchemy's SQLite DateTime always writes microseconds; text order must match.
                stored = stored.isoformat(" ", "microseconds")
            if len(self._times) >= 256:  # a batch's RawSql lives long: keep this small
                self._times.clear()
            self._times[value] = stored
        self._last_time, self._last_stored = value, stored
        return stored

    def _execute(self, sql: str, params: tuple[Any, ...]) -> Any:
        if self.sqlite:
            self._last = self._cursor.execute(sql, params)
            return self._last
        converted = self._converted.get(sql)
        if converted is None:
            converted = _QMARK.sub("%s", sql.replace("%", "%%")) if self._format else sql
            self._converted[sql] = converted
        self._last = self._conn.exec_driver_sql(converted, params)
        return self._last

    def run(self, sql: str, *params: Any) -> None:
        if self._deferring and sql.startswith("INSERT INTO ") and sql not in self._direct:
            queued = self._deferred.get(sql)
            if queued is None:
                match = _INSERT.match(sql)
                if match is not None and match.group(1) in self._deferring:
                    queued = self._deferred[sql] = []
                else:
                    self._direct.add(sql)
            if queued is not None:
                queued.append(params)
                return
        self._execute(sql, params)

    def changes(self) -> int:
        """Rows the last ``run`` changed (an UPDATE that found nothing: 0)."""
        return int(self._last.rowcount)

    def one(self, sql: str, *params: Any) -> tuple[Any, ...] | None:
        row = self._execute(sql, params).fetchone()
        return tuple(row) if row is not None else None

    def all(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._execute(sql, params).fetchall()]

    def scalar(self, sql: str, *params: Any) -> Any:
        row = self._execute(sql, params).fetchone()
        return row[0] if row is not None else None

    def insert(self, table: str, **values: Any) -> int:
        """INSERT one row and return its id.

        SQLite reports the id as the cursor's ``lastrowid`` (one step, where ``RETURNING`` is
        a second step and a row fetch); the statement text is built once per column set.
        """
        key = (table, tuple(values), not self.sqlite)
        sql = _INSERTS.get(key)
        if sql is None:
            columns = ", ".join(f'"{c}"' for c in values)
            marks = ", ".join("?" for _ in values)
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
            if not self.sqlite:
                sql += " RETURNING id"
            _INSERTS[key] = sql
        if self.sqlite:
            return int(self._cursor.execute(sql, tuple(values.values())).lastrowid)
        return int(self._execute(sql, tuple(values.values())).fetchone()[0])
