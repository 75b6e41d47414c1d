"""Every use of a private Textual API, in one place (Textual 8.x; see pyproject's pin).

Each function or class here says what it relies on, and ``tests/tui/test_compat.py`` exercises
each one against the installed Textual, so an upgrade that changes the behaviour relied on fails
a test named after it instead of the console. Nothing outside this module touches a Textual
attribute whose name starts with ``_``.
"""

from __future__ import annotations

import os
from typing import Any

from textual.screen import Screen


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
