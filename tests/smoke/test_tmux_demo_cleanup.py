"""``sdesk demo`` without ``--db`` in a real terminal (issue 14, item 12): the temporary desk is
removed when the operator quits and when the terminal goes away under the console (SIGHUP, as
when an SSH session drops)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.smoke.tmuxterm import Terminal, sdesk_command

pytestmark = pytest.mark.timeout(120)


def demo_command(tmp_path: Path, tmp: Path) -> str:
    return sdesk_command(tmp_path, "--agent", "admin", "demo", env={"TMPDIR": str(tmp)})


def started(terminal: Terminal, tmp_path: Path) -> Path:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    terminal.start(demo_command(tmp_path, tmp))
    terminal.wait_for(re.compile(r"^#\d+ ", re.MULTILINE), timeout=30)  # the inbox is up
    assert len(list(tmp.glob("sdesk-demo*"))) == 1  # the premise: the desk is there meanwhile
    return tmp


def wait_gone(tmp: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while list(tmp.glob("sdesk-demo*")):
        if time.monotonic() > deadline:
            pytest.fail(f"left behind: {list(tmp.glob('sdesk-demo*'))}")
        time.sleep(0.1)


def test_quitting_the_demo_console_removes_its_desk(terminal: Terminal, tmp_path: Path) -> None:
    tmp = started(terminal, tmp_path)
    terminal.keys("q")
    assert terminal.wait_exit() == 0, terminal.screen()
    wait_gone(tmp)


def test_a_terminal_that_goes_away_removes_the_demo_desk(
    terminal: Terminal, tmp_path: Path
) -> None:
    tmp = started(terminal, tmp_path)
    terminal.kill()  # the pane's terminal closes: the console gets SIGHUP
    wait_gone(tmp)
