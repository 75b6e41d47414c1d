"""Many small distinct messages, fast to make, for interrupt and round-trip tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

START = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


def bulk_messages(n: int) -> Iterator[bytes]:
    """Every fourth message replies to the one before it; a few have no Message-ID."""
    for i in range(n):
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
        yield msg.as_bytes()


def write_mbox(path: Path, n: int) -> None:
    with path.open("wb") as fh:
        for raw in bulk_messages(n):
            fh.write(b"From customer@example.org Thu Oct  1 08:00:00 2026\n")
            for line in raw.splitlines(keepends=True):
                fh.write(b">" + line if line.lstrip(b">").startswith(b"From ") else line)
            fh.write(b"\n")
