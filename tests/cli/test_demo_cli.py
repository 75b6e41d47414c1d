"""``sdesk demo`` from the command line (issue 14, items 1 and 12): its printed inbox and hints
fit the terminal, and its temporary desk is removed on every way out."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Run
from tests.cli.test_lists import as_json, at_width, check_rows_whole, read_pty, run_at


@pytest.fixture
def tmpdir_env(sdesk_env: dict[str, str], tmp_path: Path) -> tuple[dict[str, str], Path]:
    """TMPDIR is a folder of this test's own, so what the demo leaves there is seen."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return dict(sdesk_env, TMPDIR=str(tmp)), tmp


def leftovers(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("sdesk-demo*"))


def test_demo_print_removes_its_temporary_desk(
    tmpdir_env: tuple[dict[str, str], Path],
) -> None:
    env, tmp = tmpdir_env
    result = run_at(at_width(env, 80), "demo", "--print")
    assert result.returncode == 0, result.stderr
    assert "70 tickets, 255 messages" in result.stdout
    assert leftovers(tmp) == []
    # The hint no longer points at the removed desk; it says how to keep one, unbroken.
    lines = result.stdout.splitlines()
    assert "this desk is removed on exit; to keep one:" in lines
    assert "  sdesk demo --db demo.db --print" in lines
    assert "sdesk --db /" not in result.stdout


@pytest.mark.parametrize("width", [160, 80, 60, 40])
def test_demo_print_fits_the_terminal(
    sdesk: Run, sdesk_env: dict[str, str], tmp_path: Path, width: int
) -> None:
    db = str(tmp_path / "my demo.db")
    result = run_at(at_width(sdesk_env, width), "demo", "--db", db, "--print")
    assert result.returncode == 0, result.stderr
    rows = as_json(sdesk, db, "inbox")
    inbox, _, hints = result.stdout.partition("\ndemo desk: ")
    check_rows_whole(inbox, rows, width)
    number = rows[0]["number"]
    # The command is one line of its own, whole, even when wider than the terminal.
    assert f"try: sdesk --db '{db}' show {number}" in hints.splitlines()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"]
)
def test_demo_interrupted_while_seeding_removes_its_desk(
    tmpdir_env: tuple[dict[str, str], Path], sig: signal.Signals
) -> None:
    env, tmp = tmpdir_env
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdesk", "demo", "--print"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The desk's file exists once the store is open: seeding (seconds) is under way.
        wait_for(lambda: any(tmp.glob("sdesk-demo*/demo.db")), "the demo desk")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 130, err  # README "exit statuses": interrupted
    assert err.strip().splitlines() == ["sdesk: error: interrupted"]
    assert "70 tickets" not in out  # it was stopped before the end
    assert leftovers(tmp) == []


def test_demo_console_that_fails_removes_its_desk(
    tmpdir_env: tuple[dict[str, str], Path],
) -> None:
    """The console path (a terminal on stdin and stdout): the console refuses to start for an
    unknown agent, an error that leaves through the same way as a crash."""
    env, tmp = tmpdir_env
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdesk", "--agent", "nobody", "demo"],
        env=env,
        stdin=child,
        stdout=child,
        stderr=subprocess.PIPE,
    )
    os.close(child)
    try:
        read_pty(main, proc)
    finally:
        os.close(main)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.returncode == 1, stderr
    assert "sdesk: error: unknown agent 'nobody'" in stderr
    assert leftovers(tmp) == []
