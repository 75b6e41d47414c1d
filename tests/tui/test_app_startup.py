"""The console's start: the collector paused until the first paint, and 120 frames a second."""

from __future__ import annotations

import gc

import pytest

from sdesk.core.desk import Desk
from sdesk.tui.app import FPS
from sdesk.tui.startup import SETTLED_THRESHOLD, collector_paused
from tests.tui.conftest import AppFactory, running


async def test_the_pause_ends_after_the_first_paint_and_is_undone_at_exit(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    threshold = gc.get_threshold()
    with collector_paused() as pause:
        assert not gc.isenabled()
        app = make_app(demo_desk, live=False)
        async with running(app) as pilot:  # waits for the first paint
            await pilot.pause()
            assert app.first_paint is not None
            assert pause.settled
            assert gc.isenabled()
            assert gc.get_threshold() == SETTLED_THRESHOLD
    assert gc.isenabled()
    assert gc.get_threshold() == threshold


async def test_screens_draw_at_the_console_frame_rate(
    demo_desk: Desk, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEXTUAL_FPS", raising=False)
    app = make_app(demo_desk, live=False)
    async with running(app) as pilot:
        await pilot.press("f1")  # a second screen, pushed later
        await pilot.pause()
        for screen in app.screen_stack[1:]:
            assert screen._update_timer._interval == pytest.approx(1 / FPS), screen
