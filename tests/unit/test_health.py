"""Mailbox health in the store: states, cheap writes, quarantine counts, safe error lines."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from sdesk.config import MailboxSettings, Settings
from sdesk.core import health
from sdesk.core.cursors import Cursor, acted_through
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel
from sdesk.store.engine import open_store
from sdesk.store.models import MailboxHealth
from tests.conftest import FakeClock


def box(name: str = "support", **extra: object) -> MailboxSettings:
    values: dict[str, object] = {
        "name": name,
        "host": "127.0.0.1",
        "security": "none",
        "username": "u",
        "password_env": "NOT_SET_ANYWHERE",
        "address": f"{name}@desk.test",
    }
    values.update(extra)
    return MailboxSettings(**values)  # type: ignore[arg-type]


def status(desk: Desk, *boxes: MailboxSettings) -> list[health.MailboxStatus]:
    with desk.store.read() as session:
        return health.mailbox_status(session, boxes or (box(),), desk.clock())


def row(desk: Desk, name: str = "support") -> MailboxHealth | None:
    with desk.store.read() as session:
        return session.get(MailboxHealth, name)


def test_never_polled_is_unknown_and_not_troubled(desk: Desk) -> None:
    [s] = status(desk)
    assert (s.state, s.since, s.last_poll_at, s.quarantined) == ("unknown", None, None, 0)
    assert not s.troubled


def test_connect_poll_stop(desk: Desk, clock: FakeClock) -> None:
    rec = health.HealthRecorder(desk, "support", "host:1:imap")
    rec.connected()
    rec.polled()
    [s] = status(desk)
    assert (s.state, s.since, s.last_poll_at) == ("connected", clock.now, clock.now)
    clock.advance(minutes=5)
    rec.stopped()
    [s] = status(desk)
    assert (s.state, s.since, s.last_error) == ("disconnected", clock.now, None)
    assert s.troubled


def test_good_polls_are_stored_at_most_every_few_seconds(desk: Desk, clock: FakeClock) -> None:
    rec = health.HealthRecorder(desk, "support", poll_every=3600)
    rec.connected()
    rec.polled()
    first = clock.now
    clock.advance(seconds=10)
    rec.polled()  # within poll_every: not written
    assert row(desk).last_poll_at == first  # type: ignore[union-attr]
    rec.connected()  # a (re)connection: its first good poll is news again
    rec.polled()
    assert row(desk).last_poll_at == clock.now  # type: ignore[union-attr]


def test_failure_is_an_error_until_the_next_connection(desk: Desk, clock: FakeClock) -> None:
    rec = health.HealthRecorder(desk, "support")
    rec.connected()
    clock.advance(minutes=1)
    rec.failed("mailbox support: login failed: [AUTHENTICATIONFAILED] nope\nsecond line")
    [s] = status(desk)
    assert s.state == "error"
    assert s.last_error == "mailbox support: login failed: [AUTHENTICATIONFAILED] nope"
    assert s.last_error_at == s.since == clock.now
    clock.advance(minutes=1)
    rec.stopped()  # already down: stays an error, keeps its time
    assert status(desk)[0].since == s.since
    rec.connected()
    [s] = status(desk)
    assert s.state == "connected"
    assert s.last_error is not None  # history: the last error is still shown, with its time


def test_error_lines_are_one_safe_short_line() -> None:
    line = health.one_line("\x1b]0;pwned\x07boom [red]x[/] \u202e" + "y" * 500)
    assert "\x1b" not in line and "\u202e" not in line
    assert len(line) == health.ERROR_CHARS
    assert health.one_line("") == "unknown error"


def test_a_connected_poller_that_went_quiet_is_silent(desk: Desk, clock: FakeClock) -> None:
    rec = health.HealthRecorder(desk, "support")
    rec.connected()
    rec.polled()
    clock.advance(minutes=3)
    assert status(desk)[0].state == "silent"
    # a poller without IDLE may wait poll_seconds between polls: that is not silence
    assert status(desk, box(idle=False, poll_seconds=600))[0].state == "connected"


def test_quarantine_is_counted_per_mailbox(desk: Desk) -> None:
    for n, source in enumerate(
        ["imap:support/INBOX/7/1", "imap:support/INBOX/7/2", "imap:sales/INBOX/3/1", "file.eml"]
    ):
        desk.quarantine(channel=Channel.EMAIL, raw=b"junk %d" % n, error="bad", source=source)
    # "_" in a name is literal, not a LIKE wildcard that would count "sales" too
    desk.quarantine(channel=Channel.EMAIL, raw=b"x", error="bad", source="imap:s_les/INBOX/1/1")
    counts = {s.name: s.quarantined for s in status(desk, box(), box("sales"), box("s_les"))}
    assert counts == {"support": 2, "sales": 1, "s_les": 1}


def test_other_mailboxes_rows_do_not_leak_in(desk: Desk) -> None:
    health.HealthRecorder(desk, "old-box").connected()
    assert [s.name for s in status(desk, box("a"), box("b"))] == ["a", "b"]
    assert all(s.state == "unknown" for s in status(desk, box("a")))


def test_silent_after_is_measured_from_the_last_sign_of_life(desk: Desk, clock: FakeClock) -> None:
    rec = health.HealthRecorder(desk, "support", poll_every=0)
    rec.connected()
    for _ in range(4):
        clock.advance(seconds=60)
        rec.polled()
    assert clock.now - status(desk)[0].since > health.SILENT_AFTER  # type: ignore[operator]
    assert status(desk)[0].state == "connected"
    clock.advance(seconds=health.SILENT_AFTER.total_seconds() + 1)
    assert status(desk)[0].state == "silent"
    assert timedelta(0) < health.SILENT_AFTER


def test_upgrading_a_0002_desk_trusts_its_past_after_intake_actions(tmp_path: Path) -> None:
    """A desk made before the "acted through" cursor starts with it at the intake cursor, so the
    upgrade flags or moves nothing that an older sdesk already handled."""
    db = tmp_path / "d.db"
    desk = Desk(open_store(db), Settings(desk_domain="desk.test"))
    with desk.batch() as batch:
        batch.set_cursor(Channel.EMAIL, "support", "INBOX", Cursor("77", "41"))
    desk.close()
    with sqlite3.connect(db) as conn:  # back to what 0002 made
        conn.execute("DROP TABLE mailbox_health")
        conn.execute("UPDATE alembic_version SET version_num = '0002'")
    upgraded = open_store(db)
    with upgraded.read() as session:
        assert acted_through(session, "email", "support", "INBOX", "77") == 41
        assert acted_through(session, "email", "support", "INBOX", "78") == 0  # other validity
        assert session.get(MailboxHealth, "support") is None
    upgraded.dispose()
