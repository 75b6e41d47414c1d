"""The desk's filter bar: the counts per filter with the one in force, or the search shown.

The bar owns the inbox filter. Changing it (a key, the filter menu) posts
``FilterBar.Changed``; whoever shows the inbox reads it again with the new filter. The counts
and the search line come in from outside (``show_counts``, ``show_search``), since the inbox
reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import Static

from sdesk.store.inbox import InboxCounts, InboxFilter
from sdesk.tui.render import channel_label, plain


@dataclass(frozen=True)
class Found:
    """A search on show: its words and how many tickets it found (``more``: and more)."""

    words: str
    count: int
    more: bool


class FilterBar(Static):
    """One line under the top bar."""

    @dataclass
    class Changed(Message):
        """The filter changed; ``clear_search``: the operator asked for the plain inbox."""

        flt: InboxFilter
        clear_search: bool = False

    def __init__(self, login: str, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.login = login  # "Mine" is this agent's tickets
        self.flt = InboxFilter()
        self.counts: InboxCounts | None = None
        self.found: Found | None = None
        self.marked = 0  # tickets marked for a bulk act
        self.snippet = ""  # in a search: the matching text of the highlighted ticket

    # -- what the bar shows ----------------------------------------------------------------

    def show_counts(self, counts: InboxCounts) -> None:
        self.counts = counts
        self.draw()

    def show_marked(self, n: int) -> None:
        if n != self.marked:
            self.marked = n
            self.draw()

    def show_search(self, found: Found | None) -> None:
        """The search on show, or None for the counts."""
        self.found = found
        if found is None:
            self.snippet = ""
        self.draw()

    def show_snippet(self, snippet: str) -> None:
        """What matched in the highlighted search result (customer text: shown plain)."""
        if snippet != self.snippet:
            self.snippet = snippet
            self.draw()

    def draw(self) -> None:
        c, found = self.counts, self.found
        bar = Text(end="")
        if self.marked:
            bar.append(f"● {self.marked} marked", style="bold reverse")
            bar.append(" a/A/s/p/z/m act on them · Esc unmark  ")
        if found is not None:
            bar.append("Search ", style="bold")
            bar.append_text(plain(f"“{found.words}”"))
            bar.append(f": {found.count}{'+' if found.more else ''} tickets", style="bold")
            if self.snippet:
                bar.append(" · ")
                bar.append_text(plain(self.snippet, "italic"))
            else:
                bar.append("  Esc: back to the inbox", style="dim")
        if c is not None and found is None:
            flt = self.flt

            def item(label: str, n: int, on: bool) -> None:
                bar.append(f"{label} {n:,}", style="bold reverse" if on else "")
                bar.append("  ")

            item("Active", c.active, flt == InboxFilter())
            if flt.everything:
                item("All", c.everything, True)
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
        self.update(bar, layout=False)  # always one line

    # -- changing the filter ---------------------------------------------------------------

    def set_filter(self, flt: InboxFilter, *, clear_search: bool = False) -> None:
        self.flt = flt
        self.post_message(self.Changed(flt, clear_search))

    def toggle(self, field: str, value: str | bool = True) -> None:
        """Turn one filter on (or off, if it is on already)."""
        self.set_filter(self.flt.toggled(field, value))

    def clear(self) -> None:
        """No filter and no search."""
        self.set_filter(InboxFilter(), clear_search=True)

    def choose(self) -> None:
        """The filter menu: every filter with its count, the ones in force marked."""
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
        opt(
            "All tickets, finished ones too",
            c.everything if c else None,
            "everything",
            True,
            flt.everything,
        )
        opt("Mine", c.mine if c else None, "assignee", self.login, bool(flt.assignee))
        opt("Unassigned", c.unassigned if c else None, "unassigned", True, flt.unassigned)
        for ch in ("email", "telegram", "phone", "sms", "web", "app", "api"):
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
                self.clear()
            else:
                self.toggle(field, value)

        self.app.push_screen(
            ChoiceScreen("Filter the inbox (counts: active tickets)", options), chosen
        )
