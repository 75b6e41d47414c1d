"""A large sync against a real Dovecot: chunk by chunk, parsed ahead, every message once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from sdesk.channels.email import fetching
from sdesk.core.cursors import get_cursor
from sdesk.store.models import Message, RawInbound
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
