"""``sdesk ingest``: bring history in from files."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from sdesk.cli.common import ConfigOption, DbOption, open_desk
from sdesk.core.text import safe_text

if TYPE_CHECKING:  # the readers and parsers load when a command runs, not with every command
    from sdesk.channels.files.importer import Summary

MAX_LISTED = 50  # skipped and failed entries each; the count says how many more


def _sigterm_as_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help=".eml files, mbox files, Maildir folders, folders, JSON Lines files."),
    ],
    db: DbOption = None,
    config: ConfigOption = None,
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
    """Import messages; running it again adds nothing. Exit 0 only when nothing failed.

    Files in a folder that hold no message (a README, an image) are named on stderr as
    ``skipped: FILE: reason`` and counted, but do not change the exit status: nothing was lost.
    """
    from sdesk.channels.files.importer import Summary
    from sdesk.channels.files.importer import ingest as run_ingest
    from sdesk.channels.files.readers import total_bytes

    desk = open_desk(ctx, db, config)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    show = sys.stderr.isatty() if progress is None else progress
    summary = Summary()
    try:
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
                run_ingest(
                    desk,
                    paths,
                    progress=lambda n: bar.advance(task, n),
                    parallel=parallel,
                    summary=summary,
                )
        else:
            run_ingest(desk, paths, parallel=parallel, summary=summary)
    except Exception:  # the store failed: say what is safe, then the error itself
        _report(summary, verb="stopped after")
        typer.echo(
            "everything counted above is committed; run the same command again to resume",
            err=True,
        )
        raise
    _report(summary, verb="interrupted after" if summary.interrupted else "ingested")
    if summary.interrupted:
        raise typer.Exit(130)
    if summary.failed:
        raise typer.Exit(1)


def _report(s: Summary, *, verb: str) -> None:
    typer.echo(
        f"{verb} {s.seen} messages: "
        f"{s.created} tickets created, {s.appended} messages appended, "
        f"{s.duplicates} duplicates skipped, {s.auto} auto-replies, "
        f"{s.quarantined} quarantined, {len(s.skipped)} skipped, {len(s.failed)} failed"
    )
    _list("skipped", s.skipped)
    _list("failed", s.failed)
    if s.interrupted:
        typer.echo("everything counted above is committed; run the same command to finish")


def _list(what: str, entries: list[tuple[str, str]]) -> None:
    for source, reason in entries[:MAX_LISTED]:
        typer.echo(safe_text(f"{what}: {source}: {reason}", single_line=True), err=True)
    if len(entries) > MAX_LISTED:
        typer.echo(f"... and {len(entries) - MAX_LISTED} more {what}", err=True)
