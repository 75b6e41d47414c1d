"""``sdesk agent``: the operators who work the desk."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from sdesk.cli.common import ConfigOption, DbOption, open_desk
from sdesk.cli.render import plain
from sdesk.core.enums import Role
from sdesk.store.models import Agent

app = typer.Typer(help="Manage agents (operators).", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    login: Annotated[
        str, typer.Argument(help="Login name; the console defaults to the Unix user.")
    ],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    role: Annotated[Role, typer.Option(help="What the agent may do.")] = Role.DISPATCHER,
    email: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Add an agent. Once the desk has an admin, only an admin may add agents."""
    desk = open_desk(ctx, db, config)
    desk.add_agent(login, name=name, role=role, email=email, phone=phone, by=getpass.getuser())
    typer.echo(f"added agent {login} ({role.value})")


@app.command("list")
def list_(ctx: typer.Context, db: DbOption = None, config: ConfigOption = None) -> None:
    """List agents."""
    desk = open_desk(ctx, db, config)
    table = Table("Login", "Name", "Role", "Email", "Phone")
    with desk.store.read() as session:
        for a in session.execute(select(Agent).order_by(Agent.login)).scalars():
            table.add_row(
                plain(a.login), plain(a.name), a.role, plain(a.email or ""), plain(a.phone or "")
            )
    Console().print(table)


@app.command("phone")
def phone(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(help="The agent whose phone it is.")],
    number: Annotated[
        str | None, typer.Argument(help="E.164 (+4915123456789) or national; omit to clear.")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Set the phone Twilio rings first when the agent calls a customer (`c` in the console).
    Agents set their own; an admin anyone's."""
    desk = open_desk(ctx, db, config)
    stored = desk.phone.set_agent_phone(login, number, getpass.getuser())
    typer.echo(f"{login}: phone {stored}" if stored else f"{login}: phone cleared")


@app.command("reach")
def reach(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(help="The agent.")],
    push: Annotated[
        str | None, typer.Option(help="An apprise URL for push alerts, e.g. ntfys://ntfy.sh/x.")
    ] = None,
    phone: Annotated[str | None, typer.Option(help="For SMS and call alerts (E.164).")] = None,
    email: Annotated[str | None, typer.Option()] = None,
    group: Annotated[str | None, typer.Option(help="The agent's group (group:NAME).")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """How alerts reach an agent; only the options given change ("" clears one)."""
    from sdesk.core.alerts import set_agent_reach

    desk = open_desk(ctx, db, config)
    given = {
        k: v
        for k, v in {"push_target": push, "phone": phone, "email": email, "group": group}.items()
        if v is not None
    }
    if not given:
        typer.echo("nothing to change: give --push, --phone, --email or --group")
        raise typer.Exit(2)
    set_agent_reach(desk, login, by=getpass.getuser(), **given)
    typer.echo(f"agent {login}: {', '.join(sorted(given))} set")
