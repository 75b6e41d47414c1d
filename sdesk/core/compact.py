"""``compact_raw``: the raw messages kept as they came, packed as new ones are
(``sdesk.store.rawcodec``): those a desk stored before migration 0007 (``sdesk quarantine
compact``), and those a large IMAP sync stored unpacked to fill the inbox sooner (the mail
poller packs them right after the sync, ``channels/email/imap.py``). The partial index
``ix_raw_inbound_unpacked`` finds them without reading the packed rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sdesk.core import events
from sdesk.store.rawcodec import IDENTITY, pack, unpack_checked
from sdesk.store.rawsql import RawSql

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

ROWS_A_TRANSACTION = 200  # short write transactions: a console keeps working meanwhile


@dataclass(slots=True)
class CompactReport:
    rows: int = 0
    bytes_before: int = 0
    bytes_after: int = 0


def compact_raw(
    desk: Desk,
    *,
    rows_a_transaction: int = ROWS_A_TRANSACTION,
    stop: Callable[[], bool] | None = None,
) -> CompactReport:
    """Pack every row still kept as it came (``raw_codec`` NULL), a few hundred a transaction,
    until none is left or ``stop()`` says so (between transactions: nothing half done).

    Each packed row is read back (its attachment bodies from the blob files) and checked against
    its sha256 before it replaces the original: a row is either kept as it was or replaced by
    bytes proven to give it back (ARCHITECTURE.md, rule 3). SQLite reuses the pages freed for
    new rows; ``VACUUM`` would give them back to the file system.
    """
    report = CompactReport()
    after = 0
    while True:
        with desk.store.write() as session:
            sql = RawSql(session)
            rows = sql.all(
                "SELECT id, raw, sha256 FROM raw_inbound WHERE raw_codec IS NULL AND id > ? "
                "ORDER BY id LIMIT ?",
                after,
                rows_a_transaction,
            )
            shared = _shared(desk, sql, [raw_id for raw_id, _, _ in rows])
            for raw_id, stored, digest in rows:
                raw = bytes(stored)
                mine = shared.get(raw_id, [])
                packed, codec = pack(raw, mine)
                if codec != IDENTITY:  # proven to give the exact bytes back before it replaces them
                    read = {d: data for data, d in mine}
                    unpack_checked(packed, codec, digest, read.get)
                sql.run(
                    "UPDATE raw_inbound SET raw = ?, raw_codec = ?, raw_size = ? WHERE id = ?",
                    packed,
                    codec,
                    len(raw),
                    raw_id,
                )
                report.rows += 1
                report.bytes_before += len(raw)
                report.bytes_after += len(packed)
                after = raw_id
            if rows:
                events.record(sql, "raw.compacted", at=desk.clock(), rows=len(rows))
        if not rows or (stop is not None and stop()):
            return report


def _shared(desk: Desk, sql: RawSql, raw_ids: list[int]) -> dict[int, list[tuple[bytes, str]]]:
    """By raw row: the attachments of the message stored from it whose blobs are on disk, as
    (bytes, sha256). One query a transaction (``message.raw_id`` is indexed); a blob two
    messages share is read once."""
    if not raw_ids:
        return {}
    marks = ", ".join("?" * len(raw_ids))
    found = sql.all(
        "SELECT DISTINCT m.raw_id, a.sha256 FROM attachment a JOIN message m "
        f"ON m.id = a.message_id WHERE m.raw_id IN ({marks}) AND a.stored = ?",
        *raw_ids,
        True,
    )
    blobs: dict[str, bytes | None] = {}
    shared: dict[int, list[tuple[bytes, str]]] = {}
    for raw_id, digest in found:
        if digest not in blobs:
            blobs[digest] = desk.store.blobs.get(digest)
        data = blobs[digest]
        if data is not None:
            shared.setdefault(raw_id, []).append((data, digest))
    return shared
