"""The console while others work: new tickets and messages from other processes show up within
two seconds (the console polls every second), urgent ones raise a toast and ring the bell, and
each console sees who else is viewing or answering a ticket.

"Another process" is a second ``Desk`` on the same SQLite file, used from a thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from sdesk.core.desk import Desk
from sdesk.core.enums import Priority
from sdesk.tui.app import SdeskApp
from sdesk.tui.compat import notifications
from sdesk.tui.screens.desk import DeskScreen
from sdesk.tui.widgets.inbox import InboxList
from sdesk.tui.widgets.textpane import TextPane
from tests.factories import email
from tests.tui.conftest import AppFactory, make_desk, running, settle
from tests.tui.screen import screen_text

LIVE_WITHIN = 2.0  # seconds from another process's commit to the console showing it


@pytest.fixture
def other(demo_path: Path) -> Iterator[Desk]:
    """Another process on the same desk file."""
    desk = make_desk(demo_path)
    yield desk
    desk.close()


def desk_screen(app: SdeskApp) -> DeskScreen:
    screen = app.screen
    assert isinstance(screen, DeskScreen), f"expected the desk screen, not {screen!r}"
    return screen


def inbox(app: SdeskApp) -> InboxList:
    return desk_screen(app).query_one(InboxList)


def header(app: SdeskApp) -> str:
    return str(desk_screen(app).query_one("#ticket-header", Static).content)


def filter_bar(app: SdeskApp) -> str:
    return str(desk_screen(app).query_one("#filterbar", Static).content)


def thread(app: SdeskApp) -> str:
    return desk_screen(app).query_one("#thread", TextPane).plain


async def wait_for(
    pilot: Pilot[None], ready: Callable[[], bool], what: str, seconds: float = 3.0
) -> float:
    """Pause in small steps until ``ready()``; returns the seconds it took."""
    start = time.monotonic()
    while not ready():
        assert time.monotonic() - start < seconds, f"{what}: not within {seconds} s"
        await pilot.pause(0.05)
    return time.monotonic() - start


async def polled_once(pilot: Pilot[None]) -> None:
    """Wait for the console's first look at the store (it compares later looks with it)."""
    app: SdeskApp = pilot.app  # type: ignore[assignment]
    await wait_for(pilot, lambda: app.stamp is not None, "the live baseline")


async def open_ticket(pilot: Pilot[None], number: int) -> None:
    rows = inbox(pilot.app)  # type: ignore[arg-type]
    numbers = [r.number for r in rows.rows]
    assert number in numbers
    delta = numbers.index(number) - rows.cursor
    for _ in range(abs(delta)):
        await pilot.press("down" if delta > 0 else "up")
    await pilot.press("enter")
    await settle(pilot)
    detail = desk_screen(pilot.app).detail  # type: ignore[arg-type]
    assert detail is not None and detail.ticket.number == number


def in_inbox(app: SdeskApp, number: int) -> bool:
    return number in [r.number for r in inbox(app).rows]


async def test_a_new_ticket_appears_in_the_inbox(
    demo_desk: Desk, other: Desk, make_app: AppFactory
) -> None:
    app = make_app(demo_desk)
    async with running(app) as pilot:
        # The ticket comes in as soon as the console shows its inbox (an operator starting the
        # console in a busy minute): the intake commits when this call returns.
        active = desk_screen(app).counts.active  # type: ignore[union-attr]
        result = other.intake(email("<new-1@example.org>", subject="Modem blinks orange"))
        committed = time.monotonic()
        number = result.ticket_number
        assert number is not None and not in_inbox(app, number)
        await wait_for(pilot, lambda: in_inbox(app, number), "the new ticket")
        assert time.monotonic() - committed <= LIVE_WITHIN
        await wait_for(pilot, lambda: f"Active {active + 1}" in filter_bar(app), "the count")


async def test_a_new_urgent_ticket_raises_a_toast_and_rings(
    demo_desk: Desk, other: Desk, make_app: AppFactory
) -> None:
    app = make_app(demo_desk)
    bells: list[float] = []
    app.bell = lambda: bells.append(time.monotonic())  # type: ignore[method-assign]
    async with running(app) as pilot:
        await polled_once(pilot)
        urgent = dataclasses.replace(
            email("<urgent-1@example.org>", subject="Whole street is offline"),
            priority=Priority.URGENT,
        )
        number = (await asyncio.to_thread(other.intake, urgent)).ticket_number
        committed = time.monotonic()
        assert number is not None

        def toasted() -> bool:
            return any(
                n.title == "New urgent ticket" and f"#{number}" in n.message
                for n in notifications(app)
            )

        await wait_for(pilot, toasted, "the urgent toast")
        await wait_for(pilot, lambda: in_inbox(app, number), "the urgent ticket in the inbox")
        assert time.monotonic() - committed <= LIVE_WITHIN
        assert len(bells) == 1  # (toasts are not drawn under run_test; the record is checked)


def inbox_line(app: SdeskApp, number: int) -> str:
    return next(x for x in screen_text(app).splitlines() if x.startswith(f"#{number} "))


async def test_presence_of_another_agent(
    demo_desk: Desk, other: Desk, make_app: AppFactory
) -> None:
    mine = make_app(demo_desk, "mia.chen")
    theirs = make_app(other, "dmitri.volkov")
    async with running(mine) as pilot, running(theirs) as their_pilot:
        row = inbox(mine).current
        assert row is not None
        number = row.number
        await open_ticket(their_pilot, number)
        await their_pilot.press("r", *"Looking")
        await settle(their_pilot)

        replying = ("dmitri.volkov", "replying")
        await wait_for(
            pilot, lambda: replying in inbox(mine).presence.get(number, ()), "presence in the inbox"
        )
        await settle(pilot)
        line_replying = inbox_line(mine, number)

        await open_ticket(pilot, number)
        assert "dmitri.volkov is replying" in header(mine)
        assert "dmitri.volkov is replying" in screen_text(mine)

        await their_pilot.press("escape")
        await settle(their_pilot)
        await wait_for(pilot, lambda: "dmitri.volkov is viewing" in header(mine), "viewing again")
        assert "dmitri.volkov is replying" not in header(mine)
        assert "dmitri.volkov is viewing" in screen_text(mine)
        await pilot.press("escape")
        await settle(pilot)
        line_viewing = inbox_line(mine, number)

        # the inbox row's last column marks it: ✎ someone replies, ◉ someone looks
        assert "✎" in line_replying, line_replying
        assert "◉" in line_viewing and "✎" not in line_viewing, line_viewing


async def test_a_new_message_appears_in_the_open_thread(
    demo_desk: Desk, other: Desk, make_app: AppFactory
) -> None:
    app = make_app(demo_desk)
    async with running(app) as pilot:
        row = inbox(app).current
        assert row is not None
        await open_ticket(pilot, row.number)
        await polled_once(pilot)
        answer = email(
            "<answer-1@example.org>",
            subject=f"Re: {row.subject} [#{row.number}]",
            text="The line is back, thank you!",
        )
        result = await asyncio.to_thread(other.intake, answer)
        assert result.ticket_number == row.number
        took = await wait_for(
            pilot, lambda: "The line is back, thank you!" in thread(app), "the new message"
        )
        assert took <= LIVE_WITHIN
        await settle(pilot)
        assert "The line is back, thank you!" in screen_text(app)  # visible, not below
