"""The desk screen's filter bar (counts per filter) and its filter keys and menu.

Mixed into ``DeskScreen``; the inbox reloads through ``DeskScreen.load_inbox``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Input, Static

from sdesk.store.inbox import InboxFilter
from sdesk.tui.render import channel_label, plain
from sdesk.tui.widgets.inbox import InboxList

if TYPE_CHECKING:
    from sdesk.tui.screens.desk import DeskScreen

    _Base = DeskScreen
else:
    _Base = object


class DeskFilters(_Base):
    """Mixed into ``DeskScreen``."""

    def _show_filterbar(self) -> None:
        c = self.counts
        bar = Text(end="")
        if self.words is not None:
            inbox = self.query_one(InboxList)
            n = len(inbox.rows)
            bar.append("Search ", style="bold")
            bar.append_text(plain(f"“{self.words}”"))
            bar.append(f": {n}{'+' if inbox.more_after else ''} tickets", style="bold")
            bar.append("  Esc: back to the inbox", style="dim")
        if c is not None and self.words is None:
            flt = self.flt

            def item(label: str, n: int, on: bool) -> None:
                bar.append(f"{label} {n:,}", style="bold reverse" if on else "")
                bar.append("  ")

            item("Active", c.active, flt == InboxFilter())
            item("Mine", c.mine, bool(flt.assignee))
            item("Unassigned", c.unassigned, flt.unassigned)
            for pr in ("urgent", "high"):
                if c.priority.get(pr):
                    item(pr, c.priority[pr], flt.priority == pr)
            for ch, n in sorted(c.channel.items(), key=lambda kv: -kv[1]):
                item(channel_label(ch), n, flt.channel == ch)
            if flt.status:
                item(flt.status, c.status.get(flt.status, 0), True)
            if flt != InboxFilter():
                bar.append(f"│ {flt.describe()}", style="italic")
        self.query_one("#filterbar", Static).update(bar, layout=False)  # always one line

    def _refilter(self, flt: InboxFilter) -> None:
        self.flt = flt
        self.load_inbox()

    def action_toggle_mine(self) -> None:
        self._refilter(self.flt.toggled("assignee", self.sapp.me.login))

    def action_toggle_unassigned(self) -> None:
        self._refilter(self.flt.toggled("unassigned"))

    def action_clear_filters(self) -> None:
        self.words = None
        self.query_one("#search", Input).display = False
        self._refilter(InboxFilter())

    def action_filter_menu(self) -> None:
        from sdesk.tui.screens.pickers import ChoiceScreen

        c = self.counts
        options: list[tuple[Text | str, tuple[str, str | bool]]] = []

        def opt(label: str, n: int | None, field: str, value: str | bool, on: bool) -> None:
            text = Text(f"{'●' if on else ' '} {label}", end="")
            if n is not None:
                text.append(f"  {n:,}", style="dim")
            options.append((text, (field, value)))

        flt = self.flt
        opt("Clear all filters", c.active if c else None, "clear", True, flt == InboxFilter())
        opt("Mine", c.mine if c else None, "assignee", self.sapp.me.login, bool(flt.assignee))
        opt("Unassigned", c.unassigned if c else None, "unassigned", True, flt.unassigned)
        for ch in ("email", "telegram", "phone", "sms", "web", "app"):
            n = c.channel.get(ch, 0) if c else None
            opt(f"Channel {channel_label(ch)}", n, "channel", ch, flt.channel == ch)
        for st in ("new", "open", "pending", "resolved", "closed"):
            opt(f"Status {st}", c.status.get(st, 0) if c else None, "status", st, flt.status == st)
        for pr in ("urgent", "high", "normal", "low"):
            n = c.priority.get(pr, 0) if c else None
            opt(f"Priority {pr}", n, "priority", pr, flt.priority == pr)

        def chosen(choice: tuple[str, str | bool] | None) -> None:
            if choice is None:
                return
            field, value = choice
            if field == "clear":
                self.action_clear_filters()
            else:
                self._refilter(self.flt.toggled(field, value))

        self.app.push_screen(
            ChoiceScreen("Filter the inbox (counts: active tickets)", options), chosen
        )
