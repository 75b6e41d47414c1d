"""Merging offers the customer's other open tickets (issue 14, item 12) before a bare number:
mostly it is the same person writing twice. "Other ticket number…" still takes any number."""

from __future__ import annotations

from sdesk.core.desk import Desk
from sdesk.store.queries import ACTIVE, customer_card
from sdesk.tui.screens.pickers import ChoiceScreen, ConfirmScreen, PromptScreen
from tests.tui.conftest import AppFactory, running, settle
from tests.tui.test_desk_actions import active, choose, messages, open_ticket, ticket


def customer_with_two_open(desk: Desk) -> tuple[int, list[int]]:
    """An active ticket and its customer's other active tickets (at least one)."""
    with desk.store.read() as s:
        for r in active(desk):
            card = customer_card(s, r.number)
            if card is None:
                continue
            others = [t.number for t in card.tickets if t.number != r.number and t.status in ACTIVE]
            if others:
                return r.number, others
    raise AssertionError("the demo week has no customer with two open tickets")


async def test_merge_offers_the_customers_other_open_tickets(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    source, others = customer_with_two_open(demo_desk)
    target = others[0]
    moved = {m.id for m in messages(demo_desk, source)}
    app = make_app(demo_desk, live=False)
    async with running(app, size=(80, 24)) as pilot:
        await open_ticket(pilot, source)
        await pilot.press("m")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, ChoiceScreen)
        offered = [v for v in picker.values if v is not None and v > 0]
        assert offered == others  # open ones only, never the ticket itself
        assert "Other ticket number…" in [label.plain for label in picker.labels]

        await choose(pilot, f"#{target} ")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
    merged, into = ticket(demo_desk, source), ticket(demo_desk, target)
    assert merged.merged_into_id == into.id and merged.status == "closed"
    assert moved <= {m.id for m in messages(demo_desk, target)}


async def test_other_ticket_number_opens_the_number_prompt(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    source, others = customer_with_two_open(demo_desk)
    elsewhere = next(r.number for r in active(demo_desk) if r.number not in (source, *others))
    app = make_app(demo_desk, live=False)
    async with running(app, size=(80, 24)) as pilot:
        await open_ticket(pilot, source)
        await pilot.press("m")
        await settle(pilot)
        await choose(pilot, "Other ticket number")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*str(elsewhere), "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
    assert ticket(demo_desk, source).merged_into_id is None  # "no" merges nothing
