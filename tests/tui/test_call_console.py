"""A call in the console: placed with `c`, shown on its ticket with its state and a running
timer while it lasts, hung up with `H`, and its outcome afterwards. Twilio's side is played by
the core acts its sender and webhooks call (``Desk.phone``); the Twilio path itself is tested
in ``tests/twilio``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from sdesk.core.desk import Desk
from sdesk.store.models import Outbox, PhoneCall
from tests.conftest import FakeClock
from tests.tui.conftest import AppFactory, running, settle
from tests.tui.screen import screen_text
from tests.tui.test_desk_actions import notices, open_ticket, with_phones
from tests.tui.test_snapshots import _app, scenario

SID = "CA" + "f" * 32


def placed(desk: Desk) -> PhoneCall:
    """Twilio took the call the console asked for (what the outbox sender records)."""
    with desk.store.read() as s:
        call = s.execute(select(PhoneCall).order_by(PhoneCall.id.desc())).scalars().first()  # type: ignore[union-attr]  # a column
        assert call is not None
        s.expunge(call)
    assert call.id is not None
    desk.phone.call_placed(call.id, SID)
    return call


async def test_a_call_shows_its_state_timer_hang_up_and_outcome(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    clock = demo_desk.clock
    assert isinstance(clock, FakeClock)
    number = with_phones(demo_desk, 1)[0]
    app = make_app(demo_desk)
    async with running(app, size=(120, 30)) as pilot:
        screen = await open_ticket(pilot, number)
        assert screen.card is not None
        (phone,) = screen.card.phones
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert any("your phone rings first" in n for n in notices(app)), notices(app)
        assert f"call to {phone} ● placing 0:00" in screen_text(app)

        placed(demo_desk)
        demo_desk.phone.call_status(SID, "ringing")
        await pilot.pause(1.5)  # the desk's live poll reloads the ticket
        await settle(pilot)
        assert "● ringing 0:00" in screen_text(app)
        demo_desk.phone.call_status(SID, "in-progress")
        await pilot.pause(1.5)
        await settle(pilot)
        clock.advance(seconds=75)
        await pilot.pause(1.2)  # the timer ticks every second
        assert "● in progress 1:15  (H: hang up)" in screen_text(app)

        await pilot.press("H")
        await settle(pilot)
        assert any(n.endswith("hanging up") for n in notices(app)), notices(app)
        with demo_desk.store.read() as s:
            hangup = s.execute(select(Outbox).where(Outbox.kind == "hangup")).scalar_one()
        assert hangup.payload == f'{{"op": "hangup", "sid": "{SID}", "status": "completed"}}'
        await pilot.pause(1.2)
        assert "(hanging up)" in screen_text(app)

        demo_desk.phone.call_status(SID, "completed", 80)  # Twilio's callback
        await pilot.pause(1.5)
        await settle(pilot)
        text = screen_text(app)
        assert "H: hang up" not in text and "✓ completed 1:20" in text


def _call_under_way(desk: Desk, number: int) -> Callable[[Any], Any]:
    async def run(pilot: Any) -> None:
        screen = await open_ticket(pilot, number)
        assert screen.card is not None
        desk.call_customer(number, "mia.chen", screen.card.phones[0])
        placed(desk)
        desk.phone.call_status(SID, "ringing")
        desk.phone.call_status(SID, "in-progress")
        clock = desk.clock
        assert isinstance(clock, FakeClock)
        clock.advance(seconds=42)
        screen.reload(scroll_end=True)
        await settle(pilot)

    return run


def test_snapshot_of_a_call_under_way(
    snap_compare: Callable[..., bool], demo_desk: Desk, make_app: AppFactory
) -> None:
    """The open ticket with its call in progress: the header's call line with the timer and the
    key that hangs up, and the call-log entry at the end of the thread."""
    number = with_phones(demo_desk, 1)[0]
    run = scenario(then=_call_under_way(demo_desk, number))
    assert snap_compare(_app(demo_desk, make_app), terminal_size=(100, 30), run_before=run)
