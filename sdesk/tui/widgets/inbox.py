"""The inbox list: a window of ticket rows read from the store by key, drawn line by line.

Only the rows of the loaded window exist (a few hundred at most, however large the desk): the
widget asks for the next or previous page when the cursor nears an edge, and drops rows far
behind it (toolong's way of rendering only what is visible).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sdesk.store.inbox import Page, PageKey, key_of
from sdesk.store.queries import TicketRow
from sdesk.tui.render import Columns, Run, colourless_style, ticket_runs
from sdesk.tui.widgets.virtual import set_virtual_size

WINDOW = 600  # rows kept; beyond this the far end is dropped and re-read by key when needed
PREFETCH = 30  # rows before the window's edge at which the next page is asked for


class InboxList(ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"inbox--cursor", "inbox--empty"}
    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
    ]
    DEFAULT_CSS = """
    InboxList { background: $surface; overflow-x: hidden; }
    InboxList > .inbox--cursor { background: $accent 40%; text-style: bold; }
    InboxList:focus > .inbox--cursor { background: $accent; color: $text; }
    InboxList > .inbox--empty { color: $text-muted; }
    """

    @dataclass
    class Highlighted(Message):
        row: TicketRow

    @dataclass
    class Selected(Message):
        row: TicketRow

    @dataclass
    class NeedPage(Message):
        """The cursor nears an edge of the window; ``after``/``before`` say which page.
        Neither: the first page; ``last``: the last one (the cursor goes to its end)."""

        after: PageKey | None = None
        before: PageKey | None = None
        last: bool = False

    @dataclass
    class ViewWidth(Message):
        """The width the rows are drawn in changed (a resize, the scrollbar came or went):
        the header lines up with it."""

        width: int

    def __init__(self, *, now: datetime, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[TicketRow] = []
        self.cursor = 0
        self.more_after = False
        self.more_before = False
        self.empty_text = "Loading…"
        self.presence: dict[int, tuple[tuple[str, str], ...]] = {}
        self.escalations: dict[int, datetime] = {}  # number → an alert's next step
        self.now = now
        self._asked: PageKey | None = None
        # A drawn row by (index, width), with the style it was drawn in: a row is drawn again
        # when that style is no longer the one Textual gives (the cursor row's colours follow
        # the focus, which Textual's stylesheet applies on its own schedule, then repaints).
        self._cache: dict[tuple[int, int], tuple[Style, Strip]] = {}
        self._base = Style()
        self._styles: dict[str, Style] = {}  # a run's style name, parsed once
        self._told_width = 0  # the view width last posted (``ViewWidth``)
        self.marked: set[int] = set()  # ticket numbers marked for a bulk act (space)

    # -- data ------------------------------------------------------------------------------

    def show(
        self, page: Page, *, keep: int | None = None, stay: bool = False, empty_text: str = ""
    ) -> None:
        """Replace the window with ``page``. The cursor stays on ticket ``keep`` if present;
        with ``stay`` (the ticket left this list, e.g. resolved) it stays at its row, so the
        next ticket moves under it; otherwise it goes to the top."""
        old_index = self.cursor
        self.rows = list(page.rows)
        self.more_after, self.more_before = page.more_after, page.more_before
        self.empty_text = empty_text or "No tickets here."
        numbers = [r.number for r in self.rows]
        if keep is not None and keep in numbers and not stay:
            self.cursor = numbers.index(keep)
        elif keep is not None or stay:
            self.cursor = min(old_index, max(0, len(self.rows) - 1))
        else:
            self.cursor = 0
        self._asked = None
        self._changed(scroll=keep is None and not stay)

    def show_last(self, page: Page) -> None:
        """Replace the window with the inbox's last page, the cursor on its last row."""
        self.rows = list(page.rows)
        self.more_after, self.more_before = False, page.more_before
        self.cursor = max(0, len(self.rows) - 1)
        self._asked = None
        self._changed(scroll=False)

    def extend(self, page: Page) -> None:
        """Add the page that follows the window; drop rows far above the cursor."""
        self.rows += page.rows
        self.more_after = page.more_after
        drop = len(self.rows) - WINDOW
        if drop > 0 and self.cursor > drop + PREFETCH:
            del self.rows[:drop]
            self.cursor -= drop
            self.scroll_to(y=max(0, self.scroll_y - drop), animate=False)
            self.more_before = True
        self._asked = None
        self._changed(scroll=False)

    def prepend(self, page: Page) -> None:
        """Add the page that precedes the window; drop rows far below the cursor."""
        self.rows[:0] = page.rows
        self.cursor += len(page.rows)
        self.more_before = page.more_before
        self.scroll_to(y=self.scroll_y + len(page.rows), animate=False)
        if len(self.rows) > WINDOW and self.cursor < WINDOW - PREFETCH:
            del self.rows[WINDOW:]
            self.more_after = True
        self._asked = None
        self._changed(scroll=False)

    def set_presence(self, presence: dict[int, tuple[tuple[str, str], ...]]) -> None:
        if presence != self.presence:
            self.presence = presence
            self._cache.clear()
            self.refresh()

    def set_escalations(self, due: dict[int, datetime]) -> None:
        if due != self.escalations:
            self.escalations = due
            self._cache.clear()
            self.refresh()

    def set_now(self, now: datetime) -> None:
        """Ages and SLA countdowns move with the clock."""
        if now != self.now:
            self.now = now
            self._cache.clear()
            self.refresh()

    def toggle_mark(self) -> None:
        """Mark the cursor's ticket (or unmark it) and go to the next row, as mail readers do."""
        row = self.current
        if row is None:
            return
        self.marked ^= {row.number}
        self._cache.pop((self.cursor, self._view.width), None)
        self.refresh_line(self.cursor)
        self._move(self.cursor + 1)

    def clear_marks(self) -> None:
        if self.marked:
            self.marked = set()
            self._cache.clear()
            self.refresh()

    @property
    def current(self) -> TicketRow | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    @property
    def _view(self) -> Size:
        """The visible area: the widget less its scrollbar."""
        return self.scrollable_content_region.size

    @property
    def view_width(self) -> int:
        return self._view.width

    def _changed(self, *, scroll: bool) -> None:
        self._cache.clear()
        height = len(self.rows) + (1 if self.more_after else 0)
        set_virtual_size(self, Size(self._view.width, height))
        self.refresh()
        if scroll:
            self.scroll_to(y=0, animate=False)
        self._follow()
        if self.current is not None:
            self.post_message(self.Highlighted(self.current))

    # -- movement --------------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor + direction * max(1, self._view.height - 1))

    def action_first(self) -> None:
        if self.more_before:
            self.post_message(self.NeedPage())  # back to the top: re-read the first page
            return
        self._move(0)

    def action_last(self) -> None:
        if self.more_after:
            self.post_message(self.NeedPage(last=True))  # the end: read the last page
            return
        self._move(len(self.rows) - 1)

    def _move(self, index: int) -> None:
        if not self.rows:
            return
        index = max(0, min(index, len(self.rows) - 1))
        if index == self.cursor:
            self._follow()  # the view may have scrolled away from the cursor (wheel, scrollbar)
        else:
            width = self._view.width
            self._cache.pop((self.cursor, width), None)  # only the two rows that change colour
            self._cache.pop((index, width), None)
            previous, self.cursor = self.cursor, index
            if not self._follow():  # no scroll: only the two rows that changed are redrawn
                self.refresh_line(previous)
                self.refresh_line(index)
            self.post_message(self.Highlighted(self.rows[index]))
        self._maybe_fetch()

    def _follow(self) -> bool:
        """Scroll the cursor into view; whether it scrolled (then everything is redrawn)."""
        height = self._view.height
        if height <= 0:  # hidden behind the ticket: follow once it is shown again (on_resize)
            return False
        if self.cursor < self.scroll_y:
            self.scroll_to(y=self.cursor, animate=False)
            return True
        if self.cursor >= self.scroll_y + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)
            return True
        return False

    def _maybe_fetch(self) -> None:
        if self.more_after and self.cursor >= len(self.rows) - PREFETCH:
            key = key_of(self.rows[-1])
            if key != self._asked:
                self._asked = key
                self.post_message(self.NeedPage(after=key))
        elif self.more_before and self.cursor < PREFETCH:
            key = key_of(self.rows[0])
            if key != self._asked:
                self._asked = key
                self.post_message(self.NeedPage(before=key))

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", None)
        if isinstance(y, int):
            self._move(int(self.scroll_y) + y)

    def key_enter(self) -> None:
        if self.current is not None:
            self._follow()  # never open a ticket the operator cannot see highlighted
            self.post_message(self.Selected(self.current))

    # -- drawing ---------------------------------------------------------------------------

    def on_focus(self) -> None:
        self._focus_changed()

    def on_blur(self) -> None:
        self._focus_changed()

    def _focus_changed(self) -> None:
        """Only the cursor row's colours say which pane has the focus: redraw just that row
        (in the style Textual gives it when drawn; see ``render_line``)."""
        self.refresh_line(self.cursor)

    def on_resize(self) -> None:
        self._cache.clear()
        set_virtual_size(self, Size(self._view.width, self.virtual_size.height))
        self._follow()

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base = self.rich_style  # once a frame: it walks every ancestor's styles
        width = self._view.width
        if width != self._told_width and width > 0:
            self._told_width = width
            self.post_message(self.ViewWidth(width))
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_y) + y
        width = self._view.width
        base = self._base
        if not self.rows and y == 0:
            empty = self.get_component_rich_style("inbox--empty")
            return self._runs_strip([(self.empty_text, "")], width, empty)
        if index == len(self.rows) and self.more_after:
            return self._runs_strip([("  … more below", "")], width, base + Style(dim=True))
        if index >= len(self.rows):
            return Strip.blank(width, base)
        cursor = index == self.cursor
        # The cursor row is drawn in the cursor's colours only: coloured cells (priority, SLA)
        # would be unreadable on its background, and NO_COLOR would lose it.
        style = base + self.get_component_rich_style("inbox--cursor") if cursor else base
        key = (index, width)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == style:
            return cached[1]
        row = self.rows[index]
        runs = ticket_runs(
            row,
            self.now,
            Columns.for_width(width),
            self.presence.get(row.number, ()),
            self.escalations.get(row.number),
        )
        if row.number in self.marked:  # "●1042": marked for a bulk act, in any colour scheme
            runs[0] = ("●" + runs[0][0][1:], "bold reverse")
        if cursor:
            runs = [("".join(text for text, _ in runs), "")]
        strip = self._runs_strip(runs, width, style)
        self._cache[key] = (style, strip)
        return strip

    def _runs_strip(self, runs: list[Run], width: int, style: Style) -> Strip:
        """Runs as one line of exactly ``width`` cells, padded (or cut) in the line's style."""
        length = sum(cell_len(text) for text, _ in runs)
        if length < width:
            pad = " " * (width - length)
            if runs and not runs[-1][1]:
                runs[-1] = (runs[-1][0] + pad, "")
            else:
                runs.append((pad, ""))
        styles = self._styles
        segments = []
        for text, name in runs:
            if name:
                named = styles.get(name)
                if named is None:
                    named = self.app.console.get_style(name)
                    if self.app.no_color:  # text and bold/reverse carry it (render.PRIORITY_STYLE)
                        named = colourless_style(named)
                    styles[name] = named
                segments.append(Segment(text, style + named))
            else:
                segments.append(Segment(text, style))
        return Strip(segments).crop(0, width)
