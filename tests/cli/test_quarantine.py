"""Quarantine: kept raw with the error, listed, and re-processed after a fix."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel
from sdesk.store.engine import open_store
from tests.cli.conftest import Run

GOOD = (
    b"From: Ann <ann@example.org>\nSubject: Fixed by the upgrade\n"
    b"Message-ID: <q1@example.org>\n\nThis one failed under an older parser.\n"
)


def test_list_and_retry(sdesk: Run, tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    desk = Desk(open_store(db), Settings())
    # As an older sdesk would have left it: valid mail quarantined by a parser bug since fixed.
    desk.quarantine(channel=Channel.EMAIL, raw=GOOD, error="old parser bug", source="box#1")
    desk.quarantine(channel=Channel.EMAIL, raw=b"\x00\x01\x02", error="garbage", source="box#2")
    desk.close()
    listed = sdesk("--db", str(db), "quarantine", "list")
    assert "old parser bug" in listed.stdout and "box#2" in listed.stdout
    retried = sdesk("--db", str(db), "quarantine", "retry")
    assert retried.returncode == 1  # the garbage stays quarantined, and says why
    assert "1: created #1001" in retried.stdout
    assert "retried 2: 1 stored, 1 still quarantined" in retried.stdout
    assert "2: still quarantined" in retried.stderr
    with sqlite3.connect(db) as conn:
        states = conn.execute("SELECT id, state FROM raw_inbound ORDER BY id").fetchall()
        linked = conn.execute("SELECT raw_id FROM message").fetchall()
    assert states == [(1, "stored"), (2, "quarantined")]
    assert linked == [(1,)]
    again = sdesk("--db", str(db), "quarantine", "retry", "1")
    assert again.returncode == 1 and "not quarantined email or Telegram: [1]" in again.stderr
