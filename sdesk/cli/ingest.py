"""``sdesk ingest``: bring history in from files."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from sdesk.cli.common import DbOption, open_desk
from sdesk.core.text import safe_text

if TYPE_CHECKING:  # the readers and parsers load when a command runs, not with every command
    from sdesk.channels.files.importer import Summary

MAX_FAILURES_SHOWN = 50


def _sigterm_as_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help=".eml files, mbox files, Maildir folders, folders, JSON Lines files."),
    ],
    db: DbOption = None,
    progress: Annotated[
        bool | None,
        typer.Option("--progress/--no-progress", help="Progress bar (default: on a terminal)."),
    ] = None,
    parallel: Annotated[
        bool | None,
        typer.Option(
            "--parallel/--serial",
            help="Parse in a second process while storing (default: for inputs over 4 MiB).",
        ),
    ] = None,
) -> None:
    """Import messages; running it again adds nothing. Exit 0 only when nothing failed."""
    from sdesk.channels.files.importer import ingest as run_ingest
    from sdesk.channels.files.readers import total_bytes

    desk = open_desk(ctx, db)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    show = sys.stderr.isatty() if progress is None else progress
    if show:
        bar = Progress(
            TextColumn("ingest"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            transient=True,
        )
        with bar:
            task = bar.add_task("ingest", total=total_bytes(paths) or None)
            summary = run_ingest(
                desk, paths, progress=lambda n: bar.advance(task, n), parallel=parallel
            )
    else:
        summary = run_ingest(desk, paths, parallel=parallel)
    _report(summary)
    if summary.interrupted:
        raise typer.Exit(130)
    if summary.failed:
        raise typer.Exit(1)


def _report(s: Summary) -> None:
    seen = s.created + s.appended + s.duplicates + s.quarantined + len(s.failed)
    typer.echo(
        f"{'interrupted after' if s.interrupted else 'ingested'} {seen} messages: "
        f"{s.created} tickets created, {s.appended} messages appended, "
        f"{s.duplicates} duplicates skipped, {s.auto} auto-replies, "
        f"{s.quarantined} quarantined, {len(s.failed)} failed"
    )
    for source, reason in s.failed[:MAX_FAILURES_SHOWN]:
        typer.echo(safe_text(f"failed: {source}: {reason}", single_line=True), err=True)
    if len(s.failed) > MAX_FAILURES_SHOWN:
        typer.echo(f"... and {len(s.failed) - MAX_FAILURES_SHOWN} more failures", err=True)
    if s.interrupted:
        typer.echo("everything counted above is committed; run the same command to finish")
