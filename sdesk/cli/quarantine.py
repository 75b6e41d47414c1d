"""``sdesk quarantine``: messages that could not be parsed, kept raw until a fix."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sdesk.cli.common import ConfigOption, DbOption, fail, open_desk
from sdesk.cli.render import plain
from sdesk.core.enums import Channel
from sdesk.core.intake import IntakeResult

app = typer.Typer(
    help="Inspect and re-process quarantined messages; compact old raw messages.",
    no_args_is_help=True,
)


@app.command("list")
def list_(ctx: typer.Context, db: DbOption = None, config: ConfigOption = None) -> None:
    """List quarantined messages with their errors."""
    desk = open_desk(ctx, db, config)
    table = Table("Id", "Channel", "Received", "Bytes", "Source", "Error")
    for row in desk.quarantined():
        table.add_row(
            str(row.id),
            plain(row.channel),
            row.received_at.strftime("%Y-%m-%d %H:%M"),
            str(row.size),
            plain(row.source),
            plain(row.error or ""),
        )
    Console().print(table)


@app.command("retry")
def retry(
    ctx: typer.Context,
    ids: Annotated[list[int] | None, typer.Argument(help="Ids to retry (default: all).")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Parse quarantined email and Telegram updates again, e.g. after upgrading sdesk; successes
    join their tickets (an update the desk took meanwhile is never stored twice)."""
    desk = open_desk(ctx, db, config)
    rows = desk.quarantined(limit=1_000_000)
    email_ids = [r.id for r in rows if r.channel == Channel.EMAIL]
    telegram_ids = [r.id for r in rows if r.channel == Channel.TELEGRAM]
    known = set(email_ids) | set(telegram_ids)
    chosen = [i for i in (ids or [*email_ids, *telegram_ids]) if i in known]
    if ids and len(chosen) != len(ids):
        fail(f"not quarantined email or Telegram: {sorted(set(ids) - set(chosen))}")
    settings = desk.settings.telegram
    if settings is None and any(i in set(telegram_ids) for i in chosen):
        fail("quarantined Telegram updates need [telegram] in the config to be read again")
    lines: list[tuple[int, bool, str]] = []
    mail = [i for i in chosen if i in set(email_ids)]
    if mail:
        from sdesk.channels.email.parse import parse_email  # loads with the command that needs it

        for raw_id, outcome in desk.retry_quarantined(parse_email, mail):
            if isinstance(outcome, IntakeResult):
                where = f"#{outcome.ticket_number}" if outcome.ticket_number else "already stored"
                lines.append((raw_id, True, f"{outcome.outcome.value} {where}"))
            else:
                lines.append((raw_id, False, outcome))
    updates = [i for i in chosen if i in set(telegram_ids)]
    if updates and settings is not None:
        from sdesk.channels.telegram.requeue import retry as retry_updates

        lines += [(r.raw_id, r.stored, r.line) for r in retry_updates(desk, settings, updates)]
    still = 0
    for raw_id, stored, line in lines:
        if stored:
            typer.echo(plain(f"{raw_id}: {line}").plain)
        else:
            still += 1
            typer.echo(plain(f"{raw_id}: still quarantined: {line}").plain, err=True)
    typer.echo(f"retried {len(lines)}: {len(lines) - still} stored, {still} still quarantined")
    if still:
        raise typer.Exit(1)


@app.command("compact")
def compact(ctx: typer.Context, db: DbOption = None) -> None:
    """Compress the raw messages an sdesk older than migration 0007 kept as they came.

    New messages are kept compressed anyway; each row is checked to give its exact bytes back
    before it is replaced. On SQLite the space freed is reused for new mail (VACUUM returns it).
    """
    desk = open_desk(ctx, db)
    report = desk.compact_raw()
    typer.echo(
        f"compacted {report.rows} raw messages: "
        f"{report.bytes_before} bytes kept in {report.bytes_after}"
    )
