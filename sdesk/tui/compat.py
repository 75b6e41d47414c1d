"""Every use of a private Textual API, in one place (Textual 8.x; see pyproject's pin).

Each function or class here says what it relies on, and ``tests/tui/test_compat.py`` exercises
each one against the installed Textual, so an upgrade that changes the behaviour relied on fails
a test named after it instead of the console. Nothing outside this module touches a Textual
attribute whose name starts with ``_``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import partial
from typing import Any

from rich.console import RenderableType
from textual import events
from textual.app import App
from textual.geometry import Size
from textual.message_pump import MessagePump
from textual.notifications import Notification
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.theme import Theme

log = logging.getLogger(__name__)


class FrameWatchingApp(App[None]):
    """An app told of every frame it hands to the terminal (``frame_shown``).

    Relies on: ``App._display(screen, renderable)`` being the one method each frame passes
    through on its way to the driver (a callback "after refresh" ran up to 150 ms after the
    frame, behind start-up's other messages). ``bench/console.py`` wraps ``_display`` on the
    instance to time frames; that keeps working because this is a method of the class.
    """

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        super()._display(screen, renderable)
        self.frame_shown(screen, renderable)

    def frame_shown(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        """Called after each frame; ``renderable`` is None when there was nothing to draw."""


def registered_theme(app: App[Any], name: str) -> Theme | None:
    """The theme registered under ``name``, without copying the registry.

    Relies on: ``App._registered_themes``, the dict ``register_theme`` fills (the public
    ``available_themes`` copies it on every call, and Textual asks for the theme once per line
    it draws: ~0.05 ms a copy, ~40 ms of the first paint, ~2 ms of every frame).
    """
    return app._registered_themes.get(name)


def update_scrollbars(view: ScrollView, size: Size) -> None:
    """After ``virtual_size`` was set without its layout: show or hide the scrollbars (with a
    layout only when one appears or disappears), update their proportions and clamp the
    scroll offset.

    Relies on: ``Widget._refresh_scrollbars()`` (sets ``show_vertical_scrollbar`` /
    ``show_horizontal_scrollbar`` from the overflow styles and the virtual size) and
    ``Widget._scroll_update(size)`` (scrollbar window sizes; ``scroll_x``/``scroll_y`` clamped).
    """
    view._refresh_scrollbars()
    view._scroll_update(size)


def call_from_thread_soon(target: MessagePump, callback: Callable[..., Any], *args: Any) -> bool:
    """Run ``callback(*args)`` on the UI loop soon, from any thread, without waiting for it
    (Textual's ``call_from_thread`` blocks until the UI ran it; a worker finishing as the
    operator quits then waits on a loop that no longer runs). Posted to ``target``'s queue,
    so nothing runs once ``target`` (a screen, the app) has closed. An exception in the
    callback is logged, never the end of the console. False when it could not be posted.

    Relies on: ``post_message`` being thread-safe (documented) and ``events.Callback`` being
    the event every message pump runs on receipt (``call_later`` is built on it).
    """

    def guarded() -> Any:
        try:
            return callback(*args)
        except Exception:
            log.exception("UI callback from a worker failed")
            return None

    try:
        return target.post_message(events.Callback(callback=partial(guarded)))
    except RuntimeError:  # the loop closed between the worker's read and now
        return False


def set_frame_rate(screen: Screen[Any], fps: int) -> bool:
    """Let ``screen`` draw up to ``fps`` frames a second; False if it already had its timer
    (the rate then stays). ``TEXTUAL_FPS`` in the environment, when set, wins.

    Relies on: a screen drawing its changes on a paused "screen_update" timer whose period is
    ``1 / constants.MAX_FPS`` (read once from ``TEXTUAL_FPS`` when ``textual.screen`` is
    imported), made lazily by the property ``Screen._update_timer`` from the name-mangled
    attribute ``_Screen__update_timer`` and ticking ``Screen._on_timer_update``. Making that
    timer first, with our period, sets the rate for this screen only.
    """
    if "TEXTUAL_FPS" in os.environ:
        return False
    if getattr(screen, "_Screen__update_timer", None) is not None:
        return False
    timer = screen.set_interval(1 / fps, screen._on_timer_update, name="screen_update", pause=True)
    screen._Screen__update_timer = timer  # type: ignore[attr-defined]
    return True


def notifications(app: App[Any]) -> list[Notification]:
    """The toasts the app holds now, oldest first (tests read them).

    Relies on: ``App._notifications``, the ``Notifications`` collection ``notify`` adds to.
    """
    return list(app._notifications)
