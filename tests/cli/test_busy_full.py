"""A desk another process keeps locked, and a disk that fills up: real processes, real files.

Each is a clear one-line error with its own exit status (75 busy, 74 disk full), never an
"internal error"; a lock held for less than the busy timeout is waited out, with a note. The
command under test runs as a process of its own (``sdesk_process``): the status is the one the
OS sees, and nothing it leaves open outlives it (the small disk is unmounted after).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Run
from tests.cli.test_errors import assert_one_line_error
from tests.locks import hold_write_lock


@pytest.fixture
def desk_db(sdesk: Run, tmp_path: Path) -> str:
    db = str(tmp_path / "d.db")
    assert sdesk("--db", db, "inbox").returncode == 0  # made, at the newest schema
    return db


@pytest.fixture
def hold_lock(desk_db: str) -> Iterator[object]:
    procs: list[subprocess.Popen[str]] = []

    def hold(seconds: float) -> subprocess.Popen[str]:
        proc = hold_write_lock(desk_db, seconds)
        procs.append(proc)
        return proc

    yield hold
    for proc in procs:
        proc.kill()
        proc.wait()


def test_a_lock_held_longer_than_the_busy_timeout_is_a_clear_error(
    sdesk: Run, sdesk_process: Run, sdesk_env: dict[str, str], desk_db: str, hold_lock
) -> None:
    holder = hold_lock(30)
    sdesk_env["SDESK_DATABASE__BUSY_TIMEOUT_SECONDS"] = "1"
    began = time.monotonic()
    result = sdesk_process("--db", desk_db, "agent", "add", "bob")
    took = time.monotonic() - began
    assert result.returncode == 75, result.stderr
    assert_one_line_error(result, "the desk is busy")
    line = result.stderr.strip().splitlines()[0]
    assert f"pid {holder.pid} (" in line  # who holds it, from /proc/locks
    assert "busy_timeout_seconds" in line
    assert "internal error" not in result.stderr
    assert took < 15  # gave up after about the configured second, not a minute
    holder.kill()
    holder.wait()
    assert "bob" not in sdesk("--db", desk_db, "agent", "list").stdout


def test_a_lock_held_for_less_than_the_timeout_is_waited_out_with_a_note(
    sdesk: Run, sdesk_env: dict[str, str], desk_db: str, hold_lock
) -> None:
    """In this process: the note comes after 3 s of waiting, and a new process on a loaded
    machine could spend that long starting up while the 6 s hold runs out."""
    holder = hold_lock(6)
    sdesk_env["SDESK_DATABASE__BUSY_TIMEOUT_SECONDS"] = "60"
    result = sdesk("--db", desk_db, "agent", "add", "bob")
    assert result.returncode == 0, result.stderr
    assert "added agent bob" in result.stdout
    notes = [ln for ln in result.stderr.splitlines() if "waiting for the desk's write lock" in ln]
    assert len(notes) == 1, result.stderr  # said once
    assert notes[0].startswith("sdesk: ")
    assert f"held by pid {holder.pid} (" in notes[0]
    assert holder.wait(5) == 0  # the holder committed normally: nobody broke its lock
    assert "bob" in sdesk("--db", desk_db, "agent", "list").stdout


def test_a_disk_that_fills_up_is_a_clear_error_and_the_rerun_completes(
    sdesk_process: Run, tmp_path: Path
) -> None:
    """A real tmpfs fills during an ingest: exit 74 and one line saying what to do; the
    committed batches are kept and whole, and the same command completes once there is room."""
    import json
    import os
    import random
    import sqlite3

    from tests.small_disk import fill, small_disk

    src = tmp_path / "in.jsonl"
    rnd = random.Random(1)
    with src.open("w") as f:  # 2,500 messages, ~3 MB of text that does not compress
        for i in range(2500):
            text = " ".join(f"w{rnd.randrange(10**6)}" for _ in range(150))
            record = {"channel": "sms", "from": {"phone": f"+1415555{i:04d}"}, "text": text,
                      "external_id": f"s{i}"}  # fmt: skip
            f.write(json.dumps(record) + "\n")
    with small_disk(tmp_path / "small", 24 * 1024) as disk:
        db = disk / "d.db"
        filler = fill(disk, leave_kib=4000)
        result = sdesk_process("--db", str(db), "ingest", str(src))
        assert result.returncode == 74, result.stderr
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("sdesk: error:")]
        assert errors == [
            f"sdesk: error: disk full: {db} (0.0 MiB free now); free space and run the same "
            "command again (everything committed so far is kept)"
        ], result.stderr
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            kept = conn.execute("SELECT count(*) FROM message").fetchone()[0]
        assert kept % 1000 == 0 and kept < 2500  # whole batches only
        os.unlink(filler)
        again = sdesk_process("--db", str(db), "ingest", str(src))
        assert again.returncode == 0, again.stderr
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM message").fetchone() == (2500,)


def test_a_full_disk_outside_the_store_is_the_same_clear_error(
    sdesk: Run, sdesk_process: Run, tmp_path: Path
) -> None:
    """ENOSPC raised by a file the command writes itself (an export), not by the store."""
    from tests.small_disk import small_disk

    db = str(tmp_path / "d.db")
    src = tmp_path / "in.jsonl"
    text = "x" * 2000
    src.write_text("".join(
        f'{{"channel": "sms", "from": {{"phone": "+1415555{i:04d}"}}, "text": "{text}", '
        f'"external_id": "s{i}"}}\n' for i in range(300)
    ))  # fmt: skip
    assert sdesk("--db", db, "ingest", str(src)).returncode == 0
    with small_disk(tmp_path / "small", 256) as disk:
        result = sdesk_process("--db", db, "export", "-o", str(disk / "out.jsonl"))
    assert result.returncode == 74, result.stderr
    assert_one_line_error(result, "disk full: ")
    assert "free space and run the same command again" in result.stderr
    assert "internal error" not in result.stderr
