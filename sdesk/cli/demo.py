"""``sdesk demo``: a throwaway desk full of a realistic week, no credentials, no network."""

from __future__ import annotations

import contextlib
import shlex
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from sdesk.cli.common import (
    EXIT_INTERRUPTED,
    ConfigOption,
    DbOption,
    State,
    fail,
    settings_for,
)
from sdesk.cli.console import default_agent, open_console
from sdesk.cli.listing import print_list
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from sdesk.store.inbox import inbox_page

TEMP_PREFIX = "sdesk-demo-"


def demo(
    ctx: typer.Context,
    db: DbOption = None,
    config: ConfigOption = None,
    seed: Annotated[int, typer.Option(help="Seed for the generated week.")] = 7,
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the inbox instead of opening the console.")
    ] = False,
) -> None:
    """Create a demo desk (in a temporary folder, removed on exit, unless --db is given) and
    open the console."""
    try:
        with _demo_path(db) as path:
            desk = Desk(open_store(path), settings_for(ctx, config))
            try:
                _run(ctx, desk, path, seed=seed, print_only=print_only, kept=db is not None)
            finally:
                desk.close()  # idempotent: the console closes it too
    except KeyboardInterrupt:  # Typer would say "Aborted!" and exit 1 (README: 130)
        fail("interrupted", EXIT_INTERRUPTED)


@contextlib.contextmanager
def _demo_path(db: str | None) -> Iterator[str]:
    """``--db`` as given, or a database in a temporary folder that is removed on every way out:
    a normal end, an error, Ctrl-C, SIGTERM or SIGHUP (taken as Ctrl-C here, so the
    ``finally`` runs), and a console that crashed."""
    if db is not None:
        yield db
        return
    folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}

    def leave(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        for sig in previous:
            signal.signal(sig, leave)
        yield str(folder / "demo.db")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        shutil.rmtree(folder, ignore_errors=True)


def _run(
    ctx: typer.Context, desk: Desk, path: str, *, seed: int, print_only: bool, kept: bool
) -> None:
    from sdesk.demo import seed_demo

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
    print_list(console, rows, desk.clock(), title="sdesk demo — inbox")
    number = rows[0].number if rows else 1001
    # Each hint on a line of its own and never wrapped by Rich, so a command can be copied
    # whole; a path may hold brackets, hence no markup.
    hints = [f"demo desk: {stats.tickets} tickets, {stats.messages} messages"]
    if kept:
        hints.append(f"try: sdesk --db {shlex.quote(path)} show {number}")
    else:
        hints += [
            "this desk is removed on exit; to keep one:",
            "  sdesk demo --db demo.db --print",
            f"  sdesk --db demo.db show {number}",
        ]
    for hint in hints:
        console.print(Text(hint), soft_wrap=True, highlight=False)


def _known_login(desk: Desk) -> bool:
    """The demo adds the Unix user as an agent when it can; otherwise work as its admin."""
    from sdesk.store.queries import agent_row

    with desk.store.read() as session:
        return agent_row(session, default_agent()) is not None
