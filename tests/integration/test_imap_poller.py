"""The IMAP poller against a real Dovecot: exactly once, whatever happens around it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sdesk.channels.email.imap import MailboxPoller
from sdesk.config import MailboxSettings, Settings
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from sdesk.store.models import Event, Message, RawInbound, Ticket
from tests.integration.mailservers import DovecotServer
from tests.locks import hold_write_lock


def mail(n: int, *, message_id: str | None = "auto", subject: str | None = None) -> bytes:
    headers = [
        f"From: Customer {n} <c{n}@example.org>",
        "To: support@desk.test",
        f"Subject: {subject or f'Problem number {n}'}",
        "Date: Mon, 02 Nov 2026 09:00:00 +0000",
    ]
    if message_id == "auto":
        headers.append(f"Message-ID: <m{n}@example.org>")
    elif message_id:
        headers.append(f"Message-ID: <{message_id}>")
    return ("\r\n".join(headers) + f"\r\n\r\nBody of message {n}.\r\n").encode()


def mailbox_for(server: DovecotServer, **extra: object) -> MailboxSettings:
    os.environ["SDESK_TEST_IMAP_PASSWORD"] = server.password
    values: dict[str, object] = {
        "name": "support",
        "host": server.host,
        "port": server.port,
        "security": "starttls",
        "username": server.user,
        "password_env": "SDESK_TEST_IMAP_PASSWORD",
        "address": "support@desk.test",
    }
    values.update(extra)
    return MailboxSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def desk_path(tmp_path: Path) -> Path:
    return tmp_path / "desk.db"


def open_desk(path: Path, mailbox: MailboxSettings) -> Desk:
    return Desk(open_store(path), Settings(desk_domain="desk.test", mailboxes=[mailbox]))


@pytest.fixture
def desk(desk_path: Path, dovecot: DovecotServer) -> Iterator[Desk]:
    d = open_desk(desk_path, mailbox_for(dovecot))
    yield d
    d.close()


def poller(desk: Desk, server: DovecotServer) -> MailboxPoller:
    return MailboxPoller(desk, desk.settings.mailboxes[0], cafile=str(server.cafile))


def count(desk: Desk, model: type, *where: object) -> int:
    with desk.store.read() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def subjects(desk: Desk) -> list[str]:
    with desk.store.read() as s:
        return sorted(s.execute(select(Ticket.subject)).scalars())


def test_delivered_mail_becomes_tickets_once(desk: Desk, dovecot: DovecotServer) -> None:
    for n in range(3):
        dovecot.deliver(mail(n))
    report = poller(desk, dovecot).fetch_once()
    assert (report.fetched, report.stored) == (3, 3)
    assert subjects(desk) == ["Problem number 0", "Problem number 1", "Problem number 2"]
    again = poller(desk, dovecot).fetch_once()
    assert again.fetched == 0  # the cursor moved with the intake
    assert count(desk, Message) == 3
    # fetched with BODY.PEEK: the mailbox still shows the mail unread
    assert all("\\Seen" not in dovecot.flags(uid) for uid in dovecot.uids())


def test_mail_already_seen_by_another_client_is_still_ingested(
    desk: Desk, dovecot: DovecotServer
) -> None:
    dovecot.deliver(mail(1), seen=True)
    assert poller(desk, dovecot).fetch_once().stored == 1


def test_without_message_id_and_with_a_reused_one_both_are_kept(
    desk: Desk, dovecot: DovecotServer
) -> None:
    dovecot.deliver(mail(1, message_id=None))
    dovecot.deliver(mail(2, message_id="same@example.org"))
    dovecot.deliver(mail(3, message_id="same@example.org", subject="Different words"))
    assert poller(desk, dovecot).fetch_once().stored == 3
    assert count(desk, Message) == 3


def test_mark_seen_after_commit(desk_path: Path, dovecot: DovecotServer) -> None:
    desk = open_desk(desk_path, mailbox_for(dovecot, after_intake="seen"))
    uid = dovecot.deliver(mail(1))
    poller(desk, dovecot).fetch_once()
    assert "\\Seen" in dovecot.flags(uid)
    desk.close()


def test_uidvalidity_change_rescans_without_duplicates(desk: Desk, dovecot: DovecotServer) -> None:
    for n in range(3):
        dovecot.deliver(mail(n))
    poller(desk, dovecot).fetch_once()
    before = dovecot.uidvalidity()
    dovecot.recreate_folder("INBOX")
    assert dovecot.uidvalidity() != before
    dovecot.deliver(mail(9))
    report = poller(desk, dovecot).fetch_once()
    assert report.resets == ["INBOX"]
    assert (report.fetched, report.duplicates, report.stored) == (4, 3, 1)
    assert count(desk, Message) == 4
    assert count(desk, Event, Event.kind == "mailbox.uidvalidity_changed") == 1


def test_idle_brings_new_mail_within_two_seconds(desk: Desk, dovecot: DovecotServer) -> None:
    stop = threading.Event()
    runner = threading.Thread(target=poller(desk, dovecot).run, args=(stop,), daemon=True)
    runner.start()
    try:
        time.sleep(1.5)  # the poller has connected, synced the empty folder and entered IDLE
        delivered = time.monotonic()
        deadline = delivered + 10
        dovecot.deliver(mail(1))
        while count(desk, Message) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        latency = time.monotonic() - delivered
        assert count(desk, Message) == 1
        assert latency <= 2.0, f"IDLE took {latency:.2f}s"
    finally:
        stop.set()
        runner.join(10)
    assert not runner.is_alive()


def test_restart_mid_idle_reconnects_and_loses_nothing(desk: Desk, dovecot: DovecotServer) -> None:
    stop = threading.Event()
    runner = threading.Thread(target=poller(desk, dovecot).run, args=(stop,), daemon=True)
    runner.start()
    try:
        dovecot.deliver(mail(1))
        deadline = time.monotonic() + 10
        while count(desk, Message) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        dovecot.stop()
        time.sleep(0.5)
        dovecot.start()
        dovecot.deliver(mail(2))
        deadline = time.monotonic() + 20
        while count(desk, Message) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert count(desk, Message) == 2
    finally:
        stop.set()
        runner.join(15)
    assert not runner.is_alive()


CHILD = textwrap.dedent(
    """
    import os, sys
    from sdesk.channels.email import imap
    from sdesk.config import MailboxSettings, Settings
    from sdesk.core.desk import Desk
    from sdesk.store.engine import open_store

    mailbox = MailboxSettings.model_validate_json(sys.argv[2])
    desk = Desk(open_store(sys.argv[1]), Settings(desk_domain="desk.test", mailboxes=[mailbox]))
    poller = imap.MailboxPoller(desk, mailbox, cafile=sys.argv[3])

    def die_before_flags(client, uids):  # killed after the commit, before any \\\\Seen
        print("committed", flush=True)
        os.kill(os.getpid(), 9)

    poller._after_intake = die_before_flags
    poller.fetch_once()
    """
)


@pytest.mark.parametrize("after_intake", ["seen", "move", "leave"])
def test_killed_after_commit_before_flag_is_exactly_once_after_restart(
    desk_path: Path, dovecot: DovecotServer, tmp_path: Path, after_intake: str
) -> None:
    """The \\Seen/move the dead poller owed is applied by the next one, once; "leave" stays
    untouched."""
    extra: dict[str, object] = {"after_intake": after_intake}
    if after_intake == "move":
        dovecot.create_folder("Archive")
        extra["move_to"] = "Archive"
    mailbox = mailbox_for(dovecot, **extra)
    for n in range(3):
        dovecot.deliver(mail(n))
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    child = subprocess.run(
        [sys.executable, str(script), str(desk_path), mailbox.model_dump_json(),
         str(dovecot.cafile)],
        capture_output=True, text=True, timeout=60, env=dict(os.environ),
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "committed" in child.stdout
    uids = dovecot.uids()
    assert len(uids) == 3
    assert all("\\Seen" not in dovecot.flags(uid) for uid in uids)
    desk = open_desk(desk_path, mailbox)
    assert count(desk, Message) == 3  # the commit held
    # The dead poller's lease is still live: a new one waits for it, then takes over.
    from sdesk.core import leases

    with desk.store.write() as s:
        from sdesk.store.models import Lease

        s.execute(Lease.__table__.update().values(expires_at=desk.clock()))
    report = MailboxPoller(desk, mailbox, cafile=str(dovecot.cafile)).fetch_once()
    assert report.fetched == 0
    assert count(desk, Message) == 3
    assert count(desk, RawInbound) <= 3
    assert leases.current(desk, "imap:support") is None
    if after_intake == "seen":
        assert all("\\Seen" in dovecot.flags(uid) for uid in uids)
    elif after_intake == "move":
        assert dovecot.uids() == []
        assert len(dovecot.uids("Archive")) == 3
    else:
        assert dovecot.uids() == uids
        assert all("\\Seen" not in dovecot.flags(uid) for uid in uids)
    # Done once: a further run neither fetches nor moves anything again.
    again = MailboxPoller(desk, mailbox, cafile=str(dovecot.cafile)).fetch_once()
    assert again.fetched == 0
    if after_intake == "move":
        assert len(dovecot.uids("Archive")) == 3
    assert count(desk, Message) == 3
    desk.close()


def test_switching_from_leave_to_seen_flags_only_new_mail(
    desk_path: Path, dovecot: DovecotServer
) -> None:
    old = [dovecot.deliver(mail(n)) for n in range(2)]
    desk = open_desk(desk_path, mailbox_for(dovecot))
    assert poller(desk, dovecot).fetch_once().stored == 2
    desk.close()
    desk = open_desk(desk_path, mailbox_for(dovecot, after_intake="seen"))
    new = dovecot.deliver(mail(5))
    assert poller(desk, dovecot).fetch_once().stored == 1
    assert "\\Seen" in dovecot.flags(new)
    assert all("\\Seen" not in dovecot.flags(uid) for uid in old)
    desk.close()


def test_start_from_now_never_flags_the_mail_that_was_there(
    desk_path: Path, dovecot: DovecotServer
) -> None:
    old = [dovecot.deliver(mail(n)) for n in range(2)]
    desk = open_desk(desk_path, mailbox_for(dovecot, after_intake="seen", start_from="now"))
    assert poller(desk, dovecot).fetch_once().fetched == 0
    new = dovecot.deliver(mail(5))
    assert poller(desk, dovecot).fetch_once().stored == 1
    assert "\\Seen" in dovecot.flags(new)
    assert all("\\Seen" not in dovecot.flags(uid) for uid in old)
    desk.close()


def test_a_desk_busy_past_its_timeout_delays_the_poller_but_does_not_end_it(
    desk_path: Path, dovecot: DovecotServer
) -> None:
    """DeskBusy used to escape the poller's loop and end its thread: mail then stopped coming
    in until a restart. It is a failed round now, retried with backoff, and nothing doubles."""
    box = mailbox_for(dovecot)
    desk = Desk(
        open_store(desk_path, busy_timeout=0.3),
        Settings(desk_domain="desk.test", mailboxes=[box]),
    )
    for n in range(2):
        dovecot.deliver(mail(n))
    holder = hold_write_lock(str(desk_path), 3)
    stop = threading.Event()
    runner = threading.Thread(target=poller(desk, dovecot).run, args=(stop,), daemon=True)
    runner.start()
    try:
        time.sleep(1.0)
        assert runner.is_alive() and count(desk, Message) == 0  # still locked out
        assert holder.wait(timeout=10) == 0
        deadline = time.monotonic() + 20
        while count(desk, Message) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert count(desk, Message) == 2
        assert runner.is_alive()
    finally:
        stop.set()
        runner.join(10)
        holder.kill()
        desk.close()
    assert not runner.is_alive()
    assert count_after_restart(desk_path, box, dovecot) == 2  # exactly once


def count_after_restart(path: Path, box: MailboxSettings, server: DovecotServer) -> int:
    again = open_desk(path, box)
    try:
        poller(again, server).fetch_once()
        return count(again, Message)
    finally:
        again.close()
