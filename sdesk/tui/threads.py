"""Handing a worker thread's result to the UI without waiting for it.

Textual's ``call_from_thread`` blocks until the UI ran the callback. A worker that finishes just as
the operator quits then waits on a loop that no longer runs, and because thread workers live in
the loop's (non-daemon) executor, the process never exits. Results here are posted as messages
(``post_message`` is thread-safe) and forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.message_pump import MessagePump

from sdesk.tui.compat import call_from_thread_soon


def from_thread(target: MessagePump, callback: Callable[..., Any], *args: Any) -> None:
    """Run ``callback(*args)`` on the UI loop soon; do nothing once ``target`` has closed."""
    call_from_thread_soon(target, callback, *args)
