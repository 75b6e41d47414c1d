"""Snapshots of the console on the demo week: inbox, ticket, reply, help and dashboard, each at
80×24 (a laptop's SSH window) and 160×48 (a wide desk monitor); inbox, ticket, reply and help
also with ``NO_COLOR=1`` (Textual draws every colour as a grey: urgency and overdue deadlines
must still read, by text and bold/reverse).

The desk is seeded at a frozen clock (``tests.tui.conftest.NOW``) with TZ pinned to UTC, the app
runs without its live timers (``live=False``), and cursors do not blink, so every picture is the
same on every run. Update them after a deliberate change to the look with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and review the SVGs under
``__snapshots__`` before committing them.

The tests are plain functions: ``snap_compare`` runs the app in its own event loop.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from sdesk.core.desk import Desk
from sdesk.store.queries import ticket_detail
from sdesk.tui.app import SdeskApp
from sdesk.tui.screens.dashboard import DashboardScreen
from sdesk.tui.screens.help import HelpScreen
from sdesk.tui.widgets.inbox import InboxList
from sdesk.tui.widgets.reply import ReplyBox
from tests.tui.conftest import AppFactory, settle

Snap = Callable[..., bool]
RunBefore = Callable[[Pilot[None]], Awaitable[None]]

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]
REPLY = ("Guten Tag Herr Müller,", "", "die doppelte Abbuchung ist storniert.")


async def _first_paint(pilot: Pilot[None]) -> None:
    app: SdeskApp = pilot.app  # type: ignore[assignment]
    deadline = time.monotonic() + 10
    while app.first_paint is None and time.monotonic() < deadline:
        await pilot.pause(0.02)
    assert app.first_paint is not None, "the inbox never painted"
    await settle(pilot)


async def _hold_still(pilot: Pilot[None]) -> None:
    """No blinking cursor and no toasts in the picture."""
    app = pilot.app
    for screen in app.screen_stack:
        for widget in (*screen.query(TextArea), *screen.query(Input)):
            widget.cursor_blink = False
    app.clear_notifications()
    await settle(pilot)


def scenario(*keys: str, then: RunBefore | None = None) -> RunBefore:
    """Wait for the inbox, press ``keys``, run ``then``, settle and hold still."""

    async def run_before(pilot: Pilot[None]) -> None:
        await _first_paint(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)
        if then is not None:
            await then(pilot)
        await _hold_still(pilot)

    return run_before


def _thread_ticket(desk: Desk, numbers: Sequence[int]) -> int:
    """The first ticket in inbox order with a long thread, an internal note and an attachment:
    the ticket view then shows every kind of entry."""
    with desk.store.read() as session:
        for number in numbers:
            detail = ticket_detail(session, number)
            assert detail is not None
            kinds = [m.kind for m in detail.messages]
            files = sum(len(m.attachments) for m in detail.messages)
            if len(kinds) >= 4 and "note" in kinds and "reply" in kinds and files:
                return number
    raise AssertionError("the demo week has no ticket with notes, replies and an attachment")


def open_rich_ticket(desk: Desk) -> RunBefore:
    """Move the inbox cursor to that ticket with PgDn and ↓, as an operator would, and open it
    with Enter. (PgDn first: at 160 columns every row the cursor passes loads its ticket.)"""

    async def run(pilot: Pilot[None]) -> None:
        inbox = pilot.app.screen.query_one(InboxList)
        # The richest demo thread is a finished ticket: the filter menu's second entry shows
        # every ticket, finished ones too (the inbox shows the active ones).
        await pilot.press("f", "down", "enter")
        await settle(pilot)
        numbers = [row.number for row in inbox.rows]
        target = _thread_ticket(desk, numbers)
        index = numbers.index(target)
        if index:
            await pilot.press("pagedown")  # one page tells how far a page goes
            step, left = max(1, inbox.cursor), index - inbox.cursor
            if left < 0:  # that page went past the ticket
                await pilot.press(*["up"] * -left)
            else:
                pages, rows = divmod(left, step)
                await pilot.press(*["pagedown"] * pages, *["down"] * rows)
        await settle(pilot)
        assert inbox.current is not None and inbox.current.number == target
        await pilot.press("enter")
        await settle(pilot)
        await pilot.pause()  # the thread scrolls to its end after a refresh
        await settle(pilot)

    return run


def _app(desk: Desk, make_app: AppFactory) -> SdeskApp:
    return make_app(desk, live=False)  # no poll or heartbeat timers


@pytest.mark.parametrize("size", SIZES)
def test_inbox(snap_compare: Snap, demo_desk: Desk, make_app: AppFactory, size: Any) -> None:
    """The inbox just loaded; at 160 columns the first ticket shows beside it."""
    assert snap_compare(_app(demo_desk, make_app), terminal_size=size, run_before=scenario())


@pytest.mark.parametrize("size", SIZES)
def test_ticket(snap_compare: Snap, demo_desk: Desk, make_app: AppFactory, size: Any) -> None:
    """A ticket with customer messages, replies, internal notes and an attachment, opened."""
    run = scenario(then=open_rich_ticket(demo_desk))
    assert snap_compare(_app(demo_desk, make_app), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_reply(snap_compare: Snap, demo_desk: Desk, make_app: AppFactory, size: Any) -> None:
    """That ticket with the reply box open and two paragraphs typed."""
    run = scenario(then=write_reply(demo_desk))
    assert snap_compare(_app(demo_desk, make_app), terminal_size=size, run_before=run)


def write_reply(desk: Desk) -> RunBefore:
    """Open the rich ticket, ``r``, type two paragraphs."""
    opened = open_rich_ticket(desk)

    async def write(pilot: Pilot[None]) -> None:
        await opened(pilot)
        await pilot.press("r")
        await settle(pilot)
        box = pilot.app.screen.query_one(ReplyBox)
        assert box.display and box.mode == "reply"
        for i, line in enumerate(REPLY):
            if i:
                await pilot.press("enter")
            await pilot.press(*line)
        await settle(pilot)
        assert box.text == "\n".join(REPLY)

    return write


async def _help_shown(pilot: Pilot[None]) -> None:
    assert isinstance(pilot.app.screen, HelpScreen)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare: Snap, demo_desk: Desk, make_app: AppFactory, size: Any) -> None:
    """F1 over the inbox: every key with its binding id (for ``[console.keys]``), grouped."""
    run = scenario("f1", then=_help_shown)
    assert snap_compare(_app(demo_desk, make_app), terminal_size=size, run_before=run)


NO_COLOR_RUNS: dict[str, Callable[[Desk], RunBefore]] = {
    "inbox": lambda _desk: scenario(),
    "ticket": lambda desk: scenario(then=open_rich_ticket(desk)),
    "reply": lambda desk: scenario(then=write_reply(desk)),
    "help": lambda _desk: scenario("f1", then=_help_shown),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("view", list(NO_COLOR_RUNS))
def test_no_color(
    snap_compare: Snap,
    demo_desk: Desk,
    make_app: AppFactory,
    monkeypatch: pytest.MonkeyPatch,
    view: str,
    size: Any,
) -> None:
    """The same views under ``NO_COLOR=1`` (read by the app when it is made): ``URG`` in
    reverse, breached deadlines as ``!-2h05`` in bold, nothing the operator reads in dim."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = _app(demo_desk, make_app)
    assert app.no_color
    run = NO_COLOR_RUNS[view](demo_desk)
    assert snap_compare(app, terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_dashboard(snap_compare: Snap, demo_desk: Desk, make_app: AppFactory, size: Any) -> None:
    """``d``: the demo fortnight's charts, once its worker has counted."""

    async def loaded(pilot: Pilot[None]) -> None:
        deadline = time.monotonic() + 10
        screen = pilot.app.screen
        while not (isinstance(screen, DashboardScreen) and screen.loaded):
            assert time.monotonic() < deadline, "the dashboard did not load within 10 s"
            await pilot.pause(0.02)
            screen = pilot.app.screen
        assert screen.error is None, screen.error
        await settle(pilot)

    run = scenario("d", then=loaded)
    assert snap_compare(_app(demo_desk, make_app), terminal_size=size, run_before=run)
