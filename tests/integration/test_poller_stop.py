"""A poller asked to stop in the middle of a long first sync (``sdesk serve`` got SIGTERM): it
stores what it fetched, fetches nothing more and returns within seconds, its cursor exactly at
what it stored; the next run takes the rest, each message once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sdesk.channels.email.imap import MailboxPoller
from sdesk.core.cursors import get_cursor
from sdesk.core.desk import Desk
from sdesk.store.models import RawInbound
from tests.integration.mailservers import DovecotServer
from tests.integration.test_imap_poller import mail, mailbox_for, open_desk

pytestmark = pytest.mark.timeout(240)

N = 3000  # 30 chunks of 100: far more than the poller ever holds between FETCH and store


@pytest.fixture
def desk(tmp_path: Path, dovecot: DovecotServer) -> Iterator[Desk]:
    d = open_desk(tmp_path / "desk.db", mailbox_for(dovecot))
    yield d
    d.close()


def stored(desk: Desk) -> tuple[int, int]:
    """Messages stored and the INBOX cursor's last UID."""
    with desk.store.read() as s:
        count = s.execute(select(func.count()).select_from(RawInbound)).scalar_one()
        cursor = get_cursor(s, "email", "support", "INBOX")
    return count, int(cursor.position or 0) if cursor is not None else 0


def test_a_stop_during_a_long_sync_ends_it_with_the_cursor_on_what_was_stored(
    desk: Desk, dovecot: DovecotServer
) -> None:
    with dovecot.session() as imap:
        for n in range(1, N + 1):
            assert imap.append("INBOX", None, None, mail(n))[0] == "OK"
    stop = threading.Event()
    poller = MailboxPoller(desk, desk.settings.mailboxes[0], cafile=str(dovecot.cafile))
    thread = threading.Thread(target=poller.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while stored(desk)[0] == 0:  # the first chunk committed: the sync is under way
        assert time.monotonic() < deadline, "the sync never started"
        time.sleep(0.005)
    stop.set()
    stopped_at = time.monotonic()
    thread.join(20)
    assert not thread.is_alive(), "the poller went on syncing after the stop"
    assert time.monotonic() - stopped_at < 10
    count, cursor = stored(desk)
    assert 0 < count < N, f"stopped after {count} of {N}"
    assert cursor == count  # UIDs 1..N in order: the cursor is exactly at what was stored

    rest = MailboxPoller(desk, desk.settings.mailboxes[0], cafile=str(dovecot.cafile))
    report = rest.fetch_once()
    assert report.fetched == N - count and report.duplicates == 0
    assert stored(desk) == (N, N)
