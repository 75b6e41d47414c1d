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
    """Parse quarantined email again, e.g. after upgrading sdesk; successes join their tickets."""
    desk = open_desk(ctx, db, config)
    email_ids = [r.id for r in desk.quarantined(limit=1_000_000) if r.channel == Channel.EMAIL]
    chosen = [i for i in (ids or email_ids) if i in set(email_ids)]
    if ids and len(chosen) != len(ids):
        fail(f"not quarantined email: {sorted(set(ids) - set(chosen))}")
    from sdesk.channels.email.parse import parse_email  # loads with the command that needs it

    outcomes = desk.retry_quarantined(parse_email, chosen)
    still = 0
    for raw_id, outcome in outcomes:
        if isinstance(outcome, IntakeResult):
            where = f"#{outcome.ticket_number}" if outcome.ticket_number else "already stored"
            typer.echo(f"{raw_id}: {outcome.outcome.value} {where}")
        else:
            still += 1
            typer.echo(plain(f"{raw_id}: still quarantined: {outcome}").plain, err=True)
    typer.echo(
        f"retried {len(outcomes)}: {len(outcomes) - still} stored, {still} still quarantined"
    )
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
