"""Reading the desk from the command line: inbox, one ticket, search."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from sdesk.cli.common import ConfigOption, DbOption, fail, open_desk
from sdesk.cli.render import print_ticket, ticket_table
from sdesk.core.enums import Status
from sdesk.store.inbox import InboxFilter, inbox_page
from sdesk.store.inbox import search as search_inbox
from sdesk.store.queries import ticket_detail


def inbox(
    ctx: typer.Context,
    db: DbOption = None,
    config: ConfigOption = None,
    status: Annotated[Status | None, typer.Option(help="Only tickets in this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many rows.")] = 40,
) -> None:
    """Print the inbox, most urgent SLA first."""
    desk = open_desk(ctx, db, config)
    with desk.store.read() as session:
        flt = InboxFilter(status=status.value if status else None)
        rows = inbox_page(session, flt, limit=limit).rows
    Console().print(ticket_table(rows, desk.clock()))


def show(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Ticket number, e.g. 1042.")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Print one ticket with its whole thread."""
    desk = open_desk(ctx, db, config)
    with desk.store.read() as session:
        detail = ticket_detail(session, number)
    if detail is None:
        fail(f"no ticket #{number}")
    print_ticket(Console(), detail, desk.clock())


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Words to find in subjects and messages.")],
    db: DbOption = None,
    config: ConfigOption = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 40,
) -> None:
    """Full-text search over ticket subjects and message text."""
    desk = open_desk(ctx, db, config)
    with desk.store.read() as session:
        rows = search_inbox(session, query, limit=limit).rows
    Console().print(ticket_table(rows, desk.clock(), title=f"Search: {query}"[:60]))
