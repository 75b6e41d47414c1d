"""``sdesk fetch`` and ``sdesk doctor`` as a user runs them, against real servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.mailservers import DovecotServer, SmtpServer


def run(
    tmp_path: Path, config: str, *args: str, password: str = ""
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["SDESK_TEST_PW"] = password
    folder = tmp_path / "config" / "sdesk"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(config, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "sdesk", "--db", str(tmp_path / "desk.db"), *args],
        env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def config(imap: DovecotServer, smtp: SmtpServer | None = None) -> str:
    text = f"""
desk_domain = "desk.test"

[[mailboxes]]
name = "support"
host = "{imap.host}"
port = {imap.port}
security = "none"
username = "{imap.user}"
password_env = "SDESK_TEST_PW"
address = "support@desk.test"
"""
    if smtp is not None:
        text += f"""
[mailboxes.smtp]
host = "{smtp.host}"
port = {smtp.port}
security = "none"
"""
    return text


def raw(n: int) -> bytes:
    return (
        f"From: c{n}@example.org\r\nTo: support@desk.test\r\nSubject: Case {n}\r\n"
        f"Message-ID: <case{n}@example.org>\r\n\r\nHello {n}\r\n"
    ).encode()


def test_fetch_once_then_nothing_new(tmp_path: Path, dovecot: DovecotServer) -> None:
    dovecot.deliver(raw(1))
    dovecot.deliver(raw(2))
    first = run(tmp_path, config(dovecot), "fetch", password=dovecot.password)
    assert first.returncode == 0, first.stderr
    assert "support: fetched 2, new 2, duplicates 0, quarantined 0" in first.stdout
    second = run(tmp_path, config(dovecot), "fetch", password=dovecot.password)
    assert "support: fetched 0, new 0" in second.stdout
    for number, subject in ((1001, "Case 1"), (1002, "Case 2")):
        shown = run(tmp_path, config(dovecot), "show", str(number), password=dovecot.password)
        assert subject in shown.stdout, shown.stdout


def test_fetch_with_a_wrong_password_says_so_in_one_line(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    result = run(tmp_path, config(dovecot), "fetch", password="wrong")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    # README "exit statuses": the documented form, the mailbox named once, the server's own
    # words decoded (not a Python bytes repr).
    assert result.stderr.splitlines() == [
        "sdesk: error: mailbox support: login failed: [AUTHENTICATIONFAILED] Authentication failed."
    ]
    assert "wrong" not in result.stderr  # the secret never shows


def test_doctor_checks_each_step(
    tmp_path: Path, dovecot: DovecotServer, smtp_server: SmtpServer
) -> None:
    good = run(tmp_path, config(dovecot, smtp_server), "doctor", password=dovecot.password)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "ok   connected (none) and logged in as support" in good.stdout
    assert "ok   folder INBOX" in good.stdout
    assert "ok   IDLE supported" in good.stdout
    assert "all mailboxes look fine" in good.stdout
    bad = run(tmp_path, config(dovecot), "doctor", password="nope")
    assert bad.returncode == 1
    assert (
        "FAIL mailbox support: login failed: [AUTHENTICATIONFAILED] Authentication failed."
        in bad.stdout
    )
    assert "b'" not in bad.stdout
    assert "sdesk: error: 1 problem(s) found" in bad.stderr


def test_doctor_warns_about_a_mailbox_without_smtp(tmp_path: Path, dovecot: DovecotServer) -> None:
    """A mailbox that is only read (no [mailboxes.smtp], no address) is a valid set-up."""
    cfg = config(dovecot).replace('address = "support@desk.test"\n', "")
    result = run(tmp_path, cfg, "doctor", password=dovecot.password)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "  warn no [mailboxes.smtp] server: mail is read, replies cannot be sent from it"
        in result.stdout
    )
    assert "the mailboxes work, with 1 warning(s) above" in result.stdout
    assert result.stderr == ""


def test_no_mailboxes_configured(tmp_path: Path) -> None:
    result = run(tmp_path, 'desk_domain = "desk.test"\n', "fetch")
    assert result.returncode == 1
    assert "no mailboxes configured: add a [[mailboxes]] table to" in result.stderr


def test_doctor_shows_what_the_poller_last_recorded(
    tmp_path: Path, dovecot: DovecotServer, smtp_server: SmtpServer
) -> None:
    cfg = config(dovecot, smtp_server)
    fresh = run(tmp_path, cfg, "doctor", password=dovecot.password)
    assert "  info poller: never ran (no desk yet)" in fresh.stdout
    assert not (tmp_path / "desk.db").exists()  # doctor only looks
    run(tmp_path, cfg, "fetch", password="Wr0ng-Secret")
    after = run(tmp_path, cfg, "doctor", password=dovecot.password)
    info = next(line for line in after.stdout.splitlines() if line.startswith("  info "))
    assert info.startswith("  info poller: error since ")
    assert "last good poll never, 0 quarantined; last error " in info
    assert "last error" in info and "mailbox support: login failed: " in info
    assert "Wr0ng-Secret" not in after.stdout
    assert after.returncode == 0, after.stdout  # what was recorded is information, not a check
