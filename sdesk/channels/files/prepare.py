"""The pure half of ingest: read and parse, touching no database, so it can run in a second
process while the first one writes (ingest then costs about as much as parsing alone)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sdesk.channels.email.parse import EmailLimits, UnparseableEmail, parse_email
from sdesk.channels.files.readers import Item, iter_items
from sdesk.channels.files.records import RecordError, is_ticket, to_inbound, to_ticket

Kind = Literal["inbound", "ticket", "quarantine", "duplicate", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class Prepared:
    """One input message, ready to store (or to count as a duplicate, a failure, or a file that
    holds no message and was skipped)."""

    kind: Kind
    source: str
    consumed: int
    payload: Any = None  # Inbound, ImportedTicket, or the raw bytes to quarantine
    error: str = ""


class SeenRaw:
    """Asks the desk, read-only, whether exact raw bytes were stored before: a re-run then skips
    parsing them. Only for SQLite files; elsewhere intake's own keys catch the repeats."""

    def __init__(self, sqlite_path: str | None) -> None:
        self._conn = None
        if sqlite_path:
            self._conn = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True, timeout=30)

    def __call__(self, digest: str) -> bool:
        if self._conn is None:
            return False
        row = self._conn.execute(
            "SELECT 1 FROM raw_inbound WHERE sha256 = ? AND channel = 'email' LIMIT 1", (digest,)
        ).fetchone()
        return row is not None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def prepare(item: Item, *, limits: EmailLimits, region: str, seen: SeenRaw) -> Prepared:
    if item.kind == "error":
        return Prepared("failed", item.source, item.consumed, error=item.error)
    if item.kind == "skipped":
        return Prepared("skipped", item.source, item.consumed, error=item.error)
    if item.kind == "email":
        if seen(hashlib.sha256(item.raw).hexdigest()):
            return Prepared("duplicate", item.source, item.consumed)
        try:
            inbound = parse_email(item.raw, limits=limits, source=item.source)
        except UnparseableEmail as exc:
            return Prepared("quarantine", item.source, item.consumed, item.raw, str(exc))
        return Prepared("inbound", item.source, item.consumed, inbound)
    record = item.record
    if not isinstance(record, dict):
        return Prepared("failed", item.source, item.consumed, error="a line is not a JSON object")
    base = Path(item.source.rsplit(":", 1)[0]).parent
    try:
        if is_ticket(record):
            return Prepared(
                "ticket", item.source, item.consumed, to_ticket(record, base=base, region=region)
            )
        inbound = to_inbound(record, source=item.source, base=base, region=region)
    except RecordError as exc:
        return Prepared("failed", item.source, item.consumed, error=str(exc))
    return Prepared("inbound", item.source, item.consumed, inbound)


def prepare_all(
    paths: list[Path], *, limits: EmailLimits, region: str, sqlite_path: str | None
) -> Iterator[Prepared]:
    seen = SeenRaw(sqlite_path)
    try:
        for item in iter_items(paths, max_message_bytes=limits.max_message_bytes):
            yield prepare(item, limits=limits, region=region, seen=seen)
    finally:
        seen.close()
