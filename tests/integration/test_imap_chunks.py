"""A large sync against a real Dovecot: chunk by chunk, parsed ahead, every message once."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import col

from sdesk.channels.email import fetching
from sdesk.channels.services import MailboxService
from sdesk.core.cursors import get_cursor
from sdesk.core.desk import Desk
from sdesk.store.models import Message, RawInbound
from sdesk.store.rawcodec import BLOBS, ZSTD_MAIL1
from tests.integration.mailservers import DovecotServer
from tests.integration.test_imap_poller import count, mail, mailbox_for, open_desk, poller


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 7 and a parser process from the first message, so 50 messages take the path a
    first sync of a large mailbox takes."""
    monkeypatch.setattr(fetching, "CHUNK", 7)
    monkeypatch.setattr(fetching, "PARSE_AHEAD_FROM", 1)


@pytest.mark.usefixtures("small_chunks")
def test_a_large_sync_stores_each_message_once_then_flags_them(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    mailbox = mailbox_for(dovecot, after_intake="seen", max_message_mb=1)
    desk = open_desk(tmp_path / "desk.db", mailbox)
    junk = bytes(range(1, 9)) * 64
    big = mail(900)[:-2] + b"x" * (1024 * 1024 + 10) + b"\r\n"
    uids = [dovecot.deliver(junk if n == 13 else mail(n)) for n in range(45)]
    uids.append(dovecot.deliver(mail(3)))  # the same bytes again: a duplicate
    uids.append(dovecot.deliver(big))  # over the cap: its headers only
    uids += [dovecot.deliver(mail(n)) for n in range(45, 50)]
    report = poller(desk, dovecot).fetch_once()
    assert (report.fetched, report.stored, report.duplicates) == (52, 50, 1)
    assert (report.quarantined, report.oversized) == (1, 1)
    assert count(desk, Message) == 50 and count(desk, RawInbound) == 51
    with desk.store.read() as s:
        assert get_cursor(s, "email", "support", "INBOX").position == str(uids[-1])  # type: ignore[union-attr]
        hits = "SELECT count(*) FROM message_fts WHERE message_fts MATCH 'body'"
        assert s.execute(text(hits)).scalar() == 49  # all but the stub
    assert all("\\Seen" in dovecot.flags(uid) for uid in uids)
    assert poller(desk, dovecot).fetch_once().fetched == 0
    desk.close()


def until(check: Callable[[], bool], seconds: float) -> bool:
    """Whether ``check`` holds within ``seconds`` (polled every 50 ms)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def unpacked(desk: Desk) -> int:
    return count(desk, RawInbound, col(RawInbound.raw_codec).is_(None))


@pytest.mark.usefixtures("small_chunks")
def test_sdesk_fetch_packs_what_a_large_sync_kept_as_it_came(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    """The sync stores each raw message as it came (the inbox fills sooner); the same pass
    then packs them all, and each still gives its exact bytes back."""
    mailbox = mailbox_for(dovecot)
    desk = open_desk(tmp_path / "desk.db", mailbox)
    raws = {hashlib.sha256(m).hexdigest(): m for m in (mail(n) for n in range(30))}
    for raw in raws.values():
        dovecot.deliver(raw)
    service = MailboxService(desk, mailbox, cafile=str(dovecot.cafile))
    report = service.poller.fetch_once()
    assert report.stored == 30 and unpacked(desk) == 30
    line = service.run_once().line  # ``sdesk fetch``: nothing new, and the packing
    assert line == (
        "support: fetched 0, new 0, duplicates 0, quarantined 0, oversized 0, "
        "packed 30 raw messages"
    )
    assert unpacked(desk) == 0
    with desk.store.read() as s:
        rows = s.execute(select(RawInbound)).scalars().all()
        assert {row.raw_codec for row in rows} <= {ZSTD_MAIL1, BLOBS}
        assert {row.sha256: row.original(desk.store.blobs.get) for row in rows} == raws
        assert sum(len(row.raw) for row in rows) < 0.8 * sum(map(len, raws.values()))
    assert service.poller.pack_unpacked() is None  # done: no query until the next large sync
    desk.close()


@pytest.mark.usefixtures("small_chunks")
def test_the_long_run_packs_after_its_large_sync_before_it_waits(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    mailbox = mailbox_for(dovecot)
    desk = open_desk(tmp_path / "desk.db", mailbox)
    for n in range(20):
        dovecot.deliver(mail(n))
    stop = threading.Event()
    runner = threading.Thread(target=poller(desk, dovecot).run, args=(stop,), daemon=True)
    runner.start()
    try:
        synced = until(lambda: count(desk, RawInbound) == 20 and not unpacked(desk), 20)
        assert synced and count(desk, Message) == 20
        dovecot.deliver(mail(99))  # and it still waits in IDLE for news
        assert until(lambda: count(desk, Message) == 21, 10)
    finally:
        stop.set()
        runner.join(10)
    assert not runner.is_alive()
    desk.close()
