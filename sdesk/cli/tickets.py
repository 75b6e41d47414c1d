"""Reading the desk from the command line: inbox, one ticket, search."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.cli.common import ConfigOption, DbOption, fail, open_desk
from sdesk.cli.listing import ListFormat, as_csv, as_json, print_list, write_data
from sdesk.cli.render import plain, print_ticket
from sdesk.core.enums import Status
from sdesk.store.inbox import InboxFilter, inbox_page
from sdesk.store.inbox import search as search_inbox
from sdesk.store.models import Ticket
from sdesk.store.queries import ACTIVE, TicketRow, rows_query, ticket_detail

INBOX_MAX = 10_000
SEARCH_MAX = 1000
# Counting a search's matches reads them: past this many the note says "more than".
SEARCH_COUNT_CAP = 10_000

FormatOption = Annotated[
    ListFormat,
    typer.Option(
        "--format",
        "-f",
        help="table, or json (one array) / csv (with a header) for scripts: exact, never cut.",
    ),
]


def inbox(
    ctx: typer.Context,
    db: DbOption = None,
    config: ConfigOption = None,
    status: Annotated[Status | None, typer.Option(help="Only tickets in this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=INBOX_MAX, help="How many rows.")] = 40,
    format: FormatOption = ListFormat.TABLE,
    all_: Annotated[
        bool, typer.Option("--all", help="Finished tickets too, after the active ones.")
    ] = False,
) -> None:
    """Print the active tickets (new, open, pending), most urgent SLA first; --all adds the
    finished ones, --status shows one status."""
    desk = open_desk(ctx, db, config)
    with desk.store.read() as session:
        flt = InboxFilter(status=status.value if status else None, everything=all_)
        page = inbox_page(session, flt, limit=limit)
        total = _inbox_total(session, flt) if page.more_after else len(page.rows)
    show_list(page.rows, desk.clock(), format, title="Inbox", total=str(total), most=INBOX_MAX)


def _inbox_total(session: Session, flt: InboxFilter) -> int:
    """How many tickets the inbox holds under the filter: the rows ``inbox_page`` reads from
    (tickets not merged away: active ones, one status, or all), counted. Only asked when a
    page says more exist."""
    query = rows_query()
    if flt.status:
        query = query.where(col(Ticket.status) == flt.status)
    elif not flt.everything:
        query = query.where(col(Ticket.status).in_(ACTIVE))
    return int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())


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
    limit: Annotated[int, typer.Option(min=1, max=SEARCH_MAX, help="How many rows.")] = 40,
    format: FormatOption = ListFormat.TABLE,
) -> None:
    """Full-text search over ticket subjects and message text."""
    desk = open_desk(ctx, db, config)
    with desk.store.read() as session:
        page = search_inbox(session, query, limit=limit)
        total = str(len(page.rows))
        if page.more_after:
            # The same search, only longer: the count agrees with what a bigger --limit lists.
            every = search_inbox(session, query, limit=SEARCH_COUNT_CAP)
            total = f"more than {SEARCH_COUNT_CAP}" if every.more_after else str(len(every.rows))
    if not page.rows and format is ListFormat.TABLE:
        Console().print(plain(f"no tickets match {query!r}"), soft_wrap=True)
        return
    show_list(
        page.rows, desk.clock(), format, title=f"Search: {query}", total=total, most=SEARCH_MAX
    )


def show_list(
    rows: Sequence[TicketRow],
    now: datetime,
    format: ListFormat,
    *,
    title: str,
    total: str,
    most: int,
) -> None:
    """The rows in the chosen format, then how many more exist: after the table, or on stderr
    for JSON and CSV so the data stays clean."""
    note = more_note(len(rows), total, most)
    if format is ListFormat.TABLE:
        console = Console()
        print_list(console, rows, now, title=title)
        if note:
            console.print(note, markup=False, highlight=False, soft_wrap=True)
        return
    write_data(as_json(rows) if format is ListFormat.JSON else as_csv(rows))
    if note:
        typer.echo(note, err=True)


def more_note(shown: int, total: str, most: int) -> str | None:
    """The line after a cut list ("showing 40 of 113; --limit 113 for all"), or None."""
    if total == str(shown):
        return None
    if not total.isdigit():
        return f"showing {shown} of {total}; --limit {most} for more"
    suggest = min(int(total), most)
    what = "all" if suggest == int(total) else "more"
    return f"showing {shown} of {total}; --limit {suggest} for {what}"
