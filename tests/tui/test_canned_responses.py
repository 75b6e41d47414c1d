"""Canned responses (issue 14, items 6 and 12): one goes in at the cursor as a paragraph of its
own (never glued to the text typed), the picker previews the filled text, ``{agent}`` is the
agent's name, and ctrl+t works straight from the ticket (it opens the reply box)."""

from __future__ import annotations

import pwd
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import OptionList, Static
from textual.widgets.text_area import Selection

from sdesk.config import CannedResponse, Settings
from sdesk.core.desk import Desk
from sdesk.demo import seed_demo
from sdesk.store.engine import open_store
from sdesk.store.queries import agent_row, customer_card
from sdesk.tui.screens.pickers import ChoiceScreen
from sdesk.tui.widgets.reply import ReplyBox, ReplyTo
from tests.conftest import FakeClock
from tests.tui.conftest import NOW, AppFactory, running, settle
from tests.tui.screen import screen_text
from tests.tui.test_desk_actions import inbox, open_ticket, reply_box
from tests.tui.test_reply_box_alone import Host

TO_SERGEY = ReplyTo("via Email to Сергей Иванов", "email", "Сергей Иванов")
CANNED = [
    CannedResponse(name="Hello", text="Hello {customer},"),
    CannedResponse(name="Sign", text="Best regards,\n{agent}\nTicket #{ticket}"),
]


async def pick(box: ReplyBox, pilot: Pilot[None], down: int = 0) -> ChoiceScreen[str]:
    """Open the canned picker; ``down`` moves its highlight."""
    box.choose_canned()
    await pilot.pause()
    picker = box.app.screen
    assert isinstance(picker, ChoiceScreen)
    await pilot.press(*["down"] * down)
    await pilot.pause()
    return picker


async def test_a_canned_response_is_a_paragraph_of_its_own_where_the_cursor_is() -> None:
    box = ReplyBox(canned=CANNED, agent="Mia Chen")
    app = Host(box)
    async with app.run_test(size=(100, 30)) as pilot:
        box.open(7, "reply", TO_SERGEY)
        await pilot.press(*"Мы вернём платёж.")
        await pick(box, pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert box.text == "Мы вернём платёж.\n\nHello Сергей,"
        assert box.area.cursor_location == (2, len("Hello Сергей,"))

        # In the middle of the text: a blank line on both sides, the cursor after the block.
        box.area.load_text("Dear all,  \nsee below.")
        box.area.move_cursor((0, len("Dear all,  ")))
        await pick(box, pilot, down=1)
        await pilot.press("enter")
        await pilot.pause()
        assert box.text == "Dear all,\n\nBest regards,\nMia Chen\nTicket #7\n\nsee below."
        assert box.area.cursor_location == (4, len("Ticket #7"))

        # A selection is replaced; blank lines already there are not doubled.
        box.area.load_text("Hi,\n\nDRAFT\n\nBye")
        box.area.selection = Selection((2, 0), (2, 5))
        await pick(box, pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert box.text == "Hi,\n\nHello Сергей,\n\nBye"

        # An empty box: just the response.
        box.area.load_text("")
        await pick(box, pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert box.text == "Hello Сергей,"


async def test_the_picker_previews_the_filled_text_of_the_highlighted_response() -> None:
    hostile = ReplyTo("via Email", "email", "\x1b[31mEve[/] Smith")
    box = ReplyBox(canned=CANNED, agent="Mia Chen")
    app = Host(box)
    async with app.run_test(size=(80, 24)) as pilot:
        box.open(9, "reply", TO_SERGEY)
        picker = await pick(box, pilot)
        preview = picker.query_one("#choice-preview", Static)
        assert str(preview.content) == "Hello Сергей,"
        await pilot.press("down")
        await pilot.pause()
        assert picker.query_one(OptionList).highlighted == 1
        assert str(preview.content) == "Best regards,\nMia Chen\nTicket #9"
        assert "Mia Chen" in screen_text(app) and "Ticket #9" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert box.text == ""

        box.tell(9, hostile)  # the customer's name is theirs to write: shown literally
        picker = await pick(box, pilot)
        shown = str(picker.query_one("#choice-preview", Static).content)
        assert shown == "Hello ␛[31mEve[/],"
        await pilot.press("escape")


async def test_ctrl_t_from_the_ticket_opens_the_reply_with_a_canned_response(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    app = make_app(demo_desk, live=False)
    async with running(app, size=(80, 24)) as pilot:
        row = inbox(app).current
        assert row is not None
        with demo_desk.store.read() as s:
            card = customer_card(s, row.number)
        assert card is not None and card.name
        await open_ticket(pilot, row.number)
        box = reply_box(app)
        assert not box.display
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert box.display and box.mode == "reply" and box.number == row.number
        assert isinstance(app.screen, ChoiceScreen)
        preview = str(app.screen.query_one("#choice-preview", Static).content)
        assert card.name.split()[0] in preview and "Mia Chen" in preview
        await pilot.press("enter")
        await settle(pilot)
        assert box.text == preview
        assert box.area.has_focus


def test_the_demo_signs_canned_responses_with_the_operators_name(tmp_path: Path) -> None:
    """The console's own agent in the demo was named after the login (``{agent}`` → "root");
    it takes the account's full name when the system has one."""
    named = [
        (e.pw_name, e.pw_gecos.split(",")[0].strip())
        for e in pwd.getpwall()
        if e.pw_gecos.split(",")[0].strip() not in ("", e.pw_name) and " " not in e.pw_name
    ]
    assert named, "this system has no account with a full name to test with"
    login, full_name = named[0]
    settings = Settings(desk_domain="desk.test")
    desk = Desk(open_store(tmp_path / "desk.db"), settings, clock=FakeClock(NOW))
    try:
        seed_demo(desk, now=NOW, seed=7, operator=login)
        with desk.store.read() as s:
            me = agent_row(s, login)
    finally:
        desk.close()
    assert me is not None and me.name == full_name


async def test_ctrl_t_from_the_inbox_fills_in_the_customer_read_meanwhile(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    """At 80 columns the ticket is not read yet when ctrl+t comes from the inbox: the
    response is filled when chosen, with the customer's name the ticket brought."""
    app = make_app(demo_desk, live=False)
    async with running(app, size=(80, 24)) as pilot:
        row = inbox(app).current
        assert row is not None
        with demo_desk.store.read() as s:
            card = customer_card(s, row.number)
        assert card is not None and card.name
        box = reply_box(app)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert box.display and box.number == row.number
        assert box.text.startswith(f"Hello {card.name.split()[0]},"), box.text
