"""Opening the console: bare ``sdesk``, and ``sdesk demo`` after it fills its desk."""

from __future__ import annotations

import getpass
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from sdesk.cli.common import fail
from sdesk.core.desk import Desk
from sdesk.core.health import one_line
from sdesk.store.queries import AgentRow, agent_row

if TYPE_CHECKING:
    from sdesk.channels.services import Service, Supervisor
    from sdesk.tui.app import SdeskApp

log = logging.getLogger(__name__)


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
    from sdesk.tui.startup import collector_paused

    try:
        with logs_aside(), collector_paused():  # until the first paint (sdesk/tui/startup.py)
            app, background = console_app(desk, me, services=services)
            try:
                app.run()
            finally:
                if background is not None:
                    background.wait()  # a reply being sent, mail being stored: finished first
    finally:
        desk.announce(me.login, None)  # others stop seeing "viewing" at once, not after the TTL
        desk.close()


def _build_services(desk: Desk) -> list[Service]:
    from sdesk.channels.services import build_services

    return build_services(desk)


def console_app(
    desk: Desk, me: AgentRow, *, services: bool = True
) -> tuple[SdeskApp, Background | None]:
    """The console with the desk's background services (mail in, the outbox out) when it has
    mailboxes: the CLI hands them over (``Background``), the console only starts them
    after its first paint and asks them to stop when it closes; ``Background.wait`` then lets
    what is under way finish (ARCHITECTURE.md, layers)."""
    from sdesk.tui.app import SdeskApp

    if not (services and desk.settings.mailboxes):
        return SdeskApp(desk, me), None
    background = Background(lambda: _build_services(desk))
    return SdeskApp(desk, me, services=background), background


class Background:
    """The desk's services for the console, imported, built and supervised on a thread of their
    own (``sdesk.channels.services``): the console calls ``start`` after its first paint (the
    mail modules take a while to import: never before it, never on the UI thread) and ``stop``
    when it closes, which returns at once; ``wait`` then lets what is under way finish."""

    def __init__(self, build: Callable[[], Iterable[Service]]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.supervisor: Supervisor | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sdesk:services", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from sdesk.channels.services import Supervisor

        try:
            supervisor = Supervisor(self._build())
        except Exception as exc:
            log.error("background services did not start: %s", one_line(f"{exc!r}"))
            return
        with self._lock:
            if self._stopped:
                return
            self.supervisor = supervisor
            supervisor.start()

    def stop(self) -> None:
        """Ask the services to stop; returns at once."""
        with self._lock:
            self._stopped = True
            if self.supervisor is not None:
                self.supervisor.stopping.set()

    def wait(self, timeout: float | None = None) -> list[str]:
        """Stop and wait for the services (``Supervisor.stop``; by default as long as a send
        under way may take); returns the names of those still running then."""
        from sdesk.channels.services import STOP_TIMEOUT

        self.stop()
        timeout = STOP_TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        if self._thread is not None:
            self._thread.join(timeout)
        if self.supervisor is None:
            return []
        return self.supervisor.stop(max(0.0, deadline - time.monotonic()))
