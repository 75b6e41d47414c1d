"""The console with the bot running: a Telegram message shows in an open console within 2 s,
and hostile texts (escape sequences, bidi, markup, a 4,096-character line, a file named
``../../x``) are stored exactly and shown safely."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdesk.channels.telegram.service import TelegramService
from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from sdesk.store.queries import agent_row
from sdesk.tui.app import SdeskApp
from sdesk.tui.screens.desk import DeskScreen
from sdesk.tui.widgets.inbox import InboxList
from sdesk.tui.widgets.textpane import TextPane
from tests.telegram.botapi import BotApiServer
from tests.telegram.conftest import TOKEN_ENV, attachments, fetch, inbound, telegram_settings
from tests.telegram.updates import HOSTILE_TEXTS, Updates
from tests.tui.conftest import running, settle
from tests.tui.screen import screen_text

LIVE_WITHIN = 2.0


@pytest.fixture
def two_desks(
    tmp_path: Path, server: BotApiServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Desk, Desk]]:
    """The console's desk and the bot's (another connection on the same file)."""
    monkeypatch.setenv(TOKEN_ENV, server.token)
    settings = Settings(desk_domain="desk.test", telegram=telegram_settings(server))
    console = Desk(open_store(tmp_path / "desk.db"), settings)
    console.add_agent("mia", name="Mia")
    bot = Desk(open_store(tmp_path / "desk.db"), settings)
    yield console, bot
    bot.close()
    console.close()


def app_for(desk: Desk) -> SdeskApp:
    with desk.store.read() as session:
        me = agent_row(session, "mia")
    assert me is not None
    return SdeskApp(desk, me, live=True)


def inbox_numbers(app: SdeskApp) -> list[int]:
    screen = app.screen
    assert isinstance(screen, DeskScreen)
    return [r.number for r in screen.query_one(InboxList).rows]


def _clean(text: str) -> bool:
    return not any(
        ord(c) < 32 and c not in "\n\t" or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u2066\u200b\ufeff"
        for c in text
    )


async def test_a_telegram_message_shows_in_an_open_console_within_two_seconds(
    two_desks: tuple[Desk, Desk], server: BotApiServer, tg: Updates
) -> None:
    console, bot = two_desks
    assert bot.settings.telegram is not None
    service = TelegramService(bot, bot.settings.telegram)
    stop = threading.Event()
    poller = threading.Thread(target=service.run, args=(stop,), daemon=True)
    poller.start()
    try:
        app = app_for(console)
        async with running(app, size=(140, 30)) as pilot:
            while app.stamp is None:
                await pilot.pause(0.05)
            n = len([c for c, _ in server.calls if c == "getUpdates"])
            while len([c for c, _ in server.calls if c == "getUpdates"]) <= n:
                await pilot.pause(0.05)  # the bot waits in a long poll
            server.push(tg.text(tg.customer(1), "Internet is down since morning"))
            pushed = time.monotonic()
            while not inbox_numbers(app):
                assert time.monotonic() - pushed < 10, "never shown"
                await pilot.pause(0.05)
            assert time.monotonic() - pushed <= LIVE_WITHIN
            await settle(pilot)
            shown = screen_text(app)
            assert "Internet is down" in shown and "TG" in shown, shown
    finally:
        stop.set()
        poller.join(5)
    assert not poller.is_alive()  # stopped promptly, in the middle of a long poll


async def test_hostile_texts_are_stored_exactly_and_shown_safely(
    two_desks: tuple[Desk, Desk], server: BotApiServer, tg: Updates
) -> None:
    console, bot = two_desks
    ann = tg.customer(1)
    server.push_many([tg.text(ann, text) for text in HOSTILE_TEXTS])
    server.push(tg.document(ann, file_name="../../x", caption="\x1b[31mfile\x1b[0m"))
    await asyncio.to_thread(fetch, bot)  # its own event loop, off the test's
    got = inbound(bot)
    assert [m.text for m in got[: len(HOSTILE_TEXTS)]] == list(HOSTILE_TEXTS)
    [doc] = attachments(bot, got[-1].id)
    assert doc.filename == "x"
    app = app_for(console)
    async with running(app, size=(120, 50)) as pilot:
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        thread = screen.query_one("#thread", TextPane).plain
        assert "␛[2J" in thread and "[bold red]boom[/] [/] [@click=app.quit]quit[/]" in thread
        assert "A" * 200 in thread
        assert _clean(thread) and _clean(screen_text(app))
        assert app.is_running
