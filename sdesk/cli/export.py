"""``sdesk export``: every ticket with its thread, as JSON Lines (re-ingestable) or CSV."""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer

from sdesk.cli.common import ConfigOption, DbOption, fail, open_desk
from sdesk.core.clock import as_utc
from sdesk.core.text import safe_text
from sdesk.store.private import private_file


class _Terminal:
    """stdout when it is a terminal: what the export writes is shown, never obeyed, so a
    customer's ESC or C1 control cannot retitle the window or set the clipboard. A file or a
    pipe gets the data exactly (JSON Lines escapes the invisible controls itself)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, text: str, /) -> int:
        return self.out.write(safe_text(text))


class Format(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        fail(f"--since {value!r} is not a date; use e.g. 2026-11-01 or 2026-11-01T09:00:00Z")


def export(
    ctx: typer.Context,
    db: DbOption = None,
    config: ConfigOption = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="jsonl or csv.")] = Format.JSONL,
    since: Annotated[
        str | None, typer.Option(help="Only tickets changed since this date (ISO 8601).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Export tickets with customers and messages."""
    desk = open_desk(ctx, db, config)
    from sdesk.channels.files.export import iter_tickets, write_csv, write_jsonl

    tickets = iter_tickets(desk.store, since=_since(since))
    write = write_jsonl if format is Format.JSONL else write_csv
    if output is None:
        write(tickets, _Terminal(sys.stdout) if sys.stdout.isatty() else sys.stdout)
        return
    try:
        # Customer mail and phone numbers: a new file is the user's alone, whatever the umask
        # (an existing one keeps the mode its owner gave it).
        private_file(output)
        fh = output.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    with fh:
        count = write(tickets, _Terminal(fh) if fh.isatty() else fh)  # e.g. -o /dev/tty
    typer.echo(f"exported {count} tickets to {output}", err=True)
