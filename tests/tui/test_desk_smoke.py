"""The desk screen opens on the demo desk and shows the inbox, the ticket and the reply box."""

from __future__ import annotations

from sdesk.core.desk import Desk
from tests.tui.conftest import AppFactory, running, settle
from tests.tui.screen import screen_text


async def test_inbox_ticket_and_reply(demo_desk: Desk, make_app: AppFactory) -> None:
    app = make_app(demo_desk)
    async with running(app) as pilot:
        text = screen_text(app)
        assert "Active 41" in text and "#1023" in text
        await pilot.press("enter")
        await settle(pilot)
        assert "#1023  WLAN bricht ständig ab" in screen_text(app)
        await pilot.press("r", *"Danke", "ctrl+s")
        await settle(pilot)
    with demo_desk.store.read() as session:
        from sdesk.store.queries import ticket_detail

        detail = ticket_detail(session, 1023)
        assert detail is not None
        last = detail.messages[-1]
        assert (last.kind, last.text, last.author) == ("reply", "Danke", "Mia Chen")
