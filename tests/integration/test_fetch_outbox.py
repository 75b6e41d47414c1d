"""``sdesk fetch`` is one pass of every service that has one: the mailboxes, then the outbox
(a desk run from cron, with no ``serve`` and no console, still sends its replies); ``-m`` fetches
that mailbox only."""

from __future__ import annotations

from pathlib import Path

from sdesk.config import MailboxSettings, Settings
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from tests.integration.mailservers import DovecotServer, SmtpServer
from tests.integration.test_cli_mail import config, raw, run


def test_fetch_brings_mail_in_and_sends_the_queued_replies_once(
    tmp_path: Path, dovecot: DovecotServer, smtp_server: SmtpServer
) -> None:
    cfg = config(dovecot, smtp_server)
    dovecot.deliver(raw(1))
    first = run(tmp_path, cfg, "fetch", password=dovecot.password)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "support: fetched 1, new 1, duplicates 0, quarantined 0, oversized 0",
        "outbox: sent 0, to retry 0, failed 0",
    ]
    box = MailboxSettings(
        name="support", host=dovecot.host, port=dovecot.port, security="none",
        username=dovecot.user, password_env="UNUSED", address="support@desk.test",
    )  # fmt: skip
    desk = Desk(open_store(tmp_path / "desk.db"), Settings(mailboxes=[box]))
    desk.add_agent("eli", name="Eli")
    desk.reply(1001, "eli", "We are on it.")
    desk.close()

    only_mail = run(tmp_path, cfg, "fetch", "-m", "support", password=dovecot.password)
    assert only_mail.stdout.splitlines() == [
        "support: fetched 0, new 0, duplicates 0, quarantined 0, oversized 0"
    ]
    assert smtp_server.messages == []

    again = run(tmp_path, cfg, "fetch", password=dovecot.password)
    assert again.returncode == 0, again.stderr
    assert "outbox: sent 1, to retry 0, failed 0" in again.stdout.splitlines()
    [sent] = smtp_server.messages
    assert sent.rcpt_tos == ("c1@example.org",)
    last = run(tmp_path, cfg, "fetch", password=dovecot.password)
    assert "outbox: sent 0, to retry 0, failed 0" in last.stdout.splitlines()
    assert len(smtp_server.messages) == 1
