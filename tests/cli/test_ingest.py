"""``sdesk ingest`` through the real command: formats, re-runs, interrupts, kill -9."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.cli.conftest import Run
from tests.corpus.bulk import write_mbox


def mail(n: int, subject: str, *, reply_to_n: int | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Вера Петрова <vera@example.ru>"
    msg["To"] = "support@desk.test"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<m{n}@example.ru>"
    msg["Date"] = "Mon, 02 Nov 2026 09:00:00 +0000"
    if reply_to_n is not None:
        msg["In-Reply-To"] = f"<m{reply_to_n}@example.ru>"
    msg.set_content(f"Текст письма {n}")
    return msg.as_bytes()


def make_corpus(root: Path) -> list[Path]:
    (root / "one.eml").write_bytes(mail(1, "Нет интернета"))
    box = root / "history.mbox"
    box.write_bytes(
        b"From vera@example.ru Mon Nov  2 09:00:00 2026\n"
        + mail(2, "Re: Нет интернета", reply_to_n=1)
        + b"\nFrom x@y Mon Nov  2 09:00:00 2026\n"
        + mail(3, "Счёт за ноябрь")
        + b"\n"
    )
    maildir = root / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1700000000.1.host").write_bytes(mail(4, "Maildir message"))
    (maildir / "cur" / "1700000001.2.host:2,S").write_bytes(mail(5, "Re: x", reply_to_n=4))
    nested = root / "folder" / "deeper"
    nested.mkdir(parents=True)
    (nested / "six.eml").write_bytes(mail(6, "In a nested folder"))
    (nested / "README.txt").write_text("not a message")
    lines = [
        {
            "channel": "telegram",
            "from": {"telegram_id": 9001, "name": "Vera", "address": "vera@example.ru"},
            "text": "пишу в телеграм",
            "date": "2026-11-03T10:00:00Z",
            "external_id": "tg-1",
        },
        {
            "channel": "phone",
            "from": {"phone": "+7 495 123-45-67", "telegram_id": 9001},
            "text": "Inbound call, 3 min",
            "date": "2026-11-03T11:00:00Z",
            "external_id": "call-1",
        },
        {
            "channel": "web",
            "from": {"account": "u-77", "name": "Web User"},
            "subject": "Form",
            "html": "<p>Hello <b>there</b></p><script>x()</script>",
            "date": "2026-11-03T12:00:00Z",
            "priority": "urgent",
            "attachments": [
                {
                    "filename": "../../etc/passwd",
                    "content_type": "text/plain",
                    "data_base64": "aGVsbG8=",
                }
            ],
        },
    ]
    (root / "chats.jsonl").write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
    return [root / "one.eml", box, maildir, root / "folder", root / "chats.jsonl"]


def test_every_format_once_and_a_rerun_adds_nothing(sdesk: Run, tmp_path: Path) -> None:
    corpus = tmp_path / "in"
    corpus.mkdir()
    paths = [str(p) for p in make_corpus(corpus)]
    db = str(tmp_path / "d.db")
    first = sdesk("--db", db, "ingest", *paths)
    assert first.returncode == 0, first.stderr
    # 9 messages and the README, which is named (it used to vanish without a word)
    assert "ingested 10 messages: 7 tickets created, 2 messages appended" in first.stdout
    assert "0 quarantined, 1 skipped, 0 failed" in first.stdout
    readme = corpus / "folder" / "deeper" / "README.txt"
    assert f"skipped: {readme}: not a mail, mbox or JSON Lines file" in first.stderr
    again = sdesk("--db", db, "ingest", *paths)
    assert again.returncode == 0
    assert "0 tickets created, 0 messages appended, 9 duplicates skipped" in again.stdout
    assert "1 skipped, 0 failed" in again.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM message").fetchone() == (9,)
        assert conn.execute("SELECT count(*) FROM customer").fetchone() == (2,)
        assert conn.execute("SELECT count(*) FROM ticket").fetchone() == (7,)
        # m5 (in cur/) answers m4 (in new/) but is read first: both end on one ticket.
        pair = conn.execute(
            "SELECT count(DISTINCT ticket_id) FROM message WHERE message_id IN (?, ?)",
            ("m4@example.ru", "m5@example.ru"),
        ).fetchone()
        assert pair == (1,)
        names = conn.execute("SELECT filename FROM attachment").fetchall()
        web_text = conn.execute("SELECT text FROM message WHERE channel='web'").fetchone()[0]
    assert names == [("passwd",)]
    assert "Hello there" in web_text and "x()" not in web_text
    shown = sdesk("--db", db, "show", "1001")
    assert "Текст письма 1" in shown.stdout and "Текст письма 2" in shown.stdout


def test_bad_json_lines_fail_loudly_and_good_lines_flow(sdesk: Run, tmp_path: Path) -> None:
    src = tmp_path / "mixed.jsonl"
    src.write_text(
        '{"channel": "sms", "from": {"phone": "+14155550100"}, "text": "ok 1"}\n'
        "not json at all\n"
        '{"channel": "fax", "text": "no such channel"}\n'
        '{"channel": "sms", "from": {"phone": "12"}, "text": "bad phone"}\n'
        '{"channel": "sms", "from": {"phone": "+14155550100"}, "text": "ok 2"}\n'
    )
    result = sdesk("--db", str(tmp_path / "d.db"), "ingest", str(src))
    assert result.returncode == 1
    assert "1 tickets created, 1 messages appended" in result.stdout
    assert f"{src}:2: not JSON" in result.stderr
    assert f"{src}:3: 'channel' must be one of" in result.stderr
    assert f"{src}:4: 'from.phone' is not a valid phone" in result.stderr


BULK = 6000


def start_ingest(env: dict[str, str], db: Path, mbox: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sdesk", "--db", str(db), "ingest", mode, str(mbox)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def wait_for_commits(db: Path, proc: subprocess.Popen[str], at_least: int = 1) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                    n = conn.execute("SELECT count(*) FROM message").fetchone()[0]
                if n >= at_least:
                    return n
            except sqlite3.OperationalError:
                pass  # schema not created yet
        time.sleep(0.05)
    pytest.fail(f"ingest committed nothing in time (exit {proc.poll()})")


def children_of(parent: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == parent:
                kids.append(int(entry.name))
    return kids


def assert_gone(pids: list[int]) -> None:
    """The parser child notices its parent is gone and exits by itself."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if Path(f"/proc/{pid}").exists() and not _zombie(pid)]
        if not alive:
            return
        time.sleep(0.2)
    pytest.fail(f"child processes outlived their parent: {alive}")


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def assert_exactly_once(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM message").fetchone() == (BULK,)
        assert conn.execute(
            "SELECT count(*) FROM (SELECT external_id FROM message GROUP BY external_id "
            "HAVING count(*) > 1)"
        ).fetchone() == (0,)
    check = subprocess.run(
        ["sqlite3", str(db), "PRAGMA integrity_check"], capture_output=True, text=True, check=True
    )
    assert check.stdout.strip() == "ok"


@pytest.mark.parametrize("mode", ["--serial", "--parallel"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_ingest_then_rerun_stores_every_message_once(
    sig: signal.Signals, mode: str, sdesk_env: dict[str, str], sdesk: Run, tmp_path: Path
) -> None:
    mbox, db = tmp_path / "big.mbox", tmp_path / "d.db"
    write_mbox(mbox, BULK)
    proc = start_ingest(sdesk_env, db, mbox, mode)
    committed = wait_for_commits(db, proc)
    kids = children_of(proc.pid)
    if mode == "--parallel":
        assert kids, "the parallel ingest runs its parser in a child process"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert committed < BULK, "ingest finished before the signal; make BULK larger"
    if sig is signal.SIGINT:
        assert proc.returncode == 130, err
        assert "interrupted after" in out and "run the same command to finish" in out
        assert "Traceback" not in err
    else:
        assert proc.returncode == -signal.SIGKILL
        assert_gone(kids)
    rerun = sdesk("--db", str(db), "ingest", mode, str(mbox))
    assert rerun.returncode == 0, rerun.stderr
    assert_exactly_once(db)
