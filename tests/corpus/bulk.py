"""Many small distinct messages, fast to make, for interrupt and round-trip tests.

Every caller asks for the first ``n`` of one and the same sequence, so each message is made once
per test session and kept: ``EmailMessage`` takes about 1.5 ms of CPU a message, and the CLI
tests alone asked for 30,000 of them (four mboxes of 6,000, two of 2,500, ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

START = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
SEPARATOR = b"From customer@example.org Thu Oct  1 08:00:00 2026\n"

_made: list[bytes] = []  # message i, as bytes
_entries: list[bytes] = []  # message i as an mbox entry: separator, ">From " quoting, blank line


def _message(i: int) -> bytes:
    """Every fourth message replies to the one before it; a few have no Message-ID."""
    msg = EmailMessage()
    msg["From"] = f"Customer {i % 97} <customer{i % 97}@example.org>"
    msg["To"] = "support@desk.test"
    msg["Date"] = format_datetime(START + timedelta(minutes=i))
    if i % 50 != 7:
        msg["Message-ID"] = f"<bulk-{i}@example.org>"
    if i % 4 == 3:
        msg["Subject"] = f"Re: Question {i - 1}"
        msg["In-Reply-To"] = f"<bulk-{i - 1}@example.org>"
    else:
        msg["Subject"] = f"Question {i}"
    msg.set_content(f"Message number {i}.\n" + "Some text about the router. " * 8)
    return msg.as_bytes()


def _entry(raw: bytes) -> bytes:
    lines = [
        b">" + line if line.lstrip(b">").startswith(b"From ") else line
        for line in raw.splitlines(keepends=True)
    ]
    return SEPARATOR + b"".join(lines) + b"\n"


def bulk_messages(n: int) -> Iterator[bytes]:
    """The first ``n`` messages (see ``_message``)."""
    while len(_made) < n:
        _made.append(_message(len(_made)))
    yield from _made[:n]


def write_mbox(path: Path, n: int) -> None:
    made = list(bulk_messages(n))
    while len(_entries) < n:
        _entries.append(_entry(made[len(_entries)]))
    with path.open("wb") as fh:
        fh.writelines(_entries[:n])
