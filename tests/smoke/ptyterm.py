"""A pseudo-terminal that keeps every byte its programs write, for tests that must see exactly
what reached the terminal (escape sequences, stray log lines), not what a screen shows."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

import pytest

COLS, ROWS = 120, 40


def decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="surrogateescape")


class Pty:
    """A pseudo-terminal of COLS×ROWS; a thread keeps every byte its programs write."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        size = struct.pack("HHHH", ROWS, COLS, 0, 0)
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, size)
        self._chunks: list[bytes] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.2)
                if not ready:
                    continue
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every slave closed; EBADF: closed by close()
                return
            if not chunk:
                return
            with self._lock:
                self._chunks.append(chunk)

    def raw(self) -> bytes:
        with self._lock:
            return b"".join(self._chunks)

    def text(self) -> str:
        return decode(self.raw())

    def spawn(self, args: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """``args`` with the pty as its controlling terminal and its stdin, stdout, stderr."""

        def controlling_tty() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        return subprocess.Popen(
            list(args),
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            env=env,
            start_new_session=True,
            preexec_fn=controlling_tty,
        )

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait_for(self, what: str, timeout: float = 20, *, after: int = 0) -> None:
        """Until ``what`` shows in the output written after byte ``after``."""
        deadline = time.monotonic() + timeout
        while what not in decode(self.raw()[after:]):
            if time.monotonic() > deadline:
                tail = self.text()[-3000:]
                pytest.fail(f"{what!r} not written after {timeout:g}s; the last output:\n{tail!r}")
            time.sleep(0.05)

    def mark(self) -> int:
        return len(self.raw())

    def close(self) -> None:
        """The slave first: the reader then sees EIO once the programs are gone, and stops."""
        with suppress(OSError):
            os.close(self.slave)
        self._reader.join(timeout=2)
        with suppress(OSError):
            os.close(self.master)


def sdesk_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env.pop("SDESK_DATABASE_URL", None)
    env.pop("SDESK_DEBUG", None)
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        TERM="xterm-256color",
        TZ="UTC",
        TEXTUAL_ANIMATIONS="none",
        SDESK_CONSOLE__REFRESH_SECONDS="0.2",
    )
    return env
