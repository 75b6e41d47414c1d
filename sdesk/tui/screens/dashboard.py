"""The dashboard (``d``): how the desk is doing, drawn as block-character charts, and how each
mailbox's poller is doing.

The numbers come from ``sdesk.store.dashboard`` and ``sdesk.core.health`` in a thread worker, so
a big desk never freezes the console. On a live console the Mailboxes panel reads the health rows
again every ``MAILBOXES_SECONDS`` (the pollers write them from other threads and processes); the
counts wait for ``r``, as they cost a scan of the period. The drawings (``dashboard_charts``) are
pure functions of (stats, width, height), redrawn when their widget is resized.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from sdesk.core.desk import Desk
from sdesk.core.enums import Priority
from sdesk.core.health import MailboxStatus, mailbox_status
from sdesk.core.text import safe
from sdesk.store.dashboard import Dashboard, dashboard_stats
from sdesk.tui.screens.dashboard_charts import (
    channel_chart,
    duration,
    figure,
    mailbox_lines,
    mean_line,
    period_text,
    priority_line,
    score_lines,
    split_lines,
)
from sdesk.tui.threads import from_thread

LOAD_WORKER = "dashboard.load"  # names the worker whose failure the screen shows
MAILBOXES_SECONDS = 2.0  # how often a live dashboard reads the mailboxes' health again
PRIORITIES = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)  # worst first

Draw = Callable[[int, int], Text]


TALL_ENOUGH = 40  # rows; below this the satisfaction panel shows the mean and scores only


class Drawn(Static):
    """A ``Static`` whose text depends on its size, so it is redrawn whenever it is resized."""

    def __init__(self, placeholder: str = "", *, id: str, classes: str | None = None) -> None:
        super().__init__(Text(placeholder, style="dim"), id=id, classes=classes, markup=False)
        self._draw: Draw | None = None

    def show(self, draw: Draw) -> None:
        self._draw = draw
        self._redraw()

    def on_resize(self, _event: events.Resize) -> None:
        self._redraw()

    def _redraw(self) -> None:
        size = self.content_size
        if self._draw is not None and size.width > 0:  # not laid out yet: the resize will come
            self.update(self._draw(size.width, max(1, size.height)))


class DashboardScreen(Screen[None]):
    """Tickets per channel, open tickets by priority, SLA, first response and satisfaction."""

    CSS_PATH = "dashboard.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,d",
            "close",
            "Close",
            id="dashboard.close",
            tooltip="Close the dashboard and go back",
        ),
        Binding(
            "r",
            "reload",
            "Refresh",
            id="dashboard.refresh",
            tooltip="Count again from the desk",
        ),
    ]

    def __init__(self, desk: Desk, *, days: int = 14, live: bool = False) -> None:
        super().__init__(id="dashboard")
        self.desk = desk
        self.days = days
        self.live = live
        self.loaded = False  # True once the first load has been drawn (or has failed visibly)
        self.stats: Dashboard | None = None
        self.mailboxes: list[MailboxStatus] = []
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Dashboard", style="bold"), id="dashboard-title", markup=False)
        yield Static("", id="dashboard-error", markup=False)
        with Vertical(id="channels-panel", classes="panel"):
            yield Drawn("Loading…", id="channels")
        with Horizontal(id="dashboard-lower"):
            with Vertical(id="priority-panel", classes="panel"):
                for p in PRIORITIES:
                    yield Drawn(id=f"priority-{p.value}", classes="priority")
                yield Drawn(id="priority-total", classes="figure")
            with Vertical(id="sla-panel", classes="panel"):
                yield Drawn(id="breached-now", classes="figure")
                yield Drawn(id="breached-period", classes="figure")
                yield Drawn(id="first-response", classes="figure")
                yield Drawn(id="answered", classes="figure")
            with Vertical(id="satisfaction-panel", classes="panel"):
                yield Drawn(id="satisfaction-mean")
                yield Drawn(id="satisfaction-scores")
                yield Drawn(id="satisfaction-by")
        with Vertical(id="mailboxes-panel", classes="panel"):
            yield Drawn("Loading…", id="mailboxes")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#channels-panel").border_title = Text("New tickets per channel")
        self.query_one("#priority-panel").border_title = Text("Open by priority")
        self.query_one("#sla-panel").border_title = Text("SLA & response")
        self.query_one("#satisfaction-panel").border_title = Text("Satisfaction")
        self.query_one("#mailboxes-panel").border_title = Text("Mailboxes")
        self.load()
        if self.live and self.desk.settings.mailboxes:
            self.set_interval(MAILBOXES_SECONDS, self.load_mailboxes)

    @work(thread=True, exclusive=True, exit_on_error=False, name=LOAD_WORKER)
    def load(self) -> None:
        now = self.desk.clock()
        with self.desk.store.read() as session:
            stats = dashboard_stats(session, now, days=self.days)
            mailboxes = mailbox_status(session, self.desk.settings.mailboxes, now)
        from_thread(self.app, self._show, stats, mailboxes, now)

    @work(thread=True, exclusive=True, group="dashboard.mailboxes", exit_on_error=False)
    def load_mailboxes(self) -> None:
        """Only the health rows (a few, one quarantine count each): cheap enough to poll."""
        now = self.desk.clock()
        with self.desk.store.read() as session:
            mailboxes = mailbox_status(session, self.desk.settings.mailboxes, now)
        from_thread(self.app, self._mailboxes_loaded, mailboxes, now)

    def _mailboxes_loaded(self, mailboxes: list[MailboxStatus], now: datetime) -> None:
        if not self.is_attached or self.stats is None:  # closed, or the first load still to come
            return
        self.mailboxes = mailboxes
        self._show_mailboxes(mailboxes, now)  # "for" and "polled" age even when nothing changed

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == LOAD_WORKER and event.state is WorkerState.ERROR:
            self._show_error(event.worker.error)

    def _show_error(self, error: BaseException | None) -> None:
        message = str(error).strip().splitlines()[0] if error and str(error).strip() else ""
        self.error = f"Could not load the dashboard: {message or type(error).__name__}"
        banner = self.query_one("#dashboard-error", Static)
        banner.update(Text(safe(self.error), no_wrap=True, overflow="ellipsis"))
        banner.display = True
        self.loaded = True

    def _show(self, stats: Dashboard, mailboxes: list[MailboxStatus], now: datetime) -> None:
        if not self.is_attached:  # closed while the worker was counting
            return
        self.stats, self.mailboxes, self.error = stats, mailboxes, None
        self.query_one("#dashboard-error").display = False
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append("Dashboard", "bold")
        title.append(f"  last {len(stats.days)} days, {period_text(stats.days)} (UTC)", "dim")
        self.query_one("#dashboard-title", Static).update(title)
        self.query_one("#channels-panel").border_title = Text(
            f"New tickets per channel · {stats.created}"
        )
        self.query_one("#channels", Drawn).show(lambda w, h: channel_chart(stats, w, h))
        self._show_priorities(stats)
        self._show_sla(stats)
        self._show_satisfaction(stats)
        self._show_mailboxes(mailboxes, now)
        self.loaded = True

    def _show_mailboxes(self, mailboxes: list[MailboxStatus], now: datetime) -> None:
        troubled = sum(s.troubled for s in mailboxes)
        title = Text("Mailboxes")
        if troubled:
            title.append(f" · {troubled} need{'s' if troubled == 1 else ''} a look", "bold red")
        self.query_one("#mailboxes-panel").border_title = title
        self.query_one("#mailboxes", Drawn).show(lambda w, _h: mailbox_lines(mailboxes, now, w))

    def _show_priorities(self, stats: Dashboard) -> None:
        peak = max(stats.open_by_priority.values(), default=0)
        count_width = len(str(peak))
        for p in PRIORITIES:
            label, count = p.value.title(), stats.open_by_priority.get(p.value, 0)
            self.query_one(f"#priority-{p.value}", Drawn).show(
                _priority_draw(label, count, peak, count_width)
            )
        total = str(sum(stats.open_by_priority.values()))
        self.query_one("#priority-total", Drawn).show(lambda w, _h: figure("All open", total, w))

    def _show_sla(self, stats: Dashboard) -> None:
        median = stats.median_first_response
        figures = {
            "breached-now": ("SLA breached now", str(stats.breached_now)),
            "breached-period": (f"Breached, {len(stats.days)} d", str(stats.breached_period)),
            "first-response": ("Median 1st reply", duration(median) if median else "—"),
            "answered": ("Answered", str(stats.answered)),
        }
        for wid, (label, value) in figures.items():
            self.query_one(f"#{wid}", Drawn).show(_figure_draw(label, value))
        # breached now needs someone today; breached earlier is history to learn from
        self.query_one("#breached-now").set_class(stats.breached_now > 0, "bad")
        self.query_one("#breached-period").set_class(stats.breached_period > 0, "warn")

    def _show_satisfaction(self, stats: Dashboard) -> None:
        mean = self.query_one("#satisfaction-mean", Drawn)
        scores = self.query_one("#satisfaction-scores", Drawn)
        average = stats.satisfaction
        split = self.query_one("#satisfaction-by", Drawn)
        scores.display = average is not None
        # By agent and by week only when the screen is tall enough to keep the channel chart.
        split.display = average is not None and self.size.height >= TALL_ENOUGH
        if average is None:
            mean.show(lambda _w, _h: Text("No ratings yet.", style="dim"))
            return
        mean.show(lambda w, _h: mean_line(average, stats.rated, w))
        scores.show(lambda w, _h: score_lines(stats, w))
        split.show(lambda w, _h: split_lines(stats, w))

    def action_close(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self.load()


def _priority_draw(label: str, count: int, peak: int, count_width: int) -> Draw:
    """One priority's bar, drawn for whatever width its line gets."""
    return lambda width, _height: priority_line(label, count, peak, width, count_width)


def _figure_draw(label: str, value: str) -> Draw:
    return lambda width, _height: figure(label, value, width)
