"""The console's start-up: the garbage collector paused from its imports to its first paint.

Start-up builds some 400,000 objects that live as long as the console (Textual, SQLAlchemy and
pydantic classes, tables, styles); the collector walked them over and over while they were being
made and found nothing to free: ~200 ms of the first paint, two full collections among them.

``collector_paused()`` is the only place that pauses it, around the console's start
(``sdesk/cli/console.py``); the app ends the pause after its first paint (``settle()``), and the
``finally`` restores the collector whatever happens (a failure at start, an exit before any
paint). Importing this module, or any other, changes nothing
(``tests/unit/test_import_effects.py``).
This module imports no Textual: the CLI's headless paths may import it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# After the first paint, collections of the youngest generation wait for 5,000 new objects
# instead of 700: the console makes many short-lived objects per key.
SETTLED_THRESHOLD = (5000, 20, 100)


@dataclass
class CollectorPause:
    """One pause: what to restore, and whether the console has settled yet."""

    was_enabled: bool
    threshold: tuple[int, int, int]
    settled: bool = False

    def settle(self) -> None:
        """After the first paint: move the start-up objects out of the collector's sight
        (``gc.freeze``), collect less often and turn the collector back on. Full collections
        over ~400k long-lived objects were the pauses a user feels (bench/console measured
        0.5-1 s stalls). No collection first: it took 150 ms right after the first paint to
        free the few hundred objects start-up leaves behind, which the freeze keeps instead."""
        if self.settled:
            return
        self.settled = True
        gc.freeze()
        gc.set_threshold(*SETTLED_THRESHOLD)
        if self.was_enabled:
            gc.enable()


_current: ContextVar[CollectorPause | None] = ContextVar("sdesk_collector_pause", default=None)


@contextmanager
def collector_paused() -> Iterator[CollectorPause]:
    """Pause the collector for the block; always restore it (enabled state and thresholds;
    the objects frozen by ``settle`` go back under the collector's watch). Nested uses share
    the outer pause."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    pause = CollectorPause(was_enabled=gc.isenabled(), threshold=gc.get_threshold())
    token = _current.set(pause)
    gc.disable()
    try:
        yield pause
    finally:
        _current.reset(token)
        if pause.settled:
            gc.unfreeze()
        gc.set_threshold(*pause.threshold)
        if pause.was_enabled:
            gc.enable()
        else:
            gc.disable()


def settle_after_first_paint() -> None:
    """End the pause this code runs in, if any (tests and tools that run the app without
    ``collector_paused`` leave the collector as it is)."""
    pause = _current.get()
    if pause is not None:
        pause.settle()
