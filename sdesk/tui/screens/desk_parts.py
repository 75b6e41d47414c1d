"""What the desk screen's parts (``desk_acts``, ``desk_writing``) use of each
other and of ``DeskScreen``, declared once for the type checker. Nothing here exists at run time:
the parts are mixed into ``DeskScreen``, which defines all of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

if TYPE_CHECKING:
    from sdesk.store.inbox import InboxCounts, InboxFilter
    from sdesk.store.queries import AgentRow, CustomerCard, TicketDetail
    from sdesk.tui.app import SdeskApp
    from sdesk.tui.widgets.filterbar import FilterBar
    from sdesk.tui.widgets.reply import ReplyBox


class DeskParts(Screen[None]):
    """The base the parts see while type-checked (``_Base`` in each); ``object`` at run time."""

    words: str | None
    detail: TicketDetail | None
    card: CustomerCard | None
    agents: list[AgentRow]
    ticket_open: bool
    focus_inbox_next: bool
    filter_bar: FilterBar
    reply_box: ReplyBox
    run_act: Callable[..., Any]

    @property
    def sapp(self) -> SdeskApp:
        raise NotImplementedError

    @property
    def flt(self) -> InboxFilter:
        raise NotImplementedError

    @property
    def counts(self) -> InboxCounts | None:
        raise NotImplementedError

    def target(self) -> tuple[int, int] | None:
        raise NotImplementedError

    def target_or_say(self) -> tuple[int, int] | None:
        raise NotImplementedError

    def is_detail(self, number: int) -> bool:
        raise NotImplementedError

    def open_ticket(self, number: int) -> None: ...
    def load_ticket(self, number: int, scroll_end: bool = True) -> None: ...
    def reload(self, *, stay: bool = False, scroll_end: bool = False) -> None: ...
    def arrange_panes(self) -> None: ...
    def show_filterbar(self) -> None: ...
    def marked(self) -> list[int]:
        raise NotImplementedError

    def clear_marks(self) -> None: ...
