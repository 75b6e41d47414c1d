"""Intake accounting through the real command: every message a folder holds is ingested, a
duplicate, quarantined or named; files are recognised by content, whatever their names; a store
that fails mid-import leaves a summary of exactly what was committed."""

from __future__ import annotations

import re
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Run
from tests.corpus.bulk import write_mbox

SUMMARY = re.compile(
    r"(?:ingested|stopped after) (\d+) messages: (\d+) tickets created, (\d+) messages appended, "
    r"(\d+) duplicates skipped, (\d+) auto-replies, (\d+) quarantined, (\d+) skipped, (\d+) failed"
)


def counts(stdout: str) -> dict[str, int]:
    match = SUMMARY.search(stdout)
    assert match is not None, stdout
    names = ("total", "created", "appended", "duplicates", "auto", "quarantined", "skipped")
    values = dict(zip(names, map(int, match.groups()), strict=False))
    values["failed"] = int(match.group(8))
    parts = ("created", "appended", "duplicates", "quarantined", "skipped", "failed")
    assert values["total"] == sum(values[k] for k in parts), stdout  # the numbers add up
    return values


def mail(n: int, body: str = "") -> bytes:
    return (
        f"Return-Path: <c{n}@example.org>\n"
        f"From: Customer {n} <c{n}@example.org>\n"
        f"To: support@desk.test\n"
        f"Subject: request {n}\n"
        f"Message-ID: <r{n}@example.org>\n"
        f"Date: Mon, 02 Nov 2026 09:{n:02d}:00 +0000\n"
        f"\n{body or f'text {n}'}\n"
    ).encode()


def cl2(n: int, body: str) -> bytes:
    head, rest = mail(n, body).split(b"\n\n", 1)
    return head + b"\nContent-Length: %d\n\n" % len(rest) + rest


def make_folder(root: Path) -> int:
    """The trial's folder, in small: returns how many messages it holds."""
    root.mkdir()
    sep = b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n"
    # .box mboxes: separators with no blank line before them, and an mboxcl2
    (root / "a.box").write_bytes(b"".join(sep + mail(n) for n in range(1, 5)))
    forwarded = "see below\n\nFrom x@example.org Mon Nov  2 09:00:00 2026\nSubject: old\n\nold"
    (root / "b.box").write_bytes(sep + cl2(5, forwarded) + b"\n" + sep + cl2(6, "ok") + b"\n")
    mails = root / "new"  # a folder named like a Maildir's, in a folder that is no Maildir
    mails.mkdir()
    for n in range(7, 12):
        (mails / f"{n:03d}.txt").write_bytes(mail(n))
    (root / "no-extension").write_bytes(mail(12))
    (root / "outlook.msg").write_bytes(mail(13))
    # a .txt that is an mbox: content wins over the name; a prose body line stays in its body
    prose = "Hello,\n\nFrom my point of view the router is fine.\nthanks"
    (root / "archive.txt").write_bytes(
        b"".join(
            b"From - Thu Nov 16 10:20:53 2006\n" + mail(n, prose) + b"\n" for n in (14, 15, 16)
        )
    )
    (root / "README.txt").write_text("This folder holds the mail we exported.\n\nFrom: us\n")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    (root / "empty.txt").write_bytes(b"")
    (root / "gone.eml").symlink_to(root / "moved-away.eml")
    return 16


def test_unknown_extensions_are_read_by_content_and_every_file_is_accounted_for(
    sdesk: Run, tmp_path: Path
) -> None:
    folder, db = tmp_path / "export", str(tmp_path / "d.db")
    held = make_folder(folder)
    first = sdesk("--db", db, "ingest", str(folder))
    assert first.returncode == 0, first.stderr  # skipped files are named, not failures
    got = counts(first.stdout)
    assert (got["created"], got["appended"], got["skipped"], got["failed"]) == (held, 0, 4, 0)
    assert got["total"] == held + 4
    assert f"skipped: {folder / 'README.txt'}: not a mail, mbox or JSON Lines file" in first.stderr
    assert f"skipped: {folder / 'logo.png'}: not a mail, mbox or JSON Lines file" in first.stderr
    assert f"skipped: {folder / 'empty.txt'}: empty file" in first.stderr
    assert f"skipped: {folder / 'gone.eml'}: not a file (a broken link" in first.stderr
    with sqlite3.connect(db) as conn:
        subjects = {r[0] for r in conn.execute("SELECT subject FROM ticket")}
        forwarded = conn.execute(
            "SELECT text FROM message WHERE message_id = 'r5@example.org'"
        ).fetchone()[0]
        prose = conn.execute(
            "SELECT text FROM message WHERE message_id = 'r15@example.org'"
        ).fetchone()[0]
    assert subjects == {f"request {n}" for n in range(1, held + 1)}
    assert "From x@example.org Mon Nov  2 09:00:00 2026" in forwarded  # kept by Content-Length
    assert "From my point of view the router is fine." in prose

    again = sdesk("--db", db, "ingest", str(folder))
    assert again.returncode == 0, again.stderr
    repeat = counts(again.stdout)
    assert (repeat["created"], repeat["appended"], repeat["duplicates"]) == (0, 0, held)
    assert repeat["skipped"] == 4 and repeat["total"] == held + 4
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM message").fetchone() == (held,)


def _limit_file_size() -> None:  # the desk's disk is "full" at 4 MiB: one batch fits
    resource.setrlimit(resource.RLIMIT_FSIZE, (4 << 20, 4 << 20))


@pytest.mark.parametrize("mode", ["--serial", "--parallel"])
def test_a_store_failure_reports_what_was_committed_and_a_rerun_resumes(
    mode: str, sdesk_env: dict[str, str], sdesk: Run, tmp_path: Path
) -> None:
    mbox, db = tmp_path / "big.mbox", tmp_path / "d.db"
    write_mbox(mbox, 2500)
    failed = subprocess.run(
        [sys.executable, "-m", "sdesk", "--db", str(db), "ingest", mode, str(mbox)],
        env=sdesk_env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        preexec_fn=_limit_file_size,
    )
    assert failed.returncode not in (0, 1, 130), failed.stderr
    assert "stopped after" in failed.stdout, failed.stdout + failed.stderr
    committed = counts(failed.stdout)
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM message").fetchone()[0]
    assert 0 < committed["total"] == stored < 2500
    assert committed["failed"] == 0  # the store's failure is not blamed on messages
    assert (
        "everything counted above is committed; run the same command again to resume"
        in failed.stderr
    )
    rerun = sdesk("--db", str(db), "ingest", mode, str(mbox))
    assert rerun.returncode == 0, rerun.stderr
    assert counts(rerun.stdout)["duplicates"] == stored
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM message").fetchone() == (2500,)
