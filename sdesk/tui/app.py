"""The console application: wiring only. Screens live in ``tui/screens``, widgets in
``tui/widgets``, every action is declared in ``tui/actions``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future
from contextlib import suppress
from datetime import datetime
from functools import partial
from typing import ClassVar, Protocol

from rich.console import RenderableType
from textual import on, work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.markup import MarkupError
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker, WorkerState, get_current_worker

from sdesk.core.desk import Desk
from sdesk.core.text import Safe, safe
from sdesk.store.alertviews import console_notices, escalations_by_number, last_notice_id
from sdesk.store.inbox import PAGE, InboxFilter, Page, inbox_page
from sdesk.store.live import Stamp, stamp, tickets_after
from sdesk.store.queries import AgentRow
from sdesk.tui.actions import APP_ACTIONS, DESK_ACTIONS, bindings
from sdesk.tui.compat import FrameWatchingApp, registered_theme, set_frame_rate
from sdesk.tui.messages import DeskChanged, EscalationsChanged, PresenceChanged
from sdesk.tui.startup import settle_after_first_paint
from sdesk.tui.threads import from_thread

log = logging.getLogger(__name__)

THEMES = {"dark": "textual-dark", "light": "textual-light"}
HEARTBEAT_SECONDS = 5.0
# Up to 120 frames a second (Textual's default is 60): a key that arrives while a frame is drawn
# then waits at most ~8 ms for the next one. Frames are drawn only when something changed, so
# an idle console costs nothing more. ``TEXTUAL_FPS`` in the environment still wins.
FPS = 120


class Services(Protocol):
    """The desk's background services as the CLI hands them over (``channels.services``)."""

    def start(self) -> None: ...  # returns at once

    def stop(self) -> None: ...  # returns at once


