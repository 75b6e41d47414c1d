"""The desk screen's inbox: reading pages and counts in thread workers and showing them.

Mixed into ``DeskScreen``. The page is read first (that is what the operator waits for), the
counts for the filter bar after it; a re-read after a change keeps the cursor on its ticket.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future
from typing import TYPE_CHECKING

from textual import work
from textual.worker import get_current_worker

from sdesk.store.inbox import (
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
from sdesk.tui.threads import from_thread
from sdesk.tui.widgets.inbox import InboxList

if TYPE_CHECKING:
    from sdesk.tui.screens.desk_parts import DeskParts

    _Base = DeskParts
else:
    _Base = object

WIDE = 140  # columns from which the inbox and the ticket sit side by side


class DeskInbox(_Base):
    """Mixed into ``DeskScreen``."""

    @work(thread=True, exclusive=True, group="inbox", exit_on_error=False)
    def load_inbox(
        self,
        keep: int | None = None,
        anchor: PageKey | None = None,
        stay: bool = False,
        first: Future[tuple[Stamp, Page]] | None = None,
    ) -> None:
        """The page first (that is what the operator waits for), then the counts. ``first``:
        the app's read of the first page, still under way."""
        desk, worker = self.sapp.desk, get_current_worker()
        page = None
        if first is not None:
            with contextlib.suppress(Exception):  # it failed: read again, report from here
                self.sapp.stamp, page = first.result()
        if page is None:
            with desk.store.read() as session:
                if self.sapp.stamp is None:  # what the first page shows is the live baseline
                    self.sapp.stamp = stamp(session)
                if self.words:
                    page = search(session, self.words, self.flt)
                else:
                    page = inbox_page(session, self.flt, after=anchor, limit=PAGE)
                    if anchor is not None and not page.rows:  # the anchor's rows went away
                        page = inbox_page(session, self.flt, limit=PAGE)
        if worker.is_cancelled:
            return
        from_thread(self.app, self.inbox_loaded, page, keep, anchor, stay)
        if self.words and self.counts is not None:
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
            from_thread(self.app, self._counts_loaded, counts, agents)

    def inbox_loaded(
        self, page: Page, keep: int | None, anchor: PageKey | None, stay: bool = False
    ) -> None:
        inbox = self.query_one(InboxList)
        page = Page(page.rows, page.more_after, anchor is not None)
        empty = "Nothing matches." if (self.words or self.flt != InboxFilter()) else ""
        inbox.set_now(self.sapp.desk.clock())
        inbox.set_presence(self.sapp.presence)
        inbox.show(page, keep=keep, stay=stay, empty_text=empty or "The inbox is empty. Well done.")
        if self.focus_inbox_next:
            self.focus_inbox_next = False
            inbox.focus()
        self.show_filterbar()
        self.arrange_panes()
        if not self.loaded:
            self.loaded = True
            self.call_after_refresh(self._painted)
        elif self.detail is None and self.size.width >= WIDE and inbox.current is not None:
            self.load_ticket(inbox.current.number)

    def _counts_loaded(self, counts: InboxCounts, agents: list[AgentRow]) -> None:
        self.agents = agents
        self.filter_bar.show_counts(counts)

    def _painted(self) -> None:
        inbox = self.query_one(InboxList)
        if self.detail is None and self.size.width >= WIDE and inbox.current is not None:
            self.load_ticket(inbox.current.number)  # the side pane, once the inbox is seen

    @work(thread=True, exclusive=True, group="page", exit_on_error=False)
    def load_page(self, after: PageKey | None, before: PageKey | None) -> None:
        with self.sapp.desk.store.read() as session:
            page = inbox_page(session, self.flt, after=after, before=before, limit=PAGE)
        if not get_current_worker().is_cancelled:
            inbox = self.query_one(InboxList)
            from_thread(self.app, inbox.extend if after else inbox.prepend, page)

    def reload(self, *, stay: bool = False, scroll_end: bool = False) -> None:
        """Re-read the window where it stands (after a change), keeping the cursor's ticket
        (``stay``: its row, when the act moved the ticket out of the way)."""
        inbox = self.query_one(InboxList)
        keep = inbox.current.number if inbox.current else None
        anchor = None
        if inbox.more_before and inbox.rows:
            k = key_of(inbox.rows[0])  # a key just before the first row, in reading order
            anchor = PageKey(k.segment, k.value, k.id - 1 if k.segment == 0 else k.id + 1)
        self.load_inbox(keep, anchor, stay)
        if self.detail is not None:
            self.load_ticket(self.detail.ticket.number, scroll_end=scroll_end)
