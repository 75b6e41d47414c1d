"""Presence: who views or answers which ticket, for collision warnings between consoles."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from sdesk.core import presence
from sdesk.core.desk import Desk
from sdesk.store.models import Event, Presence
from tests.conftest import FakeClock


def others(desk: Desk, me: str) -> dict[int, tuple[tuple[str, str], ...]]:
    with desk.store.read() as s:
        return presence.others(s, me, desk.clock())


def stored(desk: Desk) -> dict[str, tuple[int, str]]:
    with desk.store.read() as s:
        rows = s.execute(select(Presence)).scalars()
        return {p.agent: (p.ticket_number, p.activity) for p in rows}


def test_announce_viewing_then_replying(desk: Desk, clock: FakeClock) -> None:
    desk.announce("dana", 1001)
    assert others(desk, "eli") == {1001: (("dana", "viewing"),)}
    clock.advance(seconds=5)
    desk.announce("dana", 1001, presence.REPLYING)
    assert others(desk, "eli") == {1001: (("dana", "replying"),)}
    assert stored(desk) == {"dana": (1001, "replying")}  # one row per agent, updated


def test_others_leaves_me_out(desk: Desk) -> None:
    desk.announce("dana", 1001)
    desk.announce("eli", 1002, presence.REPLYING)
    assert others(desk, "dana") == {1002: (("eli", "replying"),)}
    assert others(desk, "eli") == {1001: (("dana", "viewing"),)}
    assert others(desk, "sam") == {1001: (("dana", "viewing"),), 1002: (("eli", "replying"),)}


def test_moving_to_another_ticket_leaves_the_first(desk: Desk) -> None:
    desk.announce("dana", 1001)
    desk.announce("dana", 1002)
    assert others(desk, "eli") == {1002: (("dana", "viewing"),)}


def test_a_heartbeat_expires_after_the_ttl(desk: Desk, clock: FakeClock) -> None:
    assert timedelta(seconds=15) == presence.TTL
    desk.announce("dana", 1001)
    clock.advance(seconds=15)
    assert others(desk, "eli") == {1001: (("dana", "viewing"),)}  # still within the TTL
    clock.advance(seconds=1)
    assert others(desk, "eli") == {}  # a console killed mid-reply stops showing


def test_a_refreshed_heartbeat_lives_on(desk: Desk, clock: FakeClock) -> None:
    desk.announce("dana", 1001)
    for _ in range(5):
        clock.advance(seconds=10)
        desk.announce("dana", 1001)
    clock.advance(seconds=10)
    assert others(desk, "eli") == {1001: (("dana", "viewing"),)}


def test_none_clears(desk: Desk) -> None:
    desk.announce("dana", 1001, presence.REPLYING)
    desk.announce("dana", None)
    assert others(desk, "eli") == {}
    assert stored(desk) == {}
    desk.announce("dana", None)  # clearing twice is harmless
    assert stored(desk) == {}


def test_two_agents_on_one_ticket(desk: Desk) -> None:
    desk.announce("eli", 1001, presence.REPLYING)
    desk.announce("dana", 1001)
    desk.announce("sam", 1001)
    assert others(desk, "sam") == {1001: (("dana", "viewing"), ("eli", "replying"))}
    assert others(desk, "zoe") == {
        1001: (("dana", "viewing"), ("eli", "replying"), ("sam", "viewing"))
    }


def test_long_dead_rows_are_swept_by_the_next_heartbeat(desk: Desk, clock: FakeClock) -> None:
    desk.announce("dana", 1001)
    clock.advance(seconds=20)  # expired, but kept a little while
    desk.announce("eli", 1002)
    assert set(stored(desk)) == {"dana", "eli"}
    clock.advance(seconds=20)  # dana's row is now more than a TTL past its expiry
    desk.announce("eli", 1002)
    assert stored(desk) == {"eli": (1002, "viewing")}
    assert others(desk, "sam") == {1002: (("eli", "viewing"),)}


def test_announce_writes_no_audit_event_and_needs_no_ticket(desk: Desk) -> None:
    desk.announce("dana", 424242)  # a heartbeat is not an act: no ticket lookup, no event
    with desk.store.read() as s:
        assert s.execute(select(Event)).first() is None
    assert others(desk, "eli") == {424242: (("dana", "viewing"),)}