class SdeskApp(FrameWatchingApp):
    """One operator's console on one desk."""

    CSS_PATH = "sdesk.tcss"
    TITLE = "sdesk"
    BINDINGS: ClassVar[list[Binding]] = bindings(APP_ACTIONS)  # type: ignore[assignment]
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self, desk: Desk, me: AgentRow, *, live: bool = True, services: Services | None = None
    ) -> None:
        super().__init__()
        self.desk = desk
        self.me = me
        self.live = live
        self.services = services  # built by the CLI: this package imports no channel
        self.started = time.perf_counter()
        self.first_paint: float | None = None  # seconds from start to the first inbox page
        self.stamp: Stamp | None = None  # what this console has seen (set by the first page)
        self._presence: dict[int, tuple[tuple[str, str], ...]] = {}
        self.working_on: tuple[int | None, str] = (None, "viewing")
        self.alert_seen: int | None = None  # the last console notice toasted
        self._escalations: dict[int, datetime] = {}
        console = desk.settings.console
        self.theme = THEMES[console.theme]
        self.refresh_seconds = console.refresh_seconds
        # The first inbox page is read while Textual starts (styles, screen, first layout), so
        # the first frame can already hold it. The desk screen takes it once.
        first: Future[tuple[Stamp, Page]] = Future()
        self.first_page: Future[tuple[Stamp, Page]] | None = first
        threading.Thread(target=self._read_first_page, args=(first,), daemon=True).start()

    def get_theme(self, theme_name: str) -> Theme | None:
        """Textual asks for the theme once per line it draws, and each look-up copied its
        registry of themes (~0.05 ms): ~40 ms of the first paint, ~2 ms of every frame."""
        theme = registered_theme(self, theme_name)
        return theme if theme is not None else super().get_theme(theme_name)

    def _read_first_page(self, first: Future[tuple[Stamp, Page]]) -> None:
        try:
            with self.desk.store.read() as session:
                result = stamp(session), inbox_page(session, InboxFilter(), limit=PAGE)
                self.alert_seen = last_notice_id(session)  # toasts: what comes from now on
        except BaseException as exc:
            first.set_exception(exc)
        else:
            first.set_result(result)

    def on_mount(self) -> None:
        from sdesk.tui.screens.desk import DeskScreen

        self.screen_change_signal.subscribe(self, partial(set_frame_rate, fps=FPS), immediate=True)
        self.set_keymap(dict(self.desk.settings.console.keys))
        self.push_screen(DeskScreen())
        if self.live:
            self.set_interval(self.refresh_seconds, self.poll)
            self.set_interval(HEARTBEAT_SECONDS, self.heartbeat)

    def frame_shown(self, screen: Screen, renderable: RenderableType | None) -> None:
        """The first frame holding the inbox is the console's first paint."""
        if self.first_paint is None and renderable is not None and getattr(screen, "loaded", False):
            self.first_paint = time.perf_counter() - self.started
            self.call_later(self.after_first_paint)

    def after_first_paint(self) -> None:
        """What can wait until the operator sees the inbox: mail in and out, memory settling."""
        if self.live:
            self._start_channels()
        self.settle_memory()

    def _start_channels(self) -> None:
        """One operator, one command: the console fetches mail and sends the outbox itself
        whenever no ``sdesk serve`` holds those leases (each waits its turn otherwise). The CLI
        hands them over; they are built and started on a thread of their own (the mail modules
        take a while to import: not on the UI thread)."""
        if self.services is not None:
            self.services.start()

    def on_unmount(self) -> None:
        if self.services is not None:
            self.services.stop()  # returns at once; the CLI waits for what is under way

    def settle_memory(self) -> None:
        """After the first paint: end the collector's start-up pause (``tui/startup.py``)."""
        settle_after_first_paint()

    # -- live: what other processes changed ------------------------------------------------

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def poll(self) -> None:
        """Look for changes by others (ingest, pollers, other consoles) and their presence."""
        from sdesk.core.presence import others

        with self.desk.store.read() as session:
            now = stamp(session)
            fresh = tickets_after(session, self.stamp.ticket_id) if self.stamp else []
            presence = others(session, self.me.login, self.desk.clock())
            toasts = (
                console_notices(session, self.me.login, self.alert_seen)
                if self.alert_seen is not None
                else []
            )
            escalations = escalations_by_number(session)
        if get_current_worker().is_cancelled:
            return
        if toasts:
            self.alert_seen = toasts[-1][0]
            from_thread(self, self._alert_toasts, [t for _i, t in toasts])
        if escalations != self._escalations:
            self._escalations = escalations
            from_thread(self, self._post_screen, EscalationsChanged(escalations))
        if self.stamp is not None and now != self.stamp:
            from_thread(self, self._post_screen, DeskChanged(tuple(fresh)))
        self.stamp = now
        if presence != self._presence:
            self._presence = presence
            from_thread(self, self._post_screen, PresenceChanged(presence))

    def _alert_toasts(self, titles: list[str]) -> None:
        """The fast tier in this console: a toast per alert (the last few) and the bell."""
        for title in titles[-3:]:
            self.notify(
                safe(title, single_line=True),
                title="Alert (! to see, a to acknowledge)",
                severity="error",
                markup=False,
                timeout=15,
            )
        self.bell()

    def _post_screen(self, message: DeskChanged | PresenceChanged | EscalationsChanged) -> None:
        for screen in self.screen_stack:
            if hasattr(screen, "desk_screen"):
                screen.post_message(message)
        if isinstance(message, DeskChanged):
            urgent = [t for t in message.new if t.priority == "urgent"]
            for t in urgent[:3]:
                self.notify(
                    safe(f"#{t.number} {t.subject}", single_line=True),
                    title="New urgent ticket",
                    severity="warning",
                    markup=False,
                )
            if urgent:
                self.bell()

    def announce(self, number: int | None, activity: str = "viewing") -> None:
        """Tell the other consoles what I work on (see ``sdesk.core.presence``)."""
        self.working_on = (number, activity)
        self.heartbeat()

    @work(thread=True, exclusive=True, group="heartbeat", exit_on_error=False)
    def heartbeat(self) -> None:
        number, activity = self.working_on
        self.desk.announce(self.me.login, number, activity)

    @property
    def presence(self) -> dict[int, tuple[tuple[str, str], ...]]:
        return self._presence

    # -- errors from any worker become a visible line, never a traceback -------------------

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            log.error("worker %s failed: %r", event.worker.name, error)
            self.notify(safe(str(error) or type(error).__name__), severity="error", markup=False)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast of the console passes here (a widget's ``notify`` calls the app's), so
        none can carry a live escape or markup from customer text (ARCHITECTURE.md rule 8). The text
        is shown as ``safe()`` made it and never parsed; a string that is not ``Safe`` yet is
        made so, its markup first reduced to its words when it asked for markup (Textual's
        own "Press [b]ctrl+q[/b] to quit")."""
        if markup and not isinstance(message, Safe):
            with suppress(MarkupError):  # not markup after all: shown as it is, made safe
                message = Content.from_markup(message).plain
        super().notify(
            safe(message),
            title=safe(title, single_line=True),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    # -- screens and the palette -----------------------------------------------------------

    def action_help(self) -> None:
        from sdesk.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_leave(self) -> None:
        """``q``: quit, asking first when replies or notes are written but not sent. They are
        kept in the desk either way (ctrl+q quits without asking)."""
        screen = self.screen
        box = getattr(screen, "reply_box", None)
        unsent = box.unsent() if box is not None else []
        if not unsent:
            self.exit()
            return
        from rich.text import Text

        from sdesk.tui.screens.pickers import ConfirmScreen

        tickets = ", ".join(f"#{n}" for n in unsent)
        question = Text(
            f"Unsent draft{'s' if len(unsent) > 1 else ''} on {tickets}. ", style="bold"
        )
        question.append("They stay in the desk for next time. Quit?")

        keep = getattr(screen, "keep_drafts_then", None)

        def answered(yes: bool | None) -> None:
            if yes:
                keep(self.exit) if keep is not None else self.exit()

        self.push_screen(ConfirmScreen(question), answered)

    def action_dashboard(self) -> None:
        from sdesk.tui.screens.dashboard import DashboardScreen

        if not isinstance(self.screen, DashboardScreen):
            self.push_screen(DashboardScreen(self.desk, live=self.live))

    def action_alerts(self) -> None:
        from sdesk.tui.screens.alerts import AlertsScreen

        if not isinstance(self.screen, AlertsScreen):
            self.push_screen(AlertsScreen(self.desk, self.me.login, live=self.live))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if hasattr(screen, "desk_screen"):
            for spec in DESK_ACTIONS:
                if spec.allowed(self.me.role) and spec.action not in ("open", "back"):
                    yield SystemCommand(
                        f"{spec.label}: {spec.help}",
                        spec.help,
                        partial(screen.run_action, spec.action),
                    )
        yield SystemCommand("Dashboard", "Charts of the desk", self.action_dashboard)
        yield SystemCommand("Alerts", "Active alerts, who is on call", self.action_alerts)
        yield SystemCommand("Help", "Show every key", self.action_help)
