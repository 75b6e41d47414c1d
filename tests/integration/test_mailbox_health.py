"""Mailbox health as the real poller records it against a real Dovecot: connected, good polls,
errors (never the password), disconnects and quarantined mail."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sdesk.channels.email.imap import MailboxError, MailboxPoller
from sdesk.channels.email.login import PROTOCOL_LOGGER, close_client, connect
from sdesk.config import MailboxSettings
from sdesk.core import health
from sdesk.core.desk import Desk
from tests.integration.mailservers import DovecotServer
from tests.integration.test_imap_poller import mail, mailbox_for, open_desk

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def desk(tmp_path: Path, dovecot: DovecotServer) -> Iterator[Desk]:
    d = open_desk(tmp_path / "desk.db", mailbox_for(dovecot))
    yield d
    d.close()


def status(desk: Desk) -> health.MailboxStatus:
    with desk.store.read() as session:
        [s] = health.mailbox_status(session, desk.settings.mailboxes, desk.clock())
    return s


def wait_for(check: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def poller(desk: Desk, server: DovecotServer) -> MailboxPoller:
    return MailboxPoller(desk, desk.settings.mailboxes[0], cafile=str(server.cafile))


def test_fetch_once_records_a_good_poll_then_a_clean_disconnect(
    desk: Desk, dovecot: DovecotServer
) -> None:
    dovecot.deliver(mail(1))
    poller(desk, dovecot).fetch_once()
    s = status(desk)
    assert s.state == "disconnected"
    assert s.last_poll_at is not None and s.last_error is None


def test_a_wrong_password_is_an_error_without_the_password(
    tmp_path: Path, dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = mailbox_for(dovecot)
    monkeypatch.setenv("SDESK_TEST_IMAP_PASSWORD", "Sup3r-Secret-Wrong")
    desk = open_desk(tmp_path / "desk.db", box)
    with pytest.raises(MailboxError):
        poller(desk, dovecot).fetch_once()
    s = status(desk)
    assert s.state == "error"
    assert s.last_error is not None and "login failed" in s.last_error
    assert "Sup3r-Secret-Wrong" not in s.last_error
    desk.close()


def test_running_poller_connects_survives_a_restart_and_says_when_stopped(
    desk: Desk, dovecot: DovecotServer
) -> None:
    stop = threading.Event()
    runner = threading.Thread(target=poller(desk, dovecot).run, args=(stop,), daemon=True)
    runner.start()
    try:
        wait_for(lambda: status(desk).state == "connected" and status(desk).last_poll_at)
        dovecot.stop()
        wait_for(lambda: status(desk).state == "error")
        down = status(desk)
        assert down.last_error and down.last_error_at is not None
        dovecot.start()
        wait_for(lambda: status(desk).state == "connected", seconds=30)
        assert status(desk).last_error == down.last_error  # the last error stays visible
    finally:
        stop.set()
        runner.join(15)
    assert not runner.is_alive()
    assert status(desk).state == "disconnected"


def test_a_waiting_poller_does_not_overwrite_the_holders_health(
    desk: Desk, dovecot: DovecotServer
) -> None:
    stop = threading.Event()
    first, second = poller(desk, dovecot), poller(desk, dovecot)
    second.holder += ":second"
    runners = [threading.Thread(target=p.run, args=(stop,), daemon=True) for p in (first, second)]
    runners[0].start()
    wait_for(lambda: status(desk).state == "connected")
    runners[1].start()
    time.sleep(0.5)
    stop.set()
    runners[1].join(15)  # the waiting one stops: it held nothing, so it writes nothing
    with desk.store.read() as session:
        from sdesk.store.models import MailboxHealth

        row = session.get(MailboxHealth, "support")
        assert row is not None and row.holder == first.holder
    runners[0].join(15)
    assert not any(r.is_alive() for r in runners)


def test_quarantined_mail_is_counted_for_its_mailbox(desk: Desk, dovecot: DovecotServer) -> None:
    junk = bytes(range(1, 9)) * 64  # no headers and not text: the parser gives up
    dovecot.deliver(junk)
    dovecot.deliver(mail(2))
    report = poller(desk, dovecot).fetch_once()
    assert (report.quarantined, report.stored) == (1, 1)
    assert status(desk).quarantined == 1


def fetch_all(box: MailboxSettings, server: DovecotServer) -> int:
    """Connect as the poller does and FETCH every body; how imaplib's trace was set."""
    client = connect(box, cafile=str(server.cafile))
    try:
        level = client._imap.debug
        client.select_folder("INBOX", readonly=True)
        assert client.fetch(client.search(["ALL"]), ["BODY.PEEK[]"])
    finally:
        close_client(client)
    return level


def test_the_protocol_trace_is_formatted_only_for_a_logger_that_prints_it(
    dovecot: DovecotServer, caplog: pytest.LogCaptureFixture
) -> None:
    """imapclient turns imaplib's trace up to 5, where every response, bodies included, is
    formatted with %r; by default nobody reads it, so the poller turns it off."""
    dovecot.deliver(mail(1))
    box = mailbox_for(dovecot)
    assert fetch_all(box, dovecot) == 0
    assert not [r for r in caplog.records if r.name == PROTOCOL_LOGGER]

    caplog.set_level(logging.DEBUG, logger=PROTOCOL_LOGGER)  # troubleshooting a server
    assert fetch_all(box, dovecot) == 5
    trace = "\n".join(r.getMessage() for r in caplog.records if r.name == PROTOCOL_LOGGER)
    assert "FETCH" in trace and "Problem number 1" in trace
    assert dovecot.password not in trace  # imapclient redacts the LOGIN
