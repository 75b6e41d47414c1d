"""``sdesk demo``: a throwaway desk full of a realistic week, no credentials, no network."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sdesk.cli.common import ConfigOption, DbOption, State, fail, settings_for
from sdesk.cli.console import default_agent, open_console
from sdesk.cli.render import ticket_table
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from sdesk.store.inbox import inbox_page


def demo(
    ctx: typer.Context,
    db: DbOption = None,
    config: ConfigOption = None,
    seed: Annotated[int, typer.Option(help="Seed for the generated week.")] = 7,
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the inbox instead of opening the console.")
    ] = False,
) -> None:
    """Create a demo desk (in a temporary folder unless --db is given) and open the console."""
    from sdesk.demo import seed_demo

    path = db or str(Path(tempfile.mkdtemp(prefix="sdesk-demo-")) / "demo.db")
    desk = Desk(open_store(path), settings_for(ctx, config))
    with desk.store.read() as session:
        if inbox_page(session, limit=1).rows:
            fail(f"{path} already holds tickets; the demo needs an empty desk")
    stats = seed_demo(desk, seed=seed)
    state = ctx.obj if isinstance(ctx.obj, State) else State()
    if not print_only and sys.stdin.isatty() and sys.stdout.isatty():
        # Never the configured mailboxes' services: a throwaway desk must not take real mail
        # (nor flag or move it on the server) or send from it.
        agent = state.agent or (None if _known_login(desk) else "admin")
        open_console(desk, agent, services=False)
        return
    console = Console()
    with desk.store.read() as session:
        rows = inbox_page(session, limit=40).rows
    console.print(ticket_table(rows, desk.clock(), title="sdesk demo — inbox"))
    console.print(
        f"demo desk: {path} ({stats.tickets} tickets, {stats.messages} messages); "
        f"try: sdesk --db {path} show {rows[0].number if rows else 1001}",
        markup=False,  # a path may hold brackets
        highlight=False,
    )


def _known_login(desk: Desk) -> bool:
    """The demo adds the Unix user as an agent when it can; otherwise work as its admin."""
    from sdesk.store.queries import agent_row

    with desk.store.read() as session:
        return agent_row(session, default_agent()) is not None
