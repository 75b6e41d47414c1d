"""``sdesk demo``: a throwaway desk full of a realistic week, no credentials, no network."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sdesk.cli.common import DbOption, fail
from sdesk.cli.render import ticket_table
from sdesk.config import load_settings
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from sdesk.store.inbox import inbox_page


def demo(
    db: DbOption = None,
    seed: Annotated[int, typer.Option(help="Seed for the generated week.")] = 7,
) -> None:
    """Create a demo desk (in a temporary folder unless --db is given) and show its inbox."""
    from sdesk.demo import seed_demo

    path = db or str(Path(tempfile.mkdtemp(prefix="sdesk-demo-")) / "demo.db")
    desk = Desk(open_store(path), load_settings())
    with desk.store.read() as session:
        if inbox_page(session, limit=1).rows:
            fail(f"{path} already holds tickets; the demo needs an empty desk")
    stats = seed_demo(desk, seed=seed)
    console = Console()
    with desk.store.read() as session:
        rows = inbox_page(session, limit=40).rows
    console.print(ticket_table(rows, desk.clock(), title="sdesk demo — inbox"))
    console.print(
        f"demo desk: {path} ({stats.tickets} tickets, {stats.messages} messages); "
        f"try: sdesk --db {path} show {rows[0].number if rows else 1001}"
    )
