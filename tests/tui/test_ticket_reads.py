"""Ticket reads that arrive late. A read runs in a worker; one already posted when the next
starts still arrives (cancelling a worker cannot take back its message). The desk screen shows
only the ticket it asked for last: a late read of another ticket taken as the opening would show
the wrong ticket, and a key pressed meanwhile (r, c) would act on it.

The late read is handed to the screen's handler at the moment it would be handled, between
the opening's request and its own read, which a test cannot otherwise place there reliably."""

from __future__ import annotations

from sdesk.core.desk import Desk
from sdesk.tui.app import SdeskApp
from sdesk.tui.screens.desk import DeskScreen
from sdesk.tui.widgets.inbox import InboxList
from sdesk.tui.widgets.ticket import TicketView
from tests.tui.conftest import AppFactory, running, settle
from tests.tui.test_ticket_view_alone import Host


async def read_of(desk: Desk, number: int) -> TicketView.Loaded:
    """What a ticket view's worker posts for ``number`` (read and drawn by the real view)."""
    host = Host(TicketView(desk))
    async with host.run_test(size=(160, 48)) as pilot:
        host.view.load(number, {}, True)
        await settle(pilot)
    [heard] = host.heard
    return heard


def late(event: TicketView.Loaded) -> TicketView.Loaded:
    return TicketView.Loaded(event.number, event.picture, event.card, event.scroll_end)


def desk_and_two_rows(app: SdeskApp) -> tuple[DeskScreen, int, int]:
    """The desk screen, the ticket its preview shows (the first row) and the second row's."""
    screen = app.screen
    assert isinstance(screen, DeskScreen)
    rows = screen.query_one(InboxList).rows
    return screen, rows[0].number, rows[1].number


async def test_a_late_read_of_another_ticket_neither_opens_it_nor_replaces_the_open_one(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    app = make_app(demo_desk, live=False)
    async with running(app, size=(160, 48)) as pilot:
        screen, previewed, wanted = desk_and_two_rows(app)
        stale = await read_of(demo_desk, previewed)
        assert screen.detail is not None and screen.detail.ticket.number == previewed

        screen.open_ticket(wanted)  # its read is on the way
        screen._ticket_loaded(late(stale))  # the preview's read, posted before it was cancelled
        assert not screen.ticket_open  # still opening `wanted`, not `previewed`
        await settle(pilot)
        assert screen.ticket_open and screen.detail is not None
        assert screen.detail.ticket.number == wanted

        screen._ticket_loaded(late(stale))  # a reload's read of the old preview, arriving now
        assert screen.detail.ticket.number == wanted
        await pilot.press("r")
        await settle(pilot)
        assert screen.reply_box.display and screen.reply_box.number == wanted


async def test_a_read_asked_for_while_a_ticket_opens_does_not_cancel_the_opening(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    """The view reads one ticket at a time: a reload's or a preview's read started now would
    cancel the opening's, which would then never arrive."""
    app = make_app(demo_desk, live=False)
    async with running(app, size=(160, 48)) as pilot:
        screen, previewed, wanted = desk_and_two_rows(app)
        screen.open_ticket(wanted)
        screen.load_ticket(previewed)  # e.g. the desk changed: the preview on show read again
        await settle(pilot)
        assert screen.ticket_open and screen.detail is not None
        assert screen.detail.ticket.number == wanted
