"""Smoke tests: the real ``sdesk`` in a real terminal (a pty, or tmux)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.smoke.ptyterm import Pty


@pytest.fixture
def pty_term() -> Iterator[Pty]:
    term = Pty()
    try:
        yield term
    finally:
        term.close()
