"""The desk's files are its user's alone, whatever the umask: real files, real modes.

A new desk, its -wal and -shm files, the backup made before an upgrade and the attachments are
0600, their folders 0700; an existing desk others can read is named once, and left as it is.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from tests.factories import email


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)  # the usual default, under which files come out 0644
    try:
        yield
    finally:
        os.umask(old)


def test_a_new_desk_its_wal_shm_and_attachments_are_private(
    tmp_path: Path, umask_022: None
) -> None:
    db = tmp_path / "d.db"
    store = open_store(db)
    with store.write() as session:
        session.execute(text("INSERT INTO lease VALUES ('x', 'me', '2026-01-01')"))
        digest = store.blobs.put_later(b"a customer's scan")
    try:
        assert {p.name: mode(p) for p in tmp_path.glob("d.db*") if p.is_file()} == {
            "d.db": 0o600,
            "d.db-wal": 0o600,
            "d.db-shm": 0o600,
        }
        blob = store.blobs.path(digest)
        assert blob.is_relative_to(tmp_path / "d.db.files")
        assert mode(tmp_path / "d.db.files") == 0o700
        assert mode(blob.parent) == 0o700
        assert mode(blob) == 0o600
    finally:
        store.dispose()


def test_attachment_folders_made_under_a_missing_parent_are_private(
    tmp_path: Path, umask_022: None
) -> None:
    store = open_store(tmp_path / "d.db", attachments=tmp_path / "new" / "blobs")
    store.blobs.put(b"scan")
    assert mode(tmp_path / "new") == 0o700
    assert mode(tmp_path / "new" / "blobs") == 0o700
    store.dispose()


def test_an_existing_desk_others_can_read_is_named_once_and_left_alone(
    tmp_path: Path, umask_022: None, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "shared.db"
    open_store(db).dispose()
    db.chmod(0o644)  # the admin's choice, or a desk made by an older sdesk
    caplog.set_level(logging.WARNING, logger="sdesk.store")
    for _ in range(2):
        open_store(db).dispose()
    warnings = [r.getMessage() for r in caplog.records if "readable by other users" in r.message]
    assert warnings == [
        f"desk {db} is readable by other users: {db} (mode 0644); "
        f"to keep it private: chmod -R go= {db}*"
    ]
    assert mode(db) == 0o644  # not changed behind the admin's back


def test_a_private_desk_says_nothing(
    tmp_path: Path, umask_022: None, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "d.db"
    open_store(db).dispose()
    caplog.set_level(logging.WARNING, logger="sdesk.store")
    open_store(db).dispose()
    assert caplog.records == []


def test_the_backup_before_an_upgrade_is_private(tmp_path: Path, umask_022: None) -> None:
    from alembic import command

    from sdesk.store.engine import _alembic_config

    db = tmp_path / "d.db"
    store = open_store(db)
    Desk(store).intake(email("kept@x"))
    with store.engine.connect() as conn:
        command.downgrade(_alembic_config(conn), "0001")
        conn.commit()
    store.dispose()
    open_store(db).dispose()
    [backup] = tmp_path.glob("d.db.before-0001-*")
    assert mode(backup) == 0o600
