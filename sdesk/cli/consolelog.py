"""Logs while the console owns the terminal.

A log line written to the terminal under a running Textual app lands on top of its screen (a
poller's "mailbox …: connection refused", a note that a write waits for the desk's lock). Textual
redirects ``sys.stderr`` while it runs, but a logging handler keeps the stream it was made with,
so those lines reached the terminal anyway. While the console runs they go to a file instead,
private to the user, and one line on leaving says where they are.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from platformdirs import user_log_dir

from sdesk.store.private import private_dir, private_file

APP = "sdesk"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def console_log_path() -> Path:
    return Path(user_log_dir(APP, appauthor=False)) / "console.log"


class _Counting(logging.FileHandler):
    """Counts the warnings it writes, for the line shown on leaving."""

    warnings = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.warnings += 1
        super().emit(record)


def _to_terminal(handler: logging.Handler) -> bool:
    stream = getattr(handler, "stream", None)
    if isinstance(handler, logging.FileHandler) or stream is None:
        return False
    terminals = {sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__}
    return stream in terminals or (hasattr(stream, "isatty") and stream.isatty())


@contextmanager
def logs_aside(path: Path | None = None) -> Iterator[Path]:
    """Send the root logger's terminal handlers' records to ``path`` while the block runs."""
    path = path or console_log_path()
    root = logging.getLogger()
    moved = [h for h in root.handlers if _to_terminal(h)]
    private_dir(path.parent)
    private_file(path)
    handler = _Counting(path, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter(FORMAT))
    for h in moved:
        root.removeHandler(h)
    root.addHandler(handler)
    # With no handler at all, logging's last resort writes warnings to sys.stderr as it is at
    # the time: Textual's capture while the console runs. The file catches them instead.
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
        for h in moved:
            root.addHandler(h)
        if handler.warnings:
            print(
                f"sdesk: {handler.warnings} warning(s) while the console ran; see {path}",
                file=sys.stderr,
            )
