"""Running the ``sdesk`` command with its own config and data dirs: in this process (``sdesk``,
the fast default: tests/cli/runner.py) or as a real process (``sdesk_process``: exit statuses the
OS sees, signals, locks held by other processes, a terminal)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.runner import invoke

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def sdesk_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env.pop("SDESK_DATABASE_URL", None)
    env.pop("SDESK_DEBUG", None)
    return env


@pytest.fixture
def sdesk(sdesk_env: dict[str, str]) -> Run:
    """``sdesk ARGS`` in this process; ``timeout`` is accepted for ``sdesk_process``'s sake."""

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return invoke(sdesk_env, *args)

    return run


@pytest.fixture
def sdesk_process(sdesk_env: dict[str, str]) -> Run:
    """``python -m sdesk ARGS`` as a real process."""

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sdesk", *args],
            env=sdesk_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    return run
