"""Handing a worker thread's result to the UI without waiting for it.

Textual's ``call_from_thread`` blocks until the UI ran the callback. A worker that finishes just as
the operator quits then waits on a loop that no longer runs, and because thread workers live in
the loop's (non-daemon) executor, the process never exits. Results here are posted and forgotten.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import Any

from textual._callback import invoke
from textual.app import App

log = logging.getLogger(__name__)


def from_thread(app: App[Any], callback: Callable[..., Any], *args: Any) -> None:
    """Run ``callback(*args)`` on the UI loop soon; do nothing if the app has stopped."""
    loop: asyncio.AbstractEventLoop | None = getattr(app, "_loop", None)
    if loop is None or loop.is_closed() or not app.is_running:
        return

    async def run() -> None:
        with app._context():  # as call_from_thread: active_app and friends are set
            await invoke(partial(callback, *args))

    try:
        future = asyncio.run_coroutine_threadsafe(run(), loop)
    except RuntimeError:  # the loop closed between the check and now
        return
    future.add_done_callback(_report)


def _report(future: Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("UI callback from a worker failed", exc_info=future.exception())
