"""The console's start-up pause of the garbage collector (``sdesk/tui/startup.py``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from sdesk.tui.startup import SETTLED_THRESHOLD, collector_paused, settle_after_first_paint


@pytest.fixture(autouse=True)
def _collector() -> Iterator[None]:
    state = gc.isenabled(), gc.get_threshold()
    yield
    gc.set_threshold(*state[1])
    if state[0]:
        gc.enable()


def test_paused_in_the_block_and_restored_after() -> None:
    threshold = gc.get_threshold()
    with collector_paused() as pause:
        assert not gc.isenabled()
        assert not pause.settled
    assert gc.isenabled()
    assert gc.get_threshold() == threshold


def test_settle_turns_it_on_with_the_start_up_frozen_and_the_exit_undoes_that() -> None:
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    with collector_paused():
        settle_after_first_paint()  # as the app does after its first paint
        assert gc.isenabled()
        assert gc.get_threshold() == SETTLED_THRESHOLD
        assert gc.get_freeze_count() > frozen
        settle_after_first_paint()  # only once
    assert gc.isenabled()
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == 0


def test_restored_when_the_console_fails_to_start() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("no terminal")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused() as pause:
        pause.settle()
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_nested_pauses_share_the_outer_one() -> None:
    with collector_paused() as outer:
        with collector_paused() as inner:
            assert inner is outer
        assert not gc.isenabled(), "the inner block ended the outer pause"
    assert gc.isenabled()


def test_settle_without_a_pause_changes_nothing() -> None:
    threshold = gc.get_threshold()
    settle_after_first_paint()  # tests and tools run the app without the pause
    assert gc.isenabled()
    assert gc.get_threshold() == threshold
