"""The ``sdesk`` command. Bare ``sdesk`` opens the desk; each command group lives in its own
module. Errors are one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from sdesk.cli import agents, alerts, demo, export, ingest, mail, quarantine, tickets, tokens
from sdesk.cli.common import ConfigOption, DbOption, State, fail, open_desk, run_guarded
from sdesk.cli.console import open_console

app = typer.Typer(
    name="sdesk",
    help="A terminal-first service desk: every channel in one keyboard-driven inbox.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    """``sdesk --version``: the installed package's version (its metadata), so a bug report
    names what actually ran."""
    if not value:
        return
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        number = installed("sdesk")
    except PackageNotFoundError:  # run from a source tree that was never installed
        from sdesk import __version__ as number
    typer.echo(f"sdesk {number}")
    raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    db: DbOption = None,
    config: ConfigOption = None,
    agent: Annotated[
        str | None, typer.Option("--agent", help="Work as this agent (default: your login).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log to stderr.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Open the console on the desk: every channel in one keyboard-driven inbox."""
    # Warnings reach a user without -v too (a write waiting for the desk's lock, a desk others
    # can read), as "sdesk: ..." lines; -v adds the info logs, with their logger names.
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s:%(name)s: %(message)s" if verbose else "sdesk: %(message)s",
    )
    ctx.obj = State(db=db, agent=agent, config=config)
    if ctx.invoked_subcommand is None:
        open_console(open_desk(ctx, None), agent)


app.command("ingest")(ingest.ingest)
app.command("export")(export.export)
app.command("demo")(demo.demo)
app.command("inbox")(tickets.inbox)
app.command("show")(tickets.show)
app.command("search")(tickets.search)
app.command("fetch")(mail.fetch)
app.command("serve")(mail.serve)
app.command("doctor")(mail.doctor)
app.add_typer(agents.app, name="agent")
app.add_typer(quarantine.app, name="quarantine")
app.add_typer(tokens.app, name="token")
app.add_typer(alerts.app, name="alerts")
app.command("oncall")(alerts.oncall)


def main() -> None:
    if os.environ.get("SDESK_DEBUG"):
        app()
        return
    code = run_guarded(app)
    if code:
        sys.exit(code)


__all__ = ["app", "fail", "main"]
