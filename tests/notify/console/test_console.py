"""The console's side: the ETA key sets the engineer's arrival (the customer is told), and the
ticket view shows the rating, driven by key presses on the demo desk."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from sdesk.core.desk import Desk
from sdesk.store.models import Event, Ticket
from sdesk.store.queries import ticket_detail
from sdesk.tui.screens.pickers import PromptScreen
from sdesk.tui.widgets.ticket import event_line
from tests.tui.conftest import NOW, AppFactory, running, settle
from tests.tui.screen import screen_text
from tests.tui.test_desk_actions import active, open_ticket


def ticket(desk: Desk, number: int) -> Ticket:
    with desk.store.read() as s:
        return s.execute(select(Ticket).where(Ticket.number == number)).scalar_one()


async def test_the_eta_key_sets_the_arrival_and_tells_the_customer(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    number = active(demo_desk)[0].number
    app = make_app(demo_desk)
    async with running(app, size=(120, 30)) as pilot:
        await open_ticket(pilot, number)
        await pilot.press("E")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"soon", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen), "an invalid time closed the prompt"
        await pilot.press("ctrl+u", *"+45m", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, PromptScreen)
        assert ticket(demo_desk, number).arrival_at == NOW + timedelta(minutes=45)
        assert "engineer arrives 09:45" in screen_text(app)
    t = ticket(demo_desk, number)
    with demo_desk.store.read() as s:
        told = (
            s.execute(select(Event).where(Event.kind == "notify.queued", Event.ticket_id == t.id))
            .scalars()
            .all()
        )
    assert '"notice": "arrival"' in (told[-1].data or "")


async def test_the_ticket_view_shows_the_rating(demo_desk: Desk, make_app: AppFactory) -> None:
    number = active(demo_desk)[0].number
    demo_desk.rate(number, 4, via="api")  # an open ticket stays in the inbox to be opened
    app = make_app(demo_desk)
    async with running(app, size=(140, 40)) as pilot:
        await open_ticket(pilot, number)
        text = screen_text(app)
    assert "rated 4/5 ★★★★☆" in text
    with demo_desk.store.read() as s:
        detail = ticket_detail(s, number)
    assert detail is not None and detail.rating == 4
    [rated] = [e for e in detail.events if e.kind == "ticket.rated"]
    assert event_line(rated) == "the customer rated it 4/5 through the API"
