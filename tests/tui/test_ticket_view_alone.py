"""The ticket view on its own, in a bare app: it reads a ticket in its worker and says so with
``TicketView.Loaded``; showing it is the holder's choice."""

from __future__ import annotations

from textual.app import App, ComposeResult

from sdesk.core.desk import Desk
from sdesk.tui.widgets.ticket import TicketView
from tests.tui.conftest import settle


class Host(App[None]):
    def __init__(self, view: TicketView) -> None:
        super().__init__()
        self.view = view
        self.heard: list[TicketView.Loaded] = []

    def compose(self) -> ComposeResult:
        yield self.view

    def on_ticket_view_loaded(self, event: TicketView.Loaded) -> None:
        self.heard.append(event)


async def test_loads_a_ticket_and_says_so(demo_desk: Desk) -> None:
    view = TicketView(demo_desk)
    app = Host(view)
    async with app.run_test(size=(120, 30)) as pilot:
        view.load(1023, {1023: (("sam.ortiz", "replying"),)}, True)
        await settle(pilot)
        [loaded] = app.heard
        assert loaded.number == 1023 and loaded.scroll_end
        assert loaded.picture is not None and loaded.picture.detail.ticket.number == 1023
        assert loaded.card is not None
        assert "sam.ortiz" in loaded.picture.header.plain
        assert "WLAN" not in app.export_screenshot(), "the holder decides to show it"
        view.show_picture(loaded.picture, scroll_end=True)
        await pilot.pause()
        assert "WLAN bricht" in loaded.picture.header.plain
        view.load(999_999, {}, False)
        await settle(pilot)
        assert app.heard[-1].number == 999_999 and app.heard[-1].picture is None
