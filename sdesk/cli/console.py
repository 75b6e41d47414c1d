"""Opening the console: bare ``sdesk``, and ``sdesk demo`` after it fills its desk."""

from __future__ import annotations

import getpass
import sys
from typing import TYPE_CHECKING

from sdesk.cli.common import fail
from sdesk.core.desk import Desk
from sdesk.store.queries import AgentRow, agent_row

if TYPE_CHECKING:
    from sdesk.channels.services import Background
    from sdesk.tui.app import SdeskApp


def default_agent() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER
        fail("cannot tell who you are; pass --agent NAME")


def open_console(desk: Desk, agent: str | None, *, services: bool = True) -> None:
    """Run the console as ``agent`` (default: the Unix login) until the operator quits; with
    ``services``, it fetches the mail and sends the outbox of the desk's mailboxes too."""
    from sdesk.tui.actions import ALL_ACTIONS

    login = agent or default_agent()
    with desk.store.read() as session:
        me = agent_row(session, login)
    if me is None:
        fail(f"unknown agent {login!r}; add it with: sdesk agent add {login} (or pass --agent)")
    known = {spec.id for spec in ALL_ACTIONS}
    unknown = sorted(set(desk.settings.console.keys) - known)
    if unknown:
        fail(f"config console.keys: no action {unknown[0]!r}; actions: {', '.join(sorted(known))}")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        fail("the console needs a terminal; to print the inbox use: sdesk inbox")
    from sdesk.cli.consolelog import logs_aside

    app, background = console_app(desk, me, services=services)
    try:
        with logs_aside():
            try:
                app.run()
            finally:
                if background is not None:
                    background.wait()  # a reply being sent, mail being stored: finished first
    finally:
        desk.announce(me.login, None)  # others stop seeing "viewing" at once, not after the TTL
        desk.close()


def console_app(
    desk: Desk, me: AgentRow, *, services: bool = True
) -> tuple[SdeskApp, Background | None]:
    """The console with the desk's background services (mail in, the outbox out) when it has
    mailboxes: the CLI builds them (``sdesk.channels.services``), the console only starts them
    after its first paint and asks them to stop when it closes; ``Background.wait`` then lets
    what is under way finish (ARCHITECTURE.md, layers)."""
    from sdesk.channels.services import Background, build_services
    from sdesk.tui.app import SdeskApp

    if not (services and desk.settings.mailboxes):
        return SdeskApp(desk, me), None
    background = Background(lambda: build_services(desk))
    return SdeskApp(desk, me, services=background), background
