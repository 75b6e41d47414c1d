"""Opening the console: bare ``sdesk``, and ``sdesk demo`` after it fills its desk."""

from __future__ import annotations

import getpass
import sys

from sdesk.cli.common import fail
from sdesk.core.desk import Desk
from sdesk.store.queries import agent_row


def default_agent() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER
        fail("cannot tell who you are; pass --agent NAME")


def open_console(desk: Desk, agent: str | None) -> None:
    """Run the console as ``agent`` (default: the Unix login) until the operator quits."""
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
    from sdesk.tui.startup import collector_paused

    try:
        with logs_aside(), collector_paused():  # until the first paint (sdesk/tui/startup.py)
            from sdesk.tui.app import SdeskApp

            SdeskApp(desk, me).run()
    finally:
        desk.announce(me.login, None)  # others stop seeing "viewing" at once, not after the TTL
        desk.close()
