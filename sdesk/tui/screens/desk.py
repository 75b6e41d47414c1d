"""The desk: inbox list, filter bar, the selected ticket and its reply box on one screen.

Wide terminals show the inbox and the ticket side by side; narrow ones (80×24 over SSH) show one
at a time. Every store call runs in a thread worker; results come back by ``from_thread``.
The acts (assign, status, reply, call …) are in ``desk_acts``.
The widgets own their state and talk by messages: the top bar (``widgets/topbar``: the agent,
mailbox health), the filter bar (``widgets/filterbar``: the filter in force, the counts;
``FilterBar.Changed``), the inbox pane (``widgets/inboxpane``: reads pages and counts;
``InboxPane.Loaded``/``Counts``) with its list (``InboxList.Highlighted``/``Selected``),
the ticket view (reads a ticket: ``TicketView.Loaded``) and the reply box (drafts, files,
canned, $EDITOR: ``ReplyBox.Send``/``Closed``). The screen decides what is shown and runs the
core's acts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input

from sdesk.store.inbox import InboxCounts, InboxFilter
from sdesk.store.queries import (
    AgentRow,
    CustomerCard,
    TicketDetail,
)
from sdesk.tui.actions import DESK_ACTIONS, EDITOR_ACTION, bindings, by_action
from sdesk.tui.messages import DeskChanged, EscalationsChanged, PresenceChanged
from sdesk.tui.render import safe
from sdesk.tui.screens.desk_acts import DeskActs
from sdesk.tui.screens.desk_writing import DeskWriting
from sdesk.tui.widgets.filterbar import FilterBar, Found
from sdesk.tui.widgets.inbox import InboxList
from sdesk.tui.widgets.inboxpane import InboxPane
from sdesk.tui.widgets.keybar import KeyBar
from sdesk.tui.widgets.reply import ReplyBox
from sdesk.tui.widgets.searchbox import SearchBox
from sdesk.tui.widgets.ticket import TicketView
from sdesk.tui.widgets.topbar import TopBar

if TYPE_CHECKING:
    from sdesk.tui.app import SdeskApp

FIRST_PAGE_WAIT = 0.5  # seconds the screen waits for the app's first read before drawing
PREVIEW_DELAY = 0.12  # seconds the cursor rests on a row before the side pane shows it
SEARCH_DELAY = 0.3  # seconds the typing in the search box rests before it searches
WIDE = 140  # columns from which the inbox and the ticket sit side by side


class DeskScreen(DeskActs, DeskWriting, Screen[None]):
    desk_screen = True  # the app posts live updates to screens that have this
    # Textual repaints the whole screen when the focus moves; the widgets that gain or lose
    # it restyle and repaint themselves anyway, so the screen-wide repaint (a full frame, 25-70
    # ms at 160x48) only delayed the results of a search and the opening of a ticket.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    BINDINGS: ClassVar[list[Binding]] = bindings(  # type: ignore[assignment]
        [*DESK_ACTIONS, EDITOR_ACTION]
    )

    def __init__(self) -> None:
        super().__init__()
        self.detail: TicketDetail | None = None
        self.card: CustomerCard | None = None
        self.agents: list[AgentRow] = []
        self.ticket_open = False
        self._preview: Timer | None = None
        self._search_timer: Timer | None = None
        self._opening: int | None = None  # asked to open; the view switches when it loaded
        self.focus_inbox_next = False  # a search was submitted: the list takes the focus with it
        self._draft_latest: dict[int, int] = {}  # per ticket, the newest draft save asked for

    @property
    def sapp(self) -> SdeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        app = self.sapp
        yield TopBar(app.desk, app.me, live=app.live, id="topbar")
        yield FilterBar(app.me.login, id="filterbar")
        yield SearchBox(
            placeholder="Search subjects and messages — Enter to search, Esc to leave", id="search"
        )
        with Horizontal(id="body"):
            yield InboxPane(id="inbox-pane")
            with Vertical(id="ticket-pane"):
                yield TicketView(app.desk, id="ticket")
                settings = app.desk.settings
                yield ReplyBox(
                    canned=settings.canned,
                    agent=app.me.name or app.me.login,
                    max_attachment_bytes=int(settings.email.max_attachments_mb * 1024 * 1024),
                    quote_default=settings.email.quote_history,
                    id="reply",
                )
        yield KeyBar()

    def on_mount(self) -> None:
        self.ticket_view = self.query_one(TicketView)
        self.filter_bar = self.query_one(FilterBar)
        self.reply_box = self.query_one(ReplyBox)
        self.inbox_pane = self.query_one(InboxPane)
        self.query_one("#search", Input).display = False
        self.query_one(ReplyBox).display = False
        self.arrange_panes()
        self.query_one(InboxList).focus()
        first, self.sapp.first_page = self.sapp.first_page, None
        self.inbox_pane.show_first(first, FIRST_PAGE_WAIT)
        self.set_interval(30, self._tick)
        self.set_interval(1, self._call_tick)

    def _tick(self) -> None:
        self.query_one(InboxList).set_now(self.sapp.desk.clock())

    def _call_tick(self) -> None:
        """A call under way on the open ticket: its header's timer moves every second."""
        if self.detail is not None and self.detail.active_call is not None:
            self.ticket_view.show_presence(
                self.detail,
                self.sapp.desk.clock(),
                self.sapp.presence.get(self.detail.ticket.number, ()),
            )

    # -- layout ----------------------------------------------------------------------------

    def on_resize(self) -> None:
        self.arrange_panes()

    def arrange_panes(self) -> None:
        wide = self.size.width >= WIDE
        self.set_class(wide, "-wide")  # changes with the terminal's size only
        # Opening a ticket shows one pane and hides the other: set on the two panes, not as a
        # class on the screen, which restyled every widget of the desk (~10 ms per open).
        self.query_one("#inbox-pane").display = wide or not self.ticket_open
        self.query_one("#ticket-pane").display = wide or self.ticket_open

    # -- the inbox (the pane reads it) -----------------------------------------------------

    @property
    def words(self) -> str | None:
        """The search on show, if any."""
        return self.inbox_pane.words

    @words.setter
    def words(self, value: str | None) -> None:
        self.inbox_pane.words = value

    @property
    def loaded(self) -> bool:
        """The first inbox page is on show (the app's first-paint marker waits for it)."""
        return self.is_mounted and self.inbox_pane.loaded

    def load_inbox(self) -> None:
        self.inbox_pane.flt = self.flt
        self.inbox_pane.load()

    @on(InboxPane.Loaded)
    def _inbox_loaded(self, event: InboxPane.Loaded) -> None:
        inbox = self.query_one(InboxList)
        if self.focus_inbox_next:
            self.focus_inbox_next = False
            inbox.focus()
        self.show_filterbar()
        self.arrange_panes()
        if event.first:
            self.call_after_refresh(self._painted)
        elif self.detail is None and self.size.width >= WIDE and inbox.current is not None:
            self.load_ticket(inbox.current.number)

    def _painted(self) -> None:
        self.load_drafts()  # after the first paint: nobody writes before seeing the inbox
        inbox = self.query_one(InboxList)
        if self.detail is None and self.size.width >= WIDE and inbox.current is not None:
            self.load_ticket(inbox.current.number)  # the side pane, once the inbox is seen

    @on(InboxPane.Counts)
    def _counts(self, event: InboxPane.Counts) -> None:
        self.agents = event.agents
        self.filter_bar.show_counts(event.counts)

    def reload(self, *, stay: bool = False, scroll_end: bool = False) -> None:
        """Re-read the inbox where it stands and the ticket on show (after a change)."""
        self.inbox_pane.reload(stay=stay)
        if self.detail is not None:
            self.load_ticket(self.detail.ticket.number, scroll_end=scroll_end)

    # -- the filter (the bar owns it) and search ------------------------------------------

    @property
    def flt(self) -> InboxFilter:
        return self.filter_bar.flt

    @property
    def counts(self) -> InboxCounts | None:
        return self.filter_bar.counts

    def show_filterbar(self) -> None:
        inbox = self.query_one(InboxList)
        found = None if self.words is None else Found(self.words, len(inbox.rows), inbox.more_after)
        self.filter_bar.show_search(found)

    @on(FilterBar.Changed)
    def _filter_changed(self, event: FilterBar.Changed) -> None:
        if event.clear_search:
            self.words = None
            self.query_one("#search", Input).display = False
        self.load_inbox()

    def action_toggle_mine(self) -> None:
        self.filter_bar.toggle("assignee", self.sapp.me.login)

    def action_toggle_unassigned(self) -> None:
        self.filter_bar.toggle("unassigned")

    def action_clear_filters(self) -> None:
        self.filter_bar.clear()

    def action_filter_menu(self) -> None:
        self.filter_bar.choose()

    def action_search(self) -> None:
        if self._preview is not None:
            self._preview.stop()  # the operator is searching: no preview of the row left behind
        box = self.query_one("#search", Input)
        box.display = True
        box.value = self.words or ""
        box.focus()

    @on(Input.Changed, "#search")
    def _typing_search(self, event: Input.Changed) -> None:
        """Results as the operator types, once the typing rests a moment (``SEARCH_DELAY``);
        the focus stays in the box until Enter."""
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        words = event.value.strip()
        if len(words) >= 2 and words != self.words and event.input.display:
            self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self._search_now(words))

    def _search_now(self, words: str) -> None:
        self._search_timer = None
        self.words = words
        self.load_inbox()

    @on(Input.Submitted, "#search")
    def _search(self, event: Input.Submitted) -> None:
        event.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        words = event.value.strip()
        self.words = words or None
        if not words:
            event.input.display = False
        # The focus moves to the list with the results: moving it repaints the whole screen,
        # and doing that now would compete with the search for the processor.
        self.focus_inbox_next = True
        self.load_inbox()

    def action_back(self) -> None:
        search_box = self.query_one("#search", Input)
        if search_box.has_focus:
            search_box.display = False
            self.query_one(InboxList).focus()
            return
        if self.ticket_open:
            self.ticket_open = False
            self.sapp.announce(None)
            self.arrange_panes()
            self.query_one(InboxList).focus()
            return
        if self.query_one(InboxList).marked:
            self.clear_marks()
            return
        if self.words is not None:
            self.words = None
            search_box.display = False
            self.load_inbox()

    # -- the ticket ------------------------------------------------------------------------

    @on(InboxList.Highlighted)
    def _highlighted(self, event: InboxList.Highlighted) -> None:
        if self.words:
            self.filter_bar.show_snippet(getattr(event.row, "snippet", "") or "")
        if self.size.width >= WIDE and not self._writing():
            # Preview after a short pause, so holding ↓ does not read every ticket it passes.
            if self._preview is not None:
                self._preview.stop()
            number = event.row.number
            self._preview = self.set_timer(PREVIEW_DELAY, lambda: self.load_ticket(number))

    @on(InboxList.Selected)
    def _selected(self, event: InboxList.Selected) -> None:
        self.open_ticket(event.row.number)

    def action_open(self) -> None:
        row = self.query_one(InboxList).current
        if row is not None:
            self.open_ticket(row.number)

    def open_ticket(self, number: int) -> None:
        """Read the ticket first; the view switches when it is there (one frame, not two)."""
        self._opening = number
        self.load_ticket(number)
        self.sapp.announce(number)

    def load_ticket(self, number: int, scroll_end: bool = True) -> None:
        """The ticket view reads it; ``_ticket_loaded`` decides whether it is still wanted.
        While a ticket is being opened every read is of that one: the view reads one ticket at
        a time, so a reload's or a preview's read would cancel the opening's for good."""
        if self._opening is not None:
            number = self._opening
        self.ticket_view.load(number, self.sapp.presence, scroll_end)

    @on(TicketView.Loaded)
    def _ticket_loaded(self, event: TicketView.Loaded) -> None:
        number, picture, card = event.number, event.picture, event.card
        if self._stale(number, picture.detail.ticket.number if picture else None):
            return
        if picture is None:
            self._opening = None
            self.notify(safe(f"no ticket #{number}"), severity="error", markup=False)
            return
        detail = picture.detail
        previous = self.detail.ticket.number if self.detail else None
        if previous is not None and previous != detail.ticket.number:
            self.reply_box.stash(keep=detail.ticket.number)
        self.detail, self.card = detail, card
        self.reply_box.tell(detail.ticket.number, self.reply_to(detail.ticket.number))
        if self._opening is not None:
            self._opening = None
            self.ticket_open = True
            self.arrange_panes()
            box = self.query_one(ReplyBox)
            (box.area if box.display else self.query_one("#thread")).focus()
        self.ticket_view.show_picture(picture, scroll_end=event.scroll_end)
        if self.ticket_open and detail.ticket.number != self.sapp.working_on[0]:
            self.sapp.announce(detail.ticket.number)  # a merged number forwarded elsewhere
        if previous is None:
            self.refresh_bindings()  # ticket keys become available

    def _stale(self, number: int, shown: int | None) -> bool:
        """Whether a read of ``number`` (showing ``shown``: a merged ticket's read shows the
        one it went into) is no longer wanted: another ticket is being opened, another is open,
        or the cursor has left this preview. A read already under way when the next one starts
        may still arrive (a worker cancelled after it posted); taken as the opening, it would
        show the wrong ticket, and a key pressed meanwhile would act on it."""
        if self._opening is not None:
            return self._opening not in (number, shown)
        if self.ticket_open and self.detail is not None:
            return self.detail.ticket.number not in (number, shown)
        current = self.query_one(InboxList).current
        return current is not None and current.number != number  # its own preview is on the way

    def action_toggle_card(self) -> None:
        if (t := self.target_or_say()) is not None:
            if not (self.ticket_open and self.is_detail(t[0])):
                self.open_ticket(t[0])
            self.ticket_view.toggle_card(t[0])

    def _writing(self) -> bool:
        return bool(self.query_one(ReplyBox).display)

    # -- live ------------------------------------------------------------------------------

    @on(DeskChanged)
    def _desk_changed(self, _event: DeskChanged) -> None:
        thread = self.query_one("#thread")
        self.reload(scroll_end=thread.scroll_y >= thread.max_scroll_y)  # follow if at the end

    @on(EscalationsChanged)
    def _escalations_changed(self, event: EscalationsChanged) -> None:
        self.query_one(InboxList).set_escalations(event.due)

    @on(PresenceChanged)
    def _presence_changed(self, event: PresenceChanged) -> None:
        self.query_one(InboxList).set_presence(event.presence)
        if self.detail is not None:
            self.query_one(TicketView).show_presence(
                self.detail,
                self.sapp.desk.clock(),
                event.presence.get(self.detail.ticket.number, ()),
            )

    # -- what may be done now --------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        spec = by_action(action)
        if spec is None:
            return True
        if not spec.allowed(self.sapp.me.role):
            return False  # hidden: the core would refuse it anyway
        if (
            spec.group != "Writing"
            and self._writing()
            and self.focused is not None
            and (self.focused.id == "reply-text")
        ):
            return False  # typing: letters are text, the footer shows the reply box's keys
        if spec.needs_ticket and self.target() is None:
            return None  # shown greyed out
        return True

    def target(self) -> tuple[int, int] | None:
        """The ticket an action applies to, with the version the operator saw."""
        if self.ticket_open and self.detail is not None:
            return self.detail.ticket.number, self.detail.ticket.version
        row = self.query_one(InboxList).current if self.is_mounted else None
        if row is None:
            return None
        if self.detail is not None and self.detail.ticket.number == row.number:
            return row.number, max(row.version, self.detail.ticket.version)
        return row.number, row.version
