"""Smoke tests: the real ``sdesk`` in a real terminal (a pty, or tmux)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest

from tests.smoke.ptyterm import Pty
from tests.smoke.tmuxterm import Terminal


@pytest.fixture
def pty_term() -> Iterator[Pty]:
    term = Pty()
    try:
        yield term
    finally:
        term.close()


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    """A tmux server of the test's own, killed at the end whatever happens."""
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed, and CI must run the tmux smoke test (scripts/test)")
        pytest.skip("tmux is not installed (scripts/test installs it); tmux smoke test skipped")
    term = Terminal(f"sdesk-smoke-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        yield term
    finally:
        term.kill()
