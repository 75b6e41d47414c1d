"""The alerts view (``!``): active alerts with who was told how and when (held-back notices
with their reason), who is on call now and next; ``a`` acknowledges the selected alert.

Reads run in a thread worker (``store/alertviews.py``, ``core/oncall.py``); the
acknowledgement is the core's act (``Desk.acknowledge_alert``, recorded "console"). An alert's
title may quote a customer's subject: it is shown only through ``safe`` (rule 8).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from sdesk.core.desk import Desk
from sdesk.core.oncall import now_and_next
from sdesk.core.text import safe
from sdesk.store.alertviews import AlertView, list_alerts
from sdesk.tui.threads import from_thread

LOAD_WORKER = "alerts.load"
REFRESH_SECONDS = 2.0


def _clock(at: datetime | None) -> str:
    return at.strftime("%H:%M:%S") if at else "—"


def alert_text(a: AlertView, now: datetime) -> Text:
    """One alert as lines of plain text: its head, then each notice."""
    text = Text(f"#{a.id} ", style="bold")
    text.append(f"[{a.tier}] ", style="red" if a.tier in ("urgent", "emergency") else "yellow")
    text.append(safe(a.title, single_line=True))
    if a.count > 1:
        text.append(f"  ×{a.count}", style="bold")
    if a.next_at is not None:
        seconds = max(0, int((a.next_at - now).total_seconds()))
        text.append(f"\n  next step in {seconds // 60}m{seconds % 60:02d}s", style="dim")
    elif a.state == "active":
        text.append("\n  no step left: waiting for an acknowledgement", style="dim")
    for n in a.notices:
        line = f"{_clock(n.sent_at or n.created_at)} {n.agent} by {n.medium}: {n.state}"
        text.append("\n  " + safe(line, single_line=True))
        if n.reason:
            text.append(f" — {safe(n.reason, single_line=True)}", style="dim")
    return text


class AlertsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,exclamation_mark", "close", "Close", id="alerts.close",
                tooltip="Close the alerts view"),
        Binding("a", "acknowledge", "Acknowledge", id="alerts.ack",
                tooltip="Acknowledge the selected alert: its escalation stops"),
        Binding("r", "reload", "Refresh", id="alerts.refresh", tooltip="Read the alerts again"),
    ]  # fmt: skip

    def __init__(self, desk: Desk, me: str, *, live: bool = False) -> None:
        super().__init__(id="alerts")
        self.desk = desk
        self.me = me
        self.live = live
        self.loaded = False
        self.alerts: list[AlertView] = []

    def compose(self) -> ComposeResult:
        yield Static(Text("Alerts", style="bold"), id="alerts-title", markup=False)
        yield Static("", id="alerts-oncall", markup=False)
        yield OptionList(id="alerts-list")
        yield Static("", id="alerts-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.load()
        if self.live:
            self.set_interval(REFRESH_SECONDS, self.load)

    @work(thread=True, exclusive=True, exit_on_error=False, name=LOAD_WORKER)
    def load(self) -> None:
        now = self.desk.clock()
        with self.desk.store.read() as session:
            alerts = list_alerts(session)
        settings = self.desk.settings.alerts
        oncall = Text()
        for rotation in settings.rotations:
            current, following = now_and_next(settings, rotation.name, now)
            oncall.append(safe(rotation.name, single_line=True) + ": ", style="bold")
            now_line = f"now {current.agent or 'nobody'} until {_clock(current.end)}"
            oncall.append(safe(now_line, single_line=True))
            if following is not None:
                oncall.append(safe(f", next {following.agent or 'nobody'}", single_line=True))
            oncall.append("   ")
        from_thread(self.app, self._show, alerts, oncall, now)

    def _show(self, alerts: list[AlertView], oncall: Text, now: datetime) -> None:
        self.alerts = alerts
        self.query_one("#alerts-oncall", Static).update(oncall or Text("no on-call rotations"))
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options(Option(alert_text(a, now), id=str(a.id)) for a in alerts)
        if alerts:
            options.highlighted = min(highlighted or 0, len(alerts) - 1)
        else:
            options.add_option(Option(Text("no active alerts", style="dim"), disabled=True))
        self.loaded = True

    def selected(self) -> AlertView | None:
        index = self.query_one(OptionList).highlighted
        return self.alerts[index] if index is not None and index < len(self.alerts) else None

    def action_acknowledge(self) -> None:
        alert = self.selected()
        if alert is not None:
            self.acknowledge(alert.id)

    @work(thread=True, exclusive=True, exit_on_error=False, name="alerts.ack")
    def acknowledge(self, alert_id: int) -> None:
        acked = self.desk.acknowledge_alert(alert_id, self.me, "console")
        line = (
            f"alert {alert_id} was already acknowledged by {acked.by} ({acked.how})"
            if acked.already
            else f"alert {alert_id} acknowledged"
        )
        from_thread(self.app, self._acked, line)

    def _acked(self, line: str) -> None:
        self.query_one("#alerts-status", Static).update(Text(line))
        self.load()

    def action_reload(self) -> None:
        self.load()

    def action_close(self) -> None:
        self.dismiss()

    @on(OptionList.OptionSelected)
    def _selected(self, _event: OptionList.OptionSelected) -> None:
        pass  # enter does nothing more than highlight; ``a`` acknowledges
