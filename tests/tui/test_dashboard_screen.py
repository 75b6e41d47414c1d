"""The dashboard screen on a real desk: loads in a worker, shows the numbers, closes on esc/d.

Each test drives its Pilot with ``asyncio.run``, so no async pytest plugin is needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, cast

import pytest
from rich.text import Text
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind, Priority
from sdesk.core.inbound import ContactRef
from sdesk.tui.screens.dashboard import DashboardScreen
from tests.conftest import T0, FakeClock
from tests.factories import chat, email


class Host(App[None]):
    """The smallest app that opens the dashboard, as the console does on ``d``."""

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk

    def on_mount(self) -> None:
        self.push_screen(DashboardScreen(self.desk))


@pytest.fixture
def today(desk: Desk, clock: FakeClock) -> Desk:
    """Three tickets this morning: one answered after 2 h 05 min and rated 4, one urgent and
    already overdue, one on Telegram."""
    desk.add_agent("agent", name="Agent")
    clock.now = T0 - timedelta(hours=3)
    answered = desk.intake(email("a@x", frm="a@example.org", subject="A")).ticket_number
    urgent = desk.intake(email("u@x", frm="u@example.org", subject="U")).ticket_number
    assert answered and urgent
    desk.set_priority(urgent, "agent", Priority.URGENT)
    clock.advance(hours=2)
    desk.intake(chat(Channel.TELEGRAM, "tg-1", "hi", ContactRef(ContactKind.TELEGRAM, "7")))
    clock.advance(minutes=5)
    desk.reply(answered, "agent", "done")
    desk.rate(answered, 4)
    clock.now = T0
    return desk


async def opened(pilot: Pilot[None]) -> DashboardScreen:
    for _ in range(100):  # the worker answers in milliseconds; 5 s is for a loaded CI box
        screen = pilot.app.screen
        if isinstance(screen, DashboardScreen) and screen.loaded:
            await pilot.pause()
            return screen
        await pilot.pause(0.05)
    raise AssertionError("the dashboard did not load within 5 s")


def shown(screen: DashboardScreen, selector: str) -> str:
    content = screen.query_one(selector, Static).content
    return content.plain if isinstance(content, Text) else str(content)


def ends(screen: DashboardScreen, selector: str) -> tuple[str, str]:
    """A bar row's label and count, whatever the bar between them looks like."""
    words = shown(screen, selector).split()
    return words[0], words[-1]


def test_numbers_at_80x24_and_esc_closes(today: Desk) -> None:
    async def scenario() -> None:
        app = Host(today)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await opened(pilot)
            assert screen.error is None
            assert shown(screen, "#dashboard-title").startswith("Dashboard  last 14 days, 20 Oct")
            chart = shown(screen, "#channels").splitlines()
            days = [str(d) for d in (*range(20, 32), 1, 2)]
            assert chart[-1].split() == days  # every day named under its column
            mail = next(line for line in chart if line.startswith("MAIL"))
            tg = next(line for line in chart if line.startswith("TG"))
            assert mail.split()[-1] == "2" and tg.split()[-1] == "1"
            assert "█" in mail and "SMS" not in "".join(chart)  # no tickets: no row
            assert ends(screen, "#priority-urgent") == ("Urgent", "1")
            assert shown(screen, "#priority-high").split() == ["High", "0"]  # no bar for none
            assert ends(screen, "#priority-normal") == ("Normal", "2")
            assert "█" in shown(screen, "#priority-normal")
            assert shown(screen, "#priority-total").split() == ["All", "open", "3"]
            assert shown(screen, "#breached-now").split()[-1] == "1"
            assert screen.query_one("#breached-now").has_class("bad")
            assert shown(screen, "#breached-period").split()[-1] == "1"
            assert shown(screen, "#first-response").endswith("2 h 05 min")
            assert shown(screen, "#answered").split()[-1] == "1"
            assert shown(screen, "#satisfaction-mean").split() == ["4.0", "/", "5", "1", "rating"]
            scores = shown(screen, "#satisfaction-scores").splitlines()
            assert [line[0] for line in scores] == ["5", "4", "3", "2", "1"]
            assert scores[1].endswith("█ 1") and scores[0].endswith(" 0")
            for panel in screen.query(".panel"):  # everything fits on the screen
                assert panel.region.height > 2 and panel.region.bottom <= 23
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, DashboardScreen)

    asyncio.run(scenario())


def test_wider_screen_gets_taller_bands_and_weekday_labels(today: Desk) -> None:
    async def scenario() -> None:
        app = Host(today)
        async with app.run_test(size=(160, 48)) as pilot:
            screen = await opened(pilot)
            chart = shown(screen, "#channels").splitlines()
            assert "Tue 20" in chart[-1] and "Mon 2" in chart[-1]
            assert len(chart) > 2 * 2 + 1  # more than one line per channel, and the axis
            assert max(len(line) for line in chart) > 120
            assert "█" * 8 in next(line for line in chart if line.startswith("MAIL"))
            assert shown(screen, "#priority-normal").startswith("Normal ")
            await pilot.press("d")
            await pilot.pause()
            assert not isinstance(app.screen, DashboardScreen)

    asyncio.run(scenario())


def test_an_empty_desk_says_so(desk: Desk) -> None:
    async def scenario() -> None:
        app = Host(desk)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await opened(pilot)
            assert shown(screen, "#channels") == "No new tickets in the last 14 days."
            assert shown(screen, "#first-response").split()[-1] == "—"
            assert shown(screen, "#satisfaction-mean") == "No ratings yet."
            assert not screen.query_one("#satisfaction-scores").display

    asyncio.run(scenario())


class BrokenStore:
    @contextmanager
    def read(self) -> Iterator[Any]:
        raise RuntimeError("database is locked\nwith a second line nobody needs")
        yield


class BrokenDesk:
    store = BrokenStore()

    def clock(self) -> Any:
        return T0


def test_a_failed_load_is_one_line_on_the_screen() -> None:
    async def scenario() -> None:
        app = Host(cast(Desk, BrokenDesk()))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await opened(pilot)
            banner = screen.query_one("#dashboard-error", Static)
            assert banner.display
            message = "Could not load the dashboard: database is locked"
            assert shown(screen, "#dashboard-error") == screen.error == message

    asyncio.run(scenario())
