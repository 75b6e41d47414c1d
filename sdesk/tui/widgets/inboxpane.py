"""The inbox side of the desk: the column header over the list, and reading both from the store.

The pane owns what the inbox shows (the filter and the search words it was last told) and reads
it in thread workers: the page first (that is what the operator waits for), the counts after it.
It tells the screen by message: ``Loaded`` when a page is on show, ``Counts`` when the counts
(and the agents, read with them) are in. A re-read after a change keeps the cursor on its
ticket. The header is laid out for the width the rows get, which is the list's width less its
scrollbar (``InboxList.ViewWidth``).
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from sdesk.store.inbox import (
    NO_DEADLINE,
    PAGE,
    InboxCounts,
    InboxFilter,
    Page,
    PageKey,
    inbox_counts,
    inbox_page,
    key_of,
    search,
)
from sdesk.store.live import Stamp, stamp
from sdesk.store.queries import AgentRow, list_agents
from sdesk.tui.render import Columns, header_line
from sdesk.tui.threads import from_thread
from sdesk.tui.widgets.inbox import InboxList

if TYPE_CHECKING:
    from sdesk.tui.app import SdeskApp

# A key after every row (segment 1 is the last the inbox has): reading before it is the end.
END = PageKey(2, NO_DEADLINE, 0)


class InboxPane(Vertical):
    @dataclass
    class Loaded(Message):
        """A page is on show; ``first``: the first one since the console started."""

        first: bool

    @dataclass
    class Counts(Message):
        counts: InboxCounts
        agents: list[AgentRow]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.flt = InboxFilter()
        self.words: str | None = None  # the search on show, if any
        self.loaded = False  # the first page is on show
        self.have_counts = False
        self._columns: Columns | None = None  # the header's, as last drawn

    @property
    def sapp(self) -> SdeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static("", id="inbox-header", markup=False)
        yield InboxList(now=self.sapp.desk.clock(), id="inbox")

    @property
    def inbox(self) -> InboxList:
        return self.query_one(InboxList)

    # -- the header ------------------------------------------------------------------------

    @on(InboxList.ViewWidth)
    def _view_width(self, event: InboxList.ViewWidth) -> None:
        event.stop()
        self.draw_header(event.width)

    def draw_header(self, width: int | None = None) -> None:
        columns = Columns.for_width(max(20, width or self.inbox.view_width or self.size.width))
        if columns != self._columns:  # one fixed line: redrawn in place, no screen layout
            self._columns = columns
            self.query_one("#inbox-header", Static).update(header_line(columns), layout=False)

    # -- reading ---------------------------------------------------------------------------

    def show_first(self, first: Future[tuple[Stamp, Page]] | None, wait: float) -> None:
        """The app's read of the first page, begun while Textual started: waiting a moment
        for it makes the very first frame the inbox (a frame without it cost as much to draw
        as one with it); if it is slower, the worker takes it over."""
        try:
            self.sapp.stamp, page = first.result(timeout=wait) if first else (None, None)
        except Exception:
            page = None
        if page is not None:
            self.show(page, None, None)
            self.load_counts()
        else:
            self.load(first=first)

    @work(thread=True, exclusive=True, group="inbox", exit_on_error=False)
    def load(
        self,
        keep: int | None = None,
        anchor: PageKey | None = None,
        stay: bool = False,
        first: Future[tuple[Stamp, Page]] | None = None,
    ) -> None:
        """The page first, then the counts. ``first``: the app's read, still under way."""
        desk, worker = self.sapp.desk, get_current_worker()
        words, flt = self.words, self.flt
        page = None
        if first is not None:
            with contextlib.suppress(Exception):  # it failed: read again, report from here
                self.sapp.stamp, page = first.result()
        if page is None:
            with desk.store.read() as session:
                if self.sapp.stamp is None:  # what the first page shows is the live baseline
                    self.sapp.stamp = stamp(session)
                if words:
                    page = search(session, words, flt, region=desk.settings.default_region)
                else:
                    page = inbox_page(session, flt, after=anchor, limit=PAGE)
                    if anchor is not None and not page.rows:  # the anchor's rows went away
                        page = inbox_page(session, flt, limit=PAGE)
        if worker.is_cancelled:
            return
        from_thread(self, self.show, page, keep, anchor, stay)
        if words and self.have_counts:
            return  # the bar shows the search, not the counts: keep the last ones
        self._read_counts()

    @work(thread=True, exclusive=True, group="counts", exit_on_error=False)
    def load_counts(self) -> None:
        self._read_counts()

    def _read_counts(self) -> None:
        with self.sapp.desk.store.read() as session:
            counts = inbox_counts(session, self.sapp.me.login)
            agents = list_agents(session)
        if not get_current_worker().is_cancelled:
            self.have_counts = True
            self.post_message(self.Counts(counts, agents))

    def show(
        self, page: Page, keep: int | None, anchor: PageKey | None, stay: bool = False
    ) -> None:
        inbox = self.inbox
        page = Page(page.rows, page.more_after, anchor is not None)
        filtered = self.words or self.flt != InboxFilter()
        inbox.set_now(self.sapp.desk.clock())
        inbox.set_presence(self.sapp.presence)
        inbox.show(
            page,
            keep=keep,
            stay=stay,
            empty_text="Nothing matches." if filtered else "The inbox is empty. Well done.",
        )
        self.draw_header()
        first, self.loaded = not self.loaded, True
        self.post_message(self.Loaded(first))

    @on(InboxList.NeedPage)
    def _need_page(self, event: InboxList.NeedPage) -> None:
        event.stop()
        if self.words:
            return
        if event.last:
            self.load_last()
        elif event.after is None and event.before is None:
            self.load()
        else:
            self.load_page(event.after, event.before)

    @work(thread=True, exclusive=True, group="page", exit_on_error=False)
    def load_page(self, after: PageKey | None, before: PageKey | None) -> None:
        with self.sapp.desk.store.read() as session:
            page = inbox_page(session, self.flt, after=after, before=before, limit=PAGE)
        if not get_current_worker().is_cancelled:
            inbox = self.inbox
            from_thread(self, inbox.extend if after else inbox.prepend, page)

    @work(thread=True, exclusive=True, group="inbox", exit_on_error=False)
    def load_last(self) -> None:
        with self.sapp.desk.store.read() as session:
            page = inbox_page(session, self.flt, before=END, limit=PAGE)
        if not get_current_worker().is_cancelled:
            from_thread(self, self.inbox.show_last, page)

    def reload(self, *, stay: bool = False) -> None:
        """Re-read the window where it stands (after a change), keeping the cursor's ticket
        (``stay``: its row, when the act moved the ticket out of the way)."""
        inbox = self.inbox
        keep = inbox.current.number if inbox.current else None
        anchor = None
        if inbox.more_before and inbox.rows:
            k = key_of(inbox.rows[0])  # a key just before the first row, in reading order
            anchor = PageKey(k.segment, k.value, k.id - 1 if k.segment == 0 else k.id + 1)
        self.load(keep, anchor, stay)
