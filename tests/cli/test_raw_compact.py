"""``sdesk quarantine compact``: raw messages an older sdesk kept as they came, compressed."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel
from sdesk.store.engine import open_store
from tests.cli.conftest import Run

RAW = b"From: ann@example.org\nSubject: kept by an old sdesk\n\n" + b"words of a message\n" * 200


def test_compact_then_retry_gives_the_exact_bytes(sdesk: Run, tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    desk = Desk(open_store(db), Settings())
    desk.quarantine(channel=Channel.EMAIL, raw=RAW, error="old parser bug", source="box#1")
    desk.close()
    with sqlite3.connect(db) as conn:  # as sdesk before migration 0007 left it
        conn.execute("UPDATE raw_inbound SET raw = ?, raw_codec = NULL, raw_size = NULL", (RAW,))
    done = sdesk("--db", str(db), "quarantine", "compact")
    assert done.returncode == 0
    assert "compacted 1 raw messages" in done.stdout and f"{len(RAW)} bytes" in done.stdout
    with sqlite3.connect(db) as conn:
        kept, codec = conn.execute("SELECT raw, raw_codec FROM raw_inbound").fetchone()
    assert codec == "zstd-mail1" and len(kept) < len(RAW) // 10
    assert "1: created #1001" in sdesk("--db", str(db), "quarantine", "retry").stdout
    with sqlite3.connect(db) as conn:
        (digest,) = conn.execute("SELECT sha256 FROM raw_inbound").fetchone()
    assert digest == hashlib.sha256(RAW).hexdigest()
