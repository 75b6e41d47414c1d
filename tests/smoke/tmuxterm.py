"""A real terminal for smoke tests: a tmux server of the test's own running the console, read
back as text (``capture-pane``)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

WIDTH, HEIGHT = 100, 30  # narrower than the side-by-side layout: the ticket replaces the inbox


def sdesk_command(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """``python -m sdesk ARGS`` with its own config and data dirs, a fixed zone and no
    animations; COLUMNS/LINES from the test runner must not size the console."""
    fixed = {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        **(env or {}),
        "TERM": "xterm-256color",
        "TZ": "UTC",
        "TEXTUAL_ANIMATIONS": "none",
    }
    unset = ["COLUMNS", "LINES", "SDESK_DATABASE_URL", "SDESK_DEBUG", "NO_COLOR"]
    return shlex.join(
        [
            "env",
            *[f"-u{name}" for name in unset],
            *[f"{k}={v}" for k, v in fixed.items()],
            sys.executable,
            "-m",
            "sdesk",
            *args,
        ]
    )


class Terminal:
    """One tmux server of our own (``-L``), one session, one pane running the console."""

    def __init__(self, socket: str) -> None:
        self.socket = socket
        self.env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
            check=check,
        )

    def start(self, command: str) -> None:
        # One invocation, so the pane stays (dead) after the console exits: its last screen
        # and exit status can still be read.
        self.tmux(
            "new-session", "-d", "-s", "smoke", "-x", str(WIDTH), "-y", str(HEIGHT), command,
            ";", "set-option", "-g", "remain-on-exit", "on",
        )  # fmt: skip

    def pane_pid(self) -> str:
        return self.tmux("display-message", "-p", "-t", "smoke", "#{pane_pid}").stdout.strip()

    def ps_stat(self) -> str:
        """The pane process's state letters (``Z``: exited, not reaped), "" when it is gone."""
        done = subprocess.run(
            ["ps", "-o", "stat=", "-p", self.pane_pid()], capture_output=True, text=True
        )
        return done.stdout.strip()

    def screen(self) -> str:
        done = self.tmux("capture-pane", "-p", "-t", "smoke", check=False)
        return done.stdout if done.returncode == 0 else f"(no pane: {done.stderr.strip()})"

    def keys(self, *keys: str) -> None:
        """tmux key names: ``Down``, ``Enter``, ``Escape``, ``C-s``, or single characters."""
        self.tmux("send-keys", "-t", "smoke", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "smoke", "-l", text)

    def wait_for(self, what: str | re.Pattern[str], timeout: float = 15) -> str:
        """Poll the screen until ``what`` (a substring, or a regex searched line by line) shows;
        returns the screen, or fails with the last one."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if isinstance(what, str) and what in screen:
                return screen
            if isinstance(what, re.Pattern) and what.search(screen):
                return screen
            if time.monotonic() > deadline:
                shown = what if isinstance(what, str) else what.pattern
                pytest.fail(f"{shown!r} not on screen after {timeout:g}s; the screen:\n{screen}")
            time.sleep(0.1)

    def wait_exit(self, timeout: float = 30) -> int | None:
        """Wait for the console's process to end; its exit status (minus the signal, if one
        ended it). tmux marks the pane dead at end of output, and fills the status a moment
        later when it reaps the process."""
        deadline = time.monotonic() + timeout
        while True:
            done = self.tmux(
                "display-message", "-p", "-t", "smoke",
                "#{pane_dead}|#{pane_dead_status}|#{pane_dead_signal}",
                check=False,
            )  # fmt: skip
            if done.returncode != 0:
                pytest.fail(f"the tmux session went away: {done.stderr.strip()}")
            dead, status, signal = (done.stdout.strip().split("|") + ["", ""])[:3]
            if dead == "1" and status:
                return int(status)
            if dead == "1" and signal:
                return -int(signal)
            if dead == "1" and "Z" in self.ps_stat():
                # Exited, but tmux has not reaped it yet (seen with tmux 3.3): no status to read.
                return None
            if time.monotonic() > deadline:
                screen = self.screen()
                pytest.fail(
                    f"sdesk still running {timeout:g}s after q (tmux: {done.stdout.strip()!r}, "
                    f"ps: {self.ps_stat()!r}); the screen:\n{screen}"
                )
            time.sleep(0.1)

    def kill(self) -> None:
        found = self.tmux("display-message", "-p", "#{socket_path}", check=False)
        self.tmux("kill-server", check=False)
        if found.returncode == 0 and found.stdout.strip():
            Path(found.stdout.strip()).unlink(missing_ok=True)  # tmux 3.3 leaves it behind
