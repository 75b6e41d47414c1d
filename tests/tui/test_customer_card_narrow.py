"""The customer at every width (issue 14, item 5): below 140 columns the card has no room beside
the thread, so a one-line strip above the thread names the customer and their contacts, and
``C`` puts the whole card in the thread's place (and back)."""

from __future__ import annotations

from sdesk.core.desk import Desk
from sdesk.store.queries import CustomerCard, customer_card
from sdesk.tui.app import SdeskApp
from sdesk.tui.screens.desk import DeskScreen
from sdesk.tui.widgets.inbox import InboxList
from sdesk.tui.widgets.ticket import TicketHeader, TicketView
from tests.tui.conftest import AppFactory, running, settle
from tests.tui.screen import screen_text
from tests.tui.test_desk_actions import active, open_ticket


def with_email_and_phone(desk: Desk) -> tuple[int, CustomerCard, str, str]:
    """An active ticket whose customer has an email address and a phone number."""
    with desk.store.read() as s:
        for r in active(desk):
            card = customer_card(s, r.number)
            if card is None:
                continue
            kinds = {c.kind: c.value for c in reversed(card.contacts)}  # the first of each kind
            if "email" in kinds and "phone" in kinds:
                return r.number, card, kinds["email"], kinds["phone"]
    raise AssertionError("the demo week has no customer with an email and a phone")


def desk_screen(app: SdeskApp) -> DeskScreen:
    assert isinstance(app.screen, DeskScreen)
    return app.screen


async def test_the_contacts_show_at_80_columns_and_c_shows_the_card(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    number, card, mail, phone = with_email_and_phone(demo_desk)
    others = sum(1 for t in card.tickets if t.number != number)
    app = make_app(demo_desk, live=False)
    async with running(app, size=(80, 24)) as pilot:
        screen = await open_ticket(pilot, number)
        text = screen_text(app)
        strip = [line for line in text.splitlines() if card.name in line and phone in line]
        assert strip, f"no line with {card.name} and {phone}:\n{text}"
        assert mail in strip[0]
        if others:
            assert f"{others} other ticket" in strip[0]
        assert "customer since" not in text  # the card itself is not shown yet
        view = screen.query_one(TicketView)

        await pilot.press("C")
        await settle(pilot)
        assert view.card_shown
        text = screen_text(app)
        assert "customer since" in text and "Tickets" in text
        assert phone in text and mail in text
        assert screen.query_one("#customer-card").has_focus  # ↓ scrolls the card
        assert not screen.query_one("#thread").display

        await pilot.press("C")
        await settle(pilot)
        assert not view.card_shown
        assert "customer since" not in screen_text(app)
        assert screen.query_one("#thread").has_focus


async def test_c_from_the_inbox_opens_the_ticket_on_its_card(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    app = make_app(demo_desk, live=False)
    async with running(app, size=(80, 24)) as pilot:
        screen = desk_screen(app)
        row = screen.query_one(InboxList).current
        assert row is not None
        await pilot.press("C")
        await settle(pilot)
        assert screen.ticket_open and screen.detail is not None
        assert screen.detail.ticket.number == row.number
        assert "customer since" in screen_text(app)
        await pilot.press("escape")  # back to the inbox, then another ticket: its thread
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert screen.ticket_open and not screen.query_one(TicketView).card_shown


async def test_wide_screens_show_the_card_beside_the_thread_not_the_strip(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    number, card, _mail, phone = with_email_and_phone(demo_desk)
    app = make_app(demo_desk, live=False)
    async with running(app, size=(160, 48)) as pilot:
        screen = await open_ticket(pilot, number)
        assert not screen.query_one("#customer-strip", TicketHeader).display
        assert screen.query_one("#customer-card").region.width > 0
        assert "customer since" in screen_text(app) and phone in screen_text(app)
