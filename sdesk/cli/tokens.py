"""``sdesk token``: bearer tokens for the REST API (``core/tokens.py``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sdesk.cli.common import ConfigOption, DbOption, fail, open_desk
from sdesk.cli.render import plain
from sdesk.core.tokens import TokenKind

app = typer.Typer(help="Manage REST API tokens.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name to list and revoke it by.")],
    customer: Annotated[
        str | None, typer.Option(help="A customer's email or phone: sees only their tickets.")
    ] = None,
    agent: Annotated[
        str | None, typer.Option(help="An agent's login: acts with the agent's role.")
    ] = None,
    integration: Annotated[
        bool, typer.Option("--integration", help="Opens tickets for any customer.")
    ] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Make a token; it is printed once, as the last line (the desk keeps only its hash)."""
    chosen = [customer is not None, agent is not None, integration]
    if sum(chosen) != 1:
        fail("give exactly one of --customer EMAIL_OR_PHONE, --agent LOGIN, --integration", 2)
    desk = open_desk(ctx, db, config)
    if customer is not None:
        kind = TokenKind.CUSTOMER
    elif agent is not None:
        kind = TokenKind.AGENT
    else:
        kind = TokenKind.INTEGRATION
    token = desk.tokens.create(name, kind, customer=customer, agent=agent)
    typer.echo(f"created {kind.value} token {plain(name)}; keep it now, it is not shown again:")
    typer.echo(token)


@app.command("list")
def list_(ctx: typer.Context, db: DbOption = None, config: ConfigOption = None) -> None:
    """List tokens (never their values)."""
    desk = open_desk(ctx, db, config)
    table = Table("Name", "Kind", "Whose", "Created", "Revoked")
    for row in desk.tokens.list():
        table.add_row(
            plain(row.name),
            row.kind,
            plain(row.whose),
            f"{row.created_at:%Y-%m-%d %H:%M}",
            f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "",
        )
    Console().print(table)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The token's name.")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Revoke a token: it gets 401 from the next request on."""
    desk = open_desk(ctx, db, config)
    desk.tokens.revoke(name)
    typer.echo(f"revoked token {plain(name)}")
