"""The dashboard (``d``): how the desk is doing, drawn as block-character charts, and how each
mailbox's poller is doing.

The numbers come from ``sdesk.store.dashboard`` and ``sdesk.core.health`` in a thread worker, so
a big desk never freezes the console. On a live console the Mailboxes panel reads the health rows
again every ``MAILBOXES_SECONDS`` (the pollers write them from other threads and processes); the
counts wait for ``r``, as they cost a scan of the period. Every chart is a pure function of
(stats, width, height) → ``Text``, redrawn when its widget is resized: the same screen reads at
80×24 and fills 160×48.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
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
from sdesk.core.enums import Channel, Priority
from sdesk.core.health import MailboxStatus, mailbox_status
from sdesk.store.dashboard import Dashboard, dashboard_stats
from sdesk.tui.render import age, channel_label, plain
from sdesk.tui.threads import from_thread

COLUMN = " ▁▂▃▄▅▆▇█"  # a column's top cell, in eighths
ROW = " ▏▎▍▌▋▊▉█"  # a bar's last cell, in eighths
LABEL_WIDTH = 5  # "MAIL " — the widest channel label and a space
MAX_LINES_PER_CHANNEL = 8  # taller bands add no information, only distance between rows
LOAD_WORKER = "dashboard.load"  # names the worker whose failure the screen shows
MAILBOXES_SECONDS = 2.0  # how often a live dashboard reads the mailboxes' health again
PRIORITIES = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)  # worst first

Draw = Callable[[int, int], Text]


def duration(delta: timedelta) -> str:
    """A wait as people say it: "40 s", "12 min", "2 h 05 min", "3 d 4 h"."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 60:
        return f"{minutes} min"
    if hours < 24:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{days} d {hours % 24} h"


def period_text(days: tuple[date, ...]) -> str:
    first, last = days[0], days[-1]
    # built by hand: strftime's unpadded day (%-d) is glibc-only
    start = f"{first.day} {first:%b}" + (f" {first.year}" if first.year != last.year else "")
    return f"{start} – {last.day} {last:%b} {last.year}"


def _eighths(value: int, peak: int, cells: int) -> int:
    """``value`` as eighths of ``cells`` cells; anything above zero stays visible."""
    if value <= 0 or peak <= 0 or cells <= 0:
        return 0
    return max(1, round(value / peak * cells * 8))


def hbar(value: int, peak: int, width: int) -> str:
    """A horizontal bar ``width`` cells wide, padded with spaces."""
    eighths = _eighths(value, peak, width)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (ROW[part] if part else "")
    return bar.ljust(width)[:width]


