"""Mailbox health in the console: the dashboard's Mailboxes panel and the desk's top-bar mark,
both read from the store the pollers write (``sdesk.core.health``), server text shown literally.

Each test drives its Pilot with ``asyncio.run``, so no async pytest plugin is needed.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App
from textual.content import Content
from textual.widgets import Static

from sdesk.config import MailboxSettings
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel
from sdesk.core.health import HealthRecorder
from sdesk.tui.screens import dashboard
from sdesk.tui.screens.dashboard import DashboardScreen
from sdesk.tui.screens.desk import DeskScreen
from sdesk.tui.widgets.topbar import TopBar
from tests.conftest import FakeClock
from tests.tui.conftest import NOW, AppFactory, make_desk, running, settle
from tests.tui.test_dashboard_screen import Host, opened, shown

HOSTILE = "login failed: [bold]x[/] [@click=app.quit]q[/] \x1b[2J\x1b]0;owned\x07 \u202eevil"


def box(name: str) -> MailboxSettings:
    return MailboxSettings(
        name=name,
        host="127.0.0.1",
        security="none",
        username="u",
        password_env="SDESK_TEST_UNUSED",
        address=f"{name}@desk.test",
    )


def troubled_desk(path: Path, clock: FakeClock) -> Desk:
    """Three mailboxes: support polled a minute ago; sales failed two hours ago with hostile
    server text and has one message in quarantine; billing was never polled."""
    desk = make_desk(path, clock, mailboxes=[box("support"), box("sales"), box("billing")])
    clock.now = NOW - timedelta(hours=2)
    HealthRecorder(desk, "sales").failed(HOSTILE)
    desk.quarantine(channel=Channel.EMAIL, raw=b"junk", error="bad", source="imap:sales/INBOX/1/9")
    clock.now = NOW - timedelta(minutes=1)
    support = HealthRecorder(desk, "support")
    support.connected()
    support.polled()
    clock.now = NOW
    return desk


def plain_text(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def test_dashboard_panel_shows_each_mailbox_and_the_error_literally(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    desk = troubled_desk(tmp_path / "desk.db", clock)

    async def scenario() -> None:
        app = Host(desk)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await opened(pilot)
            lines = shown(screen, "#mailboxes").splitlines()
            header = ["Mailbox", "State", "For", "Polled", "Quar.", "Last", "error"]
            assert lines[0].split() == header
            assert lines[1].split()[:6] == ["support", "connected", "1m", "1m", "0", "—"]
            sales = lines[2]
            assert sales.split()[:6] == ["sales", "error", "2h", "—", "1", "2h"]
            assert "login failed: [bold]x[/]" in sales  # markup stays text
            assert "\x1b" not in sales and "\u202e" not in sales
            assert len(sales) <= 76  # cut to the panel, not wrapped
            assert lines[3].split()[:2] == ["billing", "unknown"]
            title = screen.query_one("#mailboxes-panel").border_title
            assert title is not None  # handed back as markup
            assert Content.from_markup(title).plain == "Mailboxes · 1 needs a look"
            assert app.is_running  # the [@click=app.quit] in the error did nothing
        desk.close()

    asyncio.run(scenario())

    wide = troubled_desk(tmp_path / "wide.db", FakeClock(NOW))

    async def at_160() -> None:
        app = Host(wide)
        async with app.run_test(size=(160, 48)) as pilot:
            screen = await opened(pilot)
            assert "␛[2J" in shown(screen, "#mailboxes")  # whole error, escapes made visible
            assert isinstance(app.screen, DashboardScreen)
        wide.close()

    asyncio.run(at_160())


def test_desk_top_bar_marks_a_troubled_mailbox_until_it_recovers(
    demo_path: Path, make_app: AppFactory
) -> None:
    clock = FakeClock(NOW)
    desk = make_desk(demo_path, clock, mailboxes=[box("support")])
    support = HealthRecorder(desk, "support")
    support.failed("mailbox support: cannot connect to 127.0.0.1:143: [Errno 111] refused [/]")

    async def scenario() -> None:
        app = make_app(desk, live=False)
        async with running(app) as pilot:
            screen = app.screen
            assert isinstance(screen, DeskScreen)
            top = plain_text(screen.query_one("#topbar", Static))
            assert "⚠ support: error" in top
            assert top.index("⚠") < top.index("? help")  # seen first at 80 columns
            support.connected()
            support.polled()
            screen.query_one(TopBar).load_health()
            await settle(pilot)
            top = plain_text(screen.query_one("#topbar", Static))
            assert "⚠" not in top and "? help" in top
        desk.close()

    asyncio.run(scenario())


def test_no_mailboxes_no_mark_and_no_reads(demo_path: Path, make_app: AppFactory) -> None:
    desk = make_desk(demo_path)

    async def scenario() -> None:
        app = make_app(desk, live=False)
        async with running(app) as pilot:
            assert not [w for w in app.workers if w.group == "health"]
            assert "⚠" not in plain_text(app.screen.query_one("#topbar", Static))
            await pilot.press("d")
            dash = await opened(pilot)
            assert shown(dash, "#mailboxes").startswith("No mailboxes configured")
        desk.close()

    asyncio.run(scenario())


class LiveHost(App[None]):
    """The dashboard as a live console opens it (``Host`` opens it as a still one)."""

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk

    def on_mount(self) -> None:
        self.push_screen(DashboardScreen(self.desk, live=True))


def test_a_live_dashboard_follows_the_pollers_without_a_refresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "MAILBOXES_SECONDS", 0.1)
    clock = FakeClock(NOW)
    desk = troubled_desk(tmp_path / "desk.db", clock)

    async def scenario() -> None:
        app = LiveHost(desk)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await opened(pilot)
            assert shown(screen, "#mailboxes").splitlines()[1].split()[1] == "connected"
            clock.now = NOW + timedelta(minutes=5)  # support's poller, elsewhere, loses its server
            HealthRecorder(desk, "support").failed("reset")
            for _ in range(100):
                lines = shown(screen, "#mailboxes").splitlines()
                if lines[1].split()[1] == "error":
                    break
                await pilot.pause(0.05)
            assert lines[1].split()[:2] == ["support", "error"], lines
            assert lines[1].endswith("0s ago: reset")
            title = screen.query_one("#mailboxes-panel").border_title
            assert title is not None and "2 need a look" in Content.from_markup(title).plain
        desk.close()

    asyncio.run(scenario())


def test_a_dashboard_that_is_not_live_reads_the_mailboxes_once(tmp_path: Path) -> None:
    desk = troubled_desk(tmp_path / "desk.db", FakeClock(NOW))

    async def scenario() -> None:
        app = Host(desk)
        async with app.run_test(size=(80, 24)) as pilot:
            await opened(pilot)
            assert not [w for w in app.workers if w.group == "dashboard.mailboxes"]
        desk.close()

    asyncio.run(scenario())