def channel_chart(stats: Dashboard, width: int, height: int) -> Text:
    """One band per channel, one column per day, all on one scale so channels compare; the
    bands grow taller when the screen does, and a day axis runs underneath."""
    if not stats.per_channel:
        return Text(f"No new tickets in the last {len(stats.days)} days.", style="dim")
    rows = sorted(stats.per_channel.items(), key=lambda kv: _channel_order(kv[0]))
    totals = {ch: sum(counts) for ch, counts in rows}
    total_width = len(str(max(totals.values()))) + 1
    room = max(1, width - LABEL_WIDTH - total_width)
    col = max(1, room // len(stats.days))
    shown = min(len(stats.days), room // col)  # a very narrow screen keeps the latest days
    days = stats.days[-shown:]
    gap = 1 if col >= 3 else 0  # gaps only once each day has room for a readable column
    cells = col - gap
    lines = max(1, min(MAX_LINES_PER_CHANNEL, (height - 1) // len(rows)))
    peak = max(max(counts[-shown:]) for _, counts in rows)
    text = Text(no_wrap=True, overflow="crop", end="")
    for ch, counts in rows:
        for line in range(lines):
            bottom = line == lines - 1
            text.append(
                f"{channel_label(ch):<{LABEL_WIDTH}}" if bottom else " " * LABEL_WIDTH, style="bold"
            )
            floor = (lines - 1 - line) * 8  # eighths below this line
            for value in counts[-shown:]:
                fill = min(8, max(0, _eighths(value, peak, lines) - floor))
                text.append(COLUMN[fill] * cells + " " * gap)
            if bottom:  # totals flush right, where the eye looks for a sum
                text.append(f"{totals[ch]:>{total_width + room - shown * col}}", style="bold")
            text.append("\n")
    text.append(" " * LABEL_WIDTH + _axis(days, col), style="dim")
    return text


def _channel_order(channel: str) -> int:
    order = list(Channel)
    try:
        return order.index(Channel(channel))
    except ValueError:
        return len(order)


def _axis(days: tuple[date, ...], col: int) -> str:
    """Day labels under their columns; a label that would touch its right neighbour is left out,
    working from the right so today is always named."""
    cells = [" "] * (len(days) * col)
    taken_from = len(cells) + 1
    for i in range(len(days) - 1, -1, -1):
        d, pos = days[i], i * col
        label = f"{d:%a} {d.day}" if col >= 7 else str(d.day)
        end = pos + len(label)
        if end < taken_from and end <= len(cells):
            cells[pos:end] = label
            taken_from = pos
    return "".join(cells)


def priority_line(label: str, count: int, peak: int, width: int, count_width: int) -> Text:
    bar = max(1, width - 7 - count_width - 1)
    text = Text(no_wrap=True, overflow="crop", end="")
    text.append(f"{label:<7}", style="bold")
    text.append(hbar(count, peak, bar))
    text.append(f" {count:>{count_width}}", style="bold")
    return text


def figure(label: str, value: str, width: int) -> Text:
    """A label on the left and its value flush right, so a column of figures lines up; when
    both do not fit on one line the value goes under its label."""
    text = Text(no_wrap=True, overflow="crop", end="")
    text.append(label)
    room = width - len(label) - len(value)
    text.append("\n" + " " * max(0, width - len(value)) if room < 1 else " " * room)
    text.append(value, style="bold")
    return text


def mean_line(mean: float, rated: int, width: int) -> Text:
    """ "4.3 / 5" and, flush right, how many ratings it rests on."""
    count = f"{rated} rating{'s' if rated != 1 else ''}"
    text = Text(no_wrap=True, overflow="crop", end="")
    text.append(f"{mean:.1f}", style="bold")
    text.append(" / 5")
    text.append(count.rjust(max(len(count) + 1, width - 7)), style="dim")
    return text


def score_lines(stats: Dashboard, width: int) -> Text:
    """One bar per score, 5 on top, on the scale of the most given score."""
    peak = max(stats.ratings.values(), default=0)
    count_width = len(str(peak))
    bar = max(1, width - 4 - count_width - 1)
    text = Text(no_wrap=True, overflow="crop", end="")
    for score in sorted(stats.ratings, reverse=True):
        count = stats.ratings[score]
        text.append(f"{score} ★ ", style="bold")
        text.append(hbar(count, peak, bar))
        text.append(f" {count:>{count_width}}")
        if score != min(stats.ratings):
            text.append("\n")
    return text


STATE_STYLE = {
    "connected": "green",
    "disconnected": "yellow",
    "silent": "bold yellow",
    "error": "bold red",
    "unknown": "dim",
}
NAME_WIDTH = 16  # longer mailbox names are cut; the full name is in the config


def mailbox_lines(statuses: Sequence[MailboxStatus], now: datetime, width: int) -> Text:
    """One line per mailbox under a header: name, state and for how long, the last good poll,
    quarantined mail, and the last error (cut to the width; its text is the server's, so it
    only ever enters as plain text)."""
    if not statuses:
        return Text("No mailboxes configured ([[mailboxes]] in the config file).", style="dim")
    name_w = min(NAME_WIDTH, max(7, *(len(s.name) for s in statuses)))

    def ago(at: datetime | None) -> str:
        return age(at, now) if at is not None else "—"

    text = Text(no_wrap=True, overflow="ellipsis", end="")
    header = f"{'Mailbox':<{name_w}} {'State':<12} {'For':>4}  {'Polled':>6}  Quar.  Last error"
    text.append(header[:width], style="dim")
    for s in statuses:
        text.append("\n")
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        name = s.name if len(s.name) <= name_w else s.name[: name_w - 1] + "…"
        line.append_text(plain(name, "bold"))
        line.append(" " * (name_w - len(name)))
        line.append(f" {s.state:<12}", style=STATE_STYLE.get(s.state, ""))
        line.append(f" {ago(s.since):>4}  {ago(s.last_poll_at):>6}  ")
        line.append(f"{s.quarantined:>5}", style="bold yellow" if s.quarantined else "")
        line.append("  ")
        if s.last_error:
            line.append(f"{ago(s.last_error_at)} ago: ", style="dim")
            line.append_text(plain(s.last_error, "red" if s.state == "error" else ""))
        else:
            line.append("—", style="dim")
        line.truncate(width, overflow="ellipsis")
        text.append_text(line)
    return text


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
        banner.update(Text(self.error, no_wrap=True, overflow="ellipsis"))
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
                lambda w, _h, label=label, count=count: priority_line(
                    label, count, peak, w, count_width
                )
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
            self.query_one(f"#{wid}", Drawn).show(
                lambda w, _h, label=label, value=value: figure(label, value, w)
            )
        # breached now needs someone today; breached earlier is history to learn from
        self.query_one("#breached-now").set_class(stats.breached_now > 0, "bad")
        self.query_one("#breached-period").set_class(stats.breached_period > 0, "warn")

    def _show_satisfaction(self, stats: Dashboard) -> None:
        mean = self.query_one("#satisfaction-mean", Drawn)
        scores = self.query_one("#satisfaction-scores", Drawn)
        average = stats.satisfaction
        scores.display = average is not None
        if average is None:
            mean.show(lambda _w, _h: Text("No ratings yet.", style="dim"))
            return
        mean.show(lambda w, _h: mean_line(average, stats.rated, w))
        scores.show(lambda w, _h: score_lines(stats, w))

    def action_close(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self.load()
