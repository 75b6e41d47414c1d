"""Every action key of the desk screen, driven by key presses on the demo desk.

Each test presses keys as an operator would and then checks what the store holds (and, where it
matters, what the screen shows). Tickets are found by what they are (unassigned, has a phone,
has an attachment …) and reached by moving the cursor, never by a fixed position.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from sdesk.core.desk import Desk
from sdesk.store.inbox import InboxFilter, inbox_counts, inbox_page
from sdesk.store.models import Attachment, Contact, Customer, Event, Message, Outbox, Ticket
from sdesk.store.queries import ACTIVE, TicketRow, agent_row, customer_card, ticket_detail
from sdesk.tui.actions import REPLY_ACTIONS
from sdesk.tui.app import SdeskApp
from sdesk.tui.compat import notifications
from sdesk.tui.screens.desk import DeskScreen
from sdesk.tui.screens.help import HelpScreen
from sdesk.tui.screens.pickers import ChoiceScreen, ConfirmScreen, PromptScreen
from sdesk.tui.widgets.inbox import InboxList
from sdesk.tui.widgets.reply import ReplyBox
from tests.factories import email
from tests.tui.conftest import NOW, AppFactory, make_desk, running, settle
from tests.tui.screen import screen_text

# -- driving the console -------------------------------------------------------------------


def desk_screen(app: SdeskApp) -> DeskScreen:
    screen = app.screen
    assert isinstance(screen, DeskScreen), f"expected the desk screen, not {screen!r}"
    return screen


def inbox(app: SdeskApp) -> InboxList:
    return desk_screen(app).query_one(InboxList)


def reply_box(app: SdeskApp) -> ReplyBox:
    return desk_screen(app).query_one(ReplyBox)


async def until(
    pilot: Pilot[None], ready: Callable[[], bool], what: str, seconds: float = 5.0
) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


async def go_to(pilot: Pilot[None], number: int) -> TicketRow:
    """Move the inbox cursor onto ticket ``number`` with the arrow keys."""
    rows = inbox(pilot.app)  # type: ignore[arg-type]
    numbers = [r.number for r in rows.rows]
    assert number in numbers, f"#{number} is not in the inbox window"
    delta = numbers.index(number) - rows.cursor
    for _ in range(abs(delta)):
        await pilot.press("down" if delta > 0 else "up")
    await settle(pilot)
    assert rows.current is not None and rows.current.number == number
    return rows.current


async def open_ticket(pilot: Pilot[None], number: int) -> DeskScreen:
    await go_to(pilot, number)
    await pilot.press("enter")
    await settle(pilot)
    screen = desk_screen(pilot.app)  # type: ignore[arg-type]
    assert screen.ticket_open
    assert screen.detail is not None and screen.detail.ticket.number == number
    return screen


async def choose(pilot: Pilot[None], label: str) -> None:
    """In the open picker, move to the first option whose label contains ``label``; Enter."""
    screen = pilot.app.screen
    assert isinstance(screen, ChoiceScreen), f"expected a picker, not {screen!r}"
    labels = [text.plain for text in screen.labels]
    matches = [i for i, text in enumerate(labels) if label in text]
    assert matches, f"{label!r} is not among {labels}"
    options = screen.query_one(OptionList)
    delta = matches[0] - (options.highlighted or 0)
    for _ in range(abs(delta)):
        await pilot.press("down" if delta > 0 else "up")
    assert options.highlighted == matches[0]
    await pilot.press("enter")
    await settle(pilot)


def notices(app: SdeskApp) -> list[str]:
    """The notifications on screen now, as "title: message"."""
    return [f"{n.title}: {n.message}" for n in notifications(app)]


# -- reading the store ---------------------------------------------------------------------


def ticket(desk: Desk, number: int) -> Ticket:
    with desk.store.read() as s:
        return s.execute(select(Ticket).where(Ticket.number == number)).scalar_one()


def messages(desk: Desk, number: int) -> list[Message]:
    with desk.store.read() as s:
        tid = s.execute(select(Ticket.id).where(Ticket.number == number)).scalar_one()
        query = select(Message).where(Message.ticket_id == tid).order_by(Message.id)
        return list(s.execute(query).scalars())


def outbox_for(desk: Desk, message_id: int) -> list[Outbox]:
    with desk.store.read() as s:
        return list(s.execute(select(Outbox).where(Outbox.message_id == message_id)).scalars())


def count(desk: Desk, model: type, *where: object) -> int:
    with desk.store.read() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()  # type: ignore[arg-type]


def active(desk: Desk, keep: Callable[[TicketRow], bool] = lambda _r: True) -> list[TicketRow]:
    """Active inbox rows (in inbox order) that ``keep`` accepts."""
    with desk.store.read() as s:
        rows = inbox_page(s, InboxFilter(), limit=500).rows
    return [r for r in rows if r.status in ACTIVE and keep(r)]


# -- opening and writing -------------------------------------------------------------------


async def test_enter_opens_the_ticket_and_escape_returns(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    app = make_app(demo_desk)
    async with running(app) as pilot:
        await pilot.press("down")
        row = inbox(app).current
        assert row is not None and inbox(app).cursor == 1
        await pilot.press("enter")
        await settle(pilot)
        screen = desk_screen(app)
        assert screen.ticket_open
        assert screen.detail is not None and screen.detail.ticket.number == row.number
        text = screen_text(app)
        assert f"#{row.number}  {row.subject[:30]}" in text
        assert "SUBJECT" not in text  # 80 columns: the ticket replaces the inbox

        await pilot.press("escape")
        await settle(pilot)
        assert not screen.ticket_open
        text = screen_text(app)
        assert "SUBJECT" in text and f"#{row.number}" in text
        assert inbox(app).has_focus
        assert inbox(app).current == row  # the cursor stayed on the ticket


async def test_reply_is_stored_queued_and_shown(demo_desk: Desk, make_app: AppFactory) -> None:
    app = make_app(demo_desk)
    async with running(app) as pilot:
        await pilot.press("down")
        row = inbox(app).current
        assert row is not None
        before = {m.id for m in messages(demo_desk, row.number)}
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("r", *"On our way", "ctrl+s")
        await settle(pilot)
        assert not reply_box(app).display
        new = [m for m in messages(demo_desk, row.number) if m.id not in before]
        assert [(m.kind, m.text, m.author_name) for m in new] == [
            ("reply", "On our way", "Mia Chen")
        ]
        # The demo desk has no SMTP: the reply is kept, queued in the outbox for when one is
        # set up, and reads "waiting" with the reason, on screen and in a toast (issue 14.10).
        assert new[0].delivery_state == "waiting" and new[0].delivery_error
        (out,) = outbox_for(demo_desk, new[0].id)
        assert (out.kind, out.state, out.channel) == ("reply", "queued", new[0].channel)
        assert out.recipient == new[0].author_address and out.recipient
        lines = screen_text(app).splitlines()
        assert any("Mia Chen" in line and "⏸ waiting" in line for line in lines), "\n".join(lines)
        reason = new[0].delivery_error
        assert any("not sent" in n and reason in n for n in notices(app)), notices(app)
        assert "On our way" in screen_text(app)


async def test_note_is_internal_and_not_sent(demo_desk: Desk, make_app: AppFactory) -> None:
    app = make_app(demo_desk)
    async with running(app) as pilot:
        row = inbox(app).current
        assert row is not None
        outbox_before = count(demo_desk, Outbox)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("n", *"Called the ISP", "ctrl+s")
        await settle(pilot)
        assert not reply_box(app).display
        last = messages(demo_desk, row.number)[-1]
        assert (last.kind, last.channel, last.text) == ("note", "internal", "Called the ISP")
        assert last.delivery_state is None
        assert outbox_for(demo_desk, last.id) == []
        assert count(demo_desk, Outbox) == outbox_before


async def test_draft_survives_switching_tickets(demo_desk: Desk, make_app: AppFactory) -> None:
    app = make_app(demo_desk)
    async with running(app) as pilot:
        first, second = (r.number for r in inbox(app).rows[:2])
        await open_ticket(pilot, first)
        await pilot.press("r", *"half", "escape")
        await settle(pilot)
        assert not reply_box(app).display
        await pilot.press("escape")  # back to the inbox
        await settle(pilot)

        await open_ticket(pilot, second)
        await pilot.press("r")
        await settle(pilot)
        assert reply_box(app).number == second
        assert reply_box(app).text == ""
        await pilot.press("escape", "escape")
        await settle(pilot)

        await open_ticket(pilot, first)
        await pilot.press("r")
        await settle(pilot)
        assert reply_box(app).number == first
        assert reply_box(app).text == "half"
    assert all(m.text != "half" for m in messages(demo_desk, first))  # a draft is not sent


async def test_canned_response_is_filled_in(demo_desk: Desk, make_app: AppFactory) -> None:
    app = make_app(demo_desk)
    async with running(app) as pilot:
        row = inbox(app).current
        assert row is not None
        with demo_desk.store.read() as s:
            card = customer_card(s, row.number)
        assert card is not None and card.name
        first_name = card.name.split()[0]
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("r", "ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("enter")
        await settle(pilot)
        text = reply_box(app).text
        assert first_name in text
        assert f"#{row.number}" in text
        assert "Mia Chen" in text
        assert "{" not in text and "}" not in text
        assert reply_box(app).area.has_focus


# The reply box's $EDITOR key as declared (ctrl+o: the TextArea keeps ctrl+e for end of line).
EDITOR_KEY = next(spec.key for spec in REPLY_ACTIONS if spec.id == "editor")


def fake_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$EDITOR is a script that appends a line to the file it is given."""
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "\\nfrom the editor\\n" >> "$1"\n', encoding="utf-8")
    editor.chmod(0o755)
    monkeypatch.delenv("VISUAL", raising=False)  # $VISUAL wins over $EDITOR
    monkeypatch.setenv("EDITOR", str(editor))


async def test_editor_from_the_reply_box(
    demo_desk: Desk,
    make_app: AppFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_editor(tmp_path, monkeypatch)
    app = make_app(demo_desk)
    async with running(app) as pilot:
        row = inbox(app).current
        assert row is not None
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("r", *"Hi", EDITOR_KEY)
        await settle(pilot)
        assert reply_box(app).display
        assert reply_box(app).text == "Hi\nfrom the editor", f"{EDITOR_KEY} did not run $EDITOR"
        await pilot.press("ctrl+s")
        await settle(pilot)
    last = messages(demo_desk, row.number)[-1]
    assert (last.kind, last.text) == ("reply", "Hi\nfrom the editor")


async def test_editor_from_the_ticket(
    demo_desk: Desk,
    make_app: AppFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_editor(tmp_path, monkeypatch)
    app = make_app(demo_desk)
    async with running(app) as pilot:
        row = inbox(app).current
        assert row is not None
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("r", *"Hi", "escape")  # a draft, kept when the box closes …
        await settle(pilot)
        assert not reply_box(app).display
        await pilot.press("e")  # … and `e` on the ticket goes straight to the editor with it
        await settle(pilot)
        assert reply_box(app).display and reply_box(app).number == row.number
        assert reply_box(app).text == "Hi\nfrom the editor"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not reply_box(app).display
    last = messages(demo_desk, row.number)[-1]
    assert (last.kind, last.text) == ("reply", "Hi\nfrom the editor")


# -- assignment, status, priority, snooze, merge -------------------------------------------


def assignee(desk: Desk, number: int) -> str | None:
    with desk.store.read() as s:
        detail = ticket_detail(s, number)
    assert detail is not None
    return detail.ticket.assignee


def events(desk: Desk, number: int, kind: str) -> list[Event]:
    with desk.store.read() as s:
        tid = s.execute(select(Ticket.id).where(Ticket.number == number)).scalar_one()
        query = select(Event).where(Event.ticket_id == tid, Event.kind == kind)
        return list(s.execute(query.order_by(Event.id)).scalars())


async def test_assign_to_me_to_someone_and_to_nobody(demo_desk: Desk, make_app: AppFactory) -> None:
    number = active(demo_desk, lambda r: r.assignee is None)[0].number
    app = make_app(demo_desk)
    async with running(app) as pilot:
        await go_to(pilot, number)
        await pilot.press("a")
        await settle(pilot)
        assert assignee(demo_desk, number) == "mia.chen"
        (event,) = events(demo_desk, number, "ticket.assigned")
        assert event.actor == "mia.chen" and json.loads(event.data)["to"] == "mia.chen"
        assert f"#{number} assigned to you" in " ".join(notices(app))

        await pilot.press("A")
        await settle(pilot)
        await choose(pilot, "lena.hoffmann")
        assert assignee(demo_desk, number) == "lena.hoffmann"

        await pilot.press("A")
        await settle(pilot)
        await choose(pilot, "(nobody: unassign)")
        assert assignee(demo_desk, number) is None
        assert len(events(demo_desk, number, "ticket.assigned")) == 3
        assert inbox(app).current is not None and inbox(app).current.assignee is None


async def test_status_and_priority(demo_desk: Desk, make_app: AppFactory) -> None:
    number = active(demo_desk, lambda r: r.priority in ("normal", "low"))[0].number
    before = ticket(demo_desk, number)
    app = make_app(demo_desk)
    async with running(app) as pilot:
        await open_ticket(pilot, number)
        await pilot.press("s")
        await settle(pilot)
        await choose(pilot, "resolved")
        after = ticket(demo_desk, number)
        assert (after.status, after.resolved_at) == ("resolved", NOW)

        await pilot.press("p")
        await settle(pilot)
        await choose(pilot, "urgent")
        after = ticket(demo_desk, number)
        assert after.priority == "urgent"
        assert after.first_response_due != before.first_response_due
        assert after.resolution_due != before.resolution_due
        assert "resolved · urgent" in screen_text(app)  # the header shows both


async def test_snooze_preset_and_typed(demo_desk: Desk, make_app: AppFactory) -> None:
    number = active(demo_desk, lambda r: r.status != "pending")[0].number
    app = make_app(demo_desk)
    async with running(app) as pilot:
        await open_ticket(pilot, number)
        await pilot.press("z")
        await settle(pilot)
        await choose(pilot, "4 hours")
        snoozed = ticket(demo_desk, number)
        assert (snoozed.status, snoozed.pending_until) == ("pending", NOW + timedelta(hours=4))

        await pilot.press("z")
        await settle(pilot)
        await choose(pilot, "Other…")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"soon", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen), "an invalid time closed the prompt"
        assert "a time in the future" in screen_text(app)
        assert ticket(demo_desk, number).pending_until == NOW + timedelta(hours=4)

        await pilot.press("ctrl+u", *"2d", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, PromptScreen)
        snoozed = ticket(demo_desk, number)
        assert (snoozed.status, snoozed.pending_until) == ("pending", NOW + timedelta(days=2))


async def test_merge_into_another_ticket(demo_desk: Desk, make_app: AppFactory) -> None:
    source, target = (r.number for r in active(demo_desk)[1:3])
    moved = {m.id for m in messages(demo_desk, source)}
    assert moved
    app = make_app(demo_desk)
    async with running(app) as pilot:
        await open_ticket(pilot, source)
        await pilot.press("m")
        await settle(pilot)
        if isinstance(app.screen, ChoiceScreen):  # the customer's other open tickets first
            await choose(pilot, "Other ticket number")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*str(source), "enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        assert "cannot be merged into itself" in screen_text(app)

        await pilot.press("ctrl+u", *str(target), "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        merged, into = ticket(demo_desk, source), ticket(demo_desk, target)
        assert merged.merged_into_id == into.id and merged.status == "closed"
        assert moved <= {m.id for m in messages(demo_desk, target)}
        assert messages(demo_desk, source) == []
        screen = desk_screen(app)
        assert screen.detail is not None and screen.detail.ticket.number == target
        assert source not in [r.number for r in inbox(app).rows]


# -- calls ---------------------------------------------------------------------------------


def calls(desk: Desk) -> tuple[int, int]:
    return (
        count(desk, Message, Message.kind == "call"),
        count(desk, Outbox, Outbox.kind == "call"),
    )


def with_phones(desk: Desk, n: int) -> list[int]:
    """Active tickets whose customer has exactly ``n`` phone numbers."""
    found = []
    with desk.store.read() as s:
        for row in active(desk):
            card = customer_card(s, row.number)
            if card is not None and len(card.phones) == n:
                found.append(row.number)
    return found


async def test_call_a_customer_with_one_phone(demo_desk: Desk, make_app: AppFactory) -> None:
    number = with_phones(demo_desk, 1)[0]
    app = make_app(demo_desk)
    async with running(app) as pilot:
        screen = await open_ticket(pilot, number)
        assert screen.card is not None
        (phone,) = screen.card.phones
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert phone in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
    call = messages(demo_desk, number)[-1]
    assert (call.kind, call.channel, call.author_address) == ("call", "phone", phone)
    assert call.delivery_state == "queued"
    (out,) = outbox_for(demo_desk, call.id)
    assert (out.kind, out.recipient, out.state) == ("call", phone, "queued")
    assert json.loads(out.payload)["to"] == phone


async def test_call_a_customer_with_several_phones_asks_which(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    number = with_phones(demo_desk, 1)[0]
    second = "+12125550199"
    with demo_desk.store.write() as s:
        customer_id = s.execute(
            select(Ticket.customer_id).where(Ticket.number == number)
        ).scalar_one()
        s.add(Contact(customer_id=customer_id, kind="phone", value=second, created_at=NOW))
    app = make_app(demo_desk)
    async with running(app) as pilot:
        screen = await open_ticket(pilot, number)
        assert screen.card is not None and len(screen.card.phones) == 2
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await choose(pilot, second)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
    call = messages(demo_desk, number)[-1]
    assert (call.kind, call.author_address) == ("call", second)
    (out,) = outbox_for(demo_desk, call.id)
    assert (out.kind, out.recipient) == ("call", second)


async def test_call_refused_without_a_phone(demo_desk: Desk, make_app: AppFactory) -> None:
    number = with_phones(demo_desk, 0)[0]
    before = calls(demo_desk)
    app = make_app(demo_desk)
    async with running(app) as pilot:
        screen = await open_ticket(pilot, number)
        assert screen.card is not None and screen.card.phones == ()
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)  # nothing to confirm
        assert any("has no phone number" in n for n in notices(app)), notices(app)
    assert calls(demo_desk) == before


async def test_call_refused_without_telephony(
    demo_path: Path, demo_desk: Desk, make_app: AppFactory
) -> None:
    number = with_phones(demo_desk, 1)[0]
    before = calls(demo_desk)
    plain_desk = make_desk(demo_path)  # default settings: telephony provider "none"
    try:
        app = make_app(plain_desk)
        async with running(app) as pilot:
            await open_ticket(pilot, number)
            await pilot.press("c")
            await settle(pilot)
            assert isinstance(app.screen, DeskScreen)
            assert any("telephony is not configured" in n for n in notices(app)), notices(app)
    finally:
        plain_desk.close()
    assert calls(demo_desk) == before


# -- delivery, attachments, other tickets --------------------------------------------------


async def test_retry_a_failed_reply(demo_desk: Desk, make_app: AppFactory) -> None:
    number = active(demo_desk, lambda r: r.channel == "email")[0].number
    message_id = demo_desk.reply(number, "mia.chen", "Checking the line now.").message_id
    app = make_app(demo_desk)
    async with running(app) as pilot:
        await open_ticket(pilot, number)
        with demo_desk.store.write() as s:  # what the dispatcher does when the server refuses
            m = s.get(Message, message_id)
            assert m is not None
            m.delivery_state, m.delivery_error = "failed", "550 mailbox unavailable"
            (out,) = s.execute(select(Outbox).where(Outbox.message_id == message_id)).scalars()
            out.state, out.last_error = "failed", "550 mailbox unavailable"
        await pilot.press("escape", "enter")  # look again
        await settle(pilot)
        text = screen_text(app)
        assert "✗ failed" in text and "550 mailbox unavailable" in text, text

        await pilot.press("y")
        await settle(pilot)
        assert "queued again" in " ".join(notices(app))
        assert "✗ failed" not in screen_text(app)
    (m,) = [m for m in messages(demo_desk, number) if m.id == message_id]
    assert (m.delivery_state, m.delivery_error) == ("queued", None)
    (out,) = outbox_for(demo_desk, message_id)
    assert out.state == "queued"


async def test_save_an_attachment_twice(
    demo_desk: Desk, make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo_desk.store.read() as s:
        found = s.execute(
            select(Ticket.number, Attachment.filename, Attachment.sha256)
            .join(Message, Message.id == Attachment.message_id)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .where(
                Attachment.stored.is_(True),
                Ticket.status.in_(ACTIVE),
                Ticket.merged_into_id.is_(None),
            )
            .order_by(Ticket.number)
        ).first()
    assert found is not None, "the demo has no active ticket with a stored attachment"
    number, filename, sha256 = found
    content = demo_desk.store.blobs.get(sha256)
    assert content
    folder = tmp_path / "saved"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)  # so the folder can be typed as "saved"
    app = make_app(demo_desk)
    async with running(app) as pilot:
        screen = await open_ticket(pilot, number)
        assert screen.detail is not None
        stored = [a for m in screen.detail.messages for a in m.attachments if a.stored]
        for _ in range(2):
            await pilot.press("w")
            await settle(pilot)
            if len(stored) > 1:
                await choose(pilot, filename)
            assert isinstance(app.screen, PromptScreen)
            await pilot.press("ctrl+u", *"saved", "enter")
            await settle(pilot)
            assert isinstance(app.screen, DeskScreen)
    stem, ext = filename.rsplit(".", 1)
    first, second = folder / filename, folder / f"{stem} (2).{ext}"
    assert sorted(p.name for p in folder.iterdir()) == sorted([first.name, second.name])
    assert first.read_bytes() == content and second.read_bytes() == content


async def test_other_tickets_of_the_customer(demo_desk: Desk, make_app: AppFactory) -> None:
    with demo_desk.store.read() as s:
        number = next(
            r.number
            for r in active(demo_desk)
            if (card := customer_card(s, r.number)) is not None and len(card.tickets) > 1
        )
    app = make_app(demo_desk)
    async with running(app) as pilot:
        screen = await open_ticket(pilot, number)
        await pilot.press("o")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, ChoiceScreen)
        assert number not in picker.values and picker.values
        other = picker.values[0]
        await pilot.press("enter")
        await settle(pilot)
        assert screen.detail is not None and screen.detail.ticket.number == other
        assert f"#{other}  " in screen_text(app)


# -- the inbox: filters and search ---------------------------------------------------------


def filter_bar(app: SdeskApp) -> str:
    """The whole filter bar (at 80 columns its end is cut off on screen)."""
    return str(desk_screen(app).query_one("#filterbar", Static).content)


def active_in_window(app: SdeskApp) -> list[TicketRow]:
    return [r for r in inbox(app).rows if r.status in ACTIVE]


async def test_filters(demo_desk: Desk, make_app: AppFactory) -> None:
    with demo_desk.store.read() as s:
        counts = inbox_counts(s, "mia.chen")
    app = make_app(demo_desk)
    async with running(app) as pilot:
        everything = [r.number for r in inbox(app).rows]
        bar = screen_text(app).splitlines()[1]
        assert f"Active {counts.active}" in bar and f"Mine {counts.mine}" in bar
        assert f"Unassigned {counts.unassigned}" in bar
        assert f"TG {counts.channel['telegram']}" in bar

        await pilot.press("M")
        await settle(pilot)
        rows = inbox(app).rows
        assert rows and all(r.assignee == "mia.chen" for r in rows)
        assert len(active_in_window(app)) == counts.mine
        assert "│ assigned to mia.chen" in filter_bar(app)

        await pilot.press("U")  # unassigned replaces mine
        await settle(pilot)
        rows = inbox(app).rows
        assert rows and all(r.assignee is None for r in rows)
        assert len(active_in_window(app)) == counts.unassigned

        await pilot.press("X", "f")
        await settle(pilot)
        await choose(pilot, "Channel TG")
        rows = inbox(app).rows
        assert rows and all(r.channel == "telegram" for r in rows)
        assert len(active_in_window(app)) == counts.channel["telegram"]

        await pilot.press("X")
        await settle(pilot)
        assert [r.number for r in inbox(app).rows] == everything
        assert "│" not in filter_bar(app)  # no filter described


async def test_the_cursor_row_stays_on_screen(demo_desk: Desk, make_app: AppFactory) -> None:
    app = make_app(demo_desk)
    async with running(app) as pilot:
        rows = inbox(app)
        assert len(rows.rows) > 30
        for step in range(1, 26):
            await pilot.press("down")
            assert rows.cursor == step
            current = rows.current
            assert current is not None
            lines = screen_text(app).splitlines()
            assert any(line.startswith(f"#{current.number} ") for line in lines), (
                f"after {step} × down the selected #{current.number} is off screen:\n"
                + "\n".join(lines)
            )


def word_in_one_body(desk: Desk) -> tuple[str, int]:
    """An ASCII word found in the messages of exactly one ticket and in no subject or customer
    name (search finds customers by name too), that no other word starts with (search matches
    the last word as a prefix)."""
    tokens: dict[str, set[int]] = {}
    in_subjects: set[str] = set()
    with desk.store.read() as s:
        for (subject,) in s.execute(select(Ticket.subject)):
            in_subjects.update(w.lower() for w in re.findall(r"\w+", subject))
        for (name,) in s.execute(select(Customer.name)):
            in_subjects.update(w.lower() for w in re.findall(r"\w+", name or ""))
        for number, text in s.execute(
            select(Ticket.number, Message.text).join(Ticket, Ticket.id == Message.ticket_id)
        ):
            for w in re.findall(r"\w+", text.lower()):
                tokens.setdefault(w, set()).add(number)
    vocabulary = sorted(set(tokens) | in_subjects)
    for word, numbers in sorted(tokens.items()):
        if (
            len(numbers) == 1
            and len(word) >= 8
            and word.isascii()
            and word.isalpha()
            and word not in in_subjects
            and not any(w != word and w.startswith(word) for w in vocabulary)
        ):
            return word, next(iter(numbers))
    raise AssertionError("no word found in exactly one ticket's messages")


async def test_search_finds_a_word_in_a_message_body(demo_desk: Desk, make_app: AppFactory) -> None:
    word, number = word_in_one_body(demo_desk)
    assert word not in ticket(demo_desk, number).subject.lower()
    app = make_app(demo_desk)
    async with running(app) as pilot:
        everything = [r.number for r in inbox(app).rows]
        await pilot.press("slash", *word, "enter")
        await settle(pilot)
        assert [r.number for r in inbox(app).rows] == [number]
        assert f"Search “{word}”: 1 tickets" in screen_text(app)
        assert inbox(app).has_focus

        await pilot.press("escape")
        await settle(pilot)
        assert [r.number for r in inbox(app).rows] == everything
        assert "Search" not in filter_bar(app)


async def test_the_search_box_opens_over_the_top_bar_and_moves_nothing(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    """Opening the box, typing and leaving it leave every pane where it was: a box that pushed
    the desk down redrew every pane twice a search."""
    app = make_app(demo_desk)
    async with running(app, size=(160, 48)) as pilot:
        panes = ("#topbar", "#filterbar", "#inbox", "#ticket-pane")

        def regions() -> list[object]:
            return [app.screen.query_one(p).region for p in panes]

        before = regions()
        await pilot.press("slash", "v", "p", "n")
        await settle(pilot)
        box = app.screen.query_one("#search")
        assert box.has_focus and box.region.y == 0 and box.region.height == 1
        assert "vpn" in screen_text(app).splitlines()[0]  # typed over the top bar's line
        assert regions() == before
        await pilot.press("enter")
        await settle(pilot)
        assert regions() == before and inbox(app).has_focus
        await pilot.press("escape")
        await settle(pilot)
        assert regions() == before and not box.display
        assert "sdesk" in screen_text(app).splitlines()[0]  # the top bar is back


# -- roles, stale data, help and palette ---------------------------------------------------

LEAD_ONLY = {"assign": "Assign to…", "priority": "Set the priority", "merge": "Merge into"}


async def palette_lists(pilot: Pilot[None], words: str, wanted: str) -> bool:
    """Open the command palette, type ``words``; is ``wanted`` among the commands offered?"""
    await pilot.press("ctrl+p")
    await settle(pilot)
    await pilot.press(*words)
    await settle(pilot)
    await pilot.pause(0.3)  # the palette searches after a short debounce
    await settle(pilot)
    offered = wanted in screen_text(pilot.app)
    await pilot.press("escape")
    await settle(pilot)
    return offered


def lead_only_target(desk: Desk) -> int:
    """An active ticket neither urgent nor assigned to the engineer of these tests."""
    rows = active(desk, lambda r: r.priority != "urgent" and r.assignee != "dmitri.volkov")
    return rows[0].number


async def test_an_engineer_is_not_offered_lead_acts(demo_desk: Desk, make_app: AppFactory) -> None:
    engineer = "dmitri.volkov"
    with demo_desk.store.read() as s:
        me = agent_row(s, engineer)
    assert me is not None and me.role == "engineer"
    number = lead_only_target(demo_desk)
    before = ticket(demo_desk, number)

    app = make_app(demo_desk, engineer)
    async with running(app, size=(120, 50)) as pilot:  # tall: the whole help fits
        await open_ticket(pilot, number)
        screen = desk_screen(app)
        for action in LEAD_ONLY:
            assert screen.check_action(action, ()) is False, action
        assert screen.check_action("reply", ()) and screen.check_action("assign_me", ())
        footer = screen_text(app).splitlines()[-1]
        assert "Reply" in footer and "Priority" not in footer

        for key in ("A", "p", "m"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen, f"{key} opened {app.screen!r}"
        after = ticket(demo_desk, number)
        assert (after.version, after.priority, after.assignee_id) == (
            before.version,
            before.priority,
            before.assignee_id,
        )

        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "Reply to the customer" in text and "Assign to me" in text
        assert [h for h in LEAD_ONLY.values() if h in text] == []
        await pilot.press("escape")
        await settle(pilot)
        assert not await palette_lists(pilot, "Prio", "Set the priority")
        assert not await palette_lists(pilot, "Merge", "Merge into another")


async def test_a_dispatcher_is_offered_lead_acts(demo_desk: Desk, make_app: AppFactory) -> None:
    number = lead_only_target(demo_desk)
    app = make_app(demo_desk, "mia.chen")
    async with running(app, size=(120, 50)) as pilot:
        await open_ticket(pilot, number)
        screen = desk_screen(app)
        for action in LEAD_ONLY:
            assert screen.check_action(action, ()) is True, action
        await pilot.press("question_mark")
        await settle(pilot)
        text = screen_text(app)
        assert all(h in text for h in LEAD_ONLY.values()), text
        await pilot.press("escape")
        await settle(pilot)
        assert await palette_lists(pilot, "Prio", "Set the priority")
        assert await palette_lists(pilot, "Merge", "Merge into another")
        for key in ("A", "p", "m"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is not screen, f"{key} did nothing"
            await pilot.press("escape")
            await settle(pilot)


async def test_a_change_on_stale_data_is_refused(demo_path: Path, make_app: AppFactory) -> None:
    first, second = make_desk(demo_path), make_desk(demo_path)
    try:
        row = active(
            first, lambda r: r.priority != "urgent" and r.assignee not in (None, "mia.chen")
        )[0]
        assigned_before = [e.id for e in events(first, row.number, "ticket.assigned")]
        stale = make_app(second, "mia.chen", live=False)  # shows what it read, never refreshes
        async with running(stale) as stale_pilot:
            await open_ticket(stale_pilot, row.number)
            other = make_app(first, "sam.rivera")
            async with running(other) as pilot:
                await open_ticket(pilot, row.number)
                await pilot.press("p")
                await settle(pilot)
                await choose(pilot, "urgent")
            assert ticket(first, row.number).priority == "urgent"

            await stale_pilot.press("a")
            await settle(stale_pilot)
            assert any("changed meanwhile" in n for n in notices(stale)), notices(stale)
            after = ticket(first, row.number)
            assert after.priority == "urgent"
            assert assignee(first, row.number) == row.assignee
            assert [e.id for e in events(first, row.number, "ticket.assigned")] == assigned_before
            # the refused console looks again, so its operator sees what changed
            screen = desk_screen(stale)
            assert screen.detail is not None and screen.detail.ticket.priority == "urgent"
    finally:
        first.close()
        second.close()


async def test_help_and_command_palette(demo_desk: Desk, make_app: AppFactory) -> None:
    number = active(demo_desk, lambda r: r.assignee is None)[0].number
    app = make_app(demo_desk)
    async with running(app) as pilot:
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            text = screen_text(app)
            assert "Reply to the customer" in text and "Keys" in text
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, DeskScreen)

        await go_to(pilot, number)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Take")
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        assert "Take: Assign to me" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        await until(pilot, lambda: assignee(demo_desk, number) == "mia.chen", "the palette act")
        assert isinstance(app.screen, DeskScreen)


# -- hostile text --------------------------------------------------------------------------

HOSTILE_SUBJECT = "[/] \x1b[31mRED\x1b[0m [@click=app.quit] evil\u202etxt.exe"
HOSTILE_BODY = (
    "Hello [bold]x[/bold] there\n"
    "title \x1b]0;title\x07 bell\n"
    "zero\u200bwidth and \u202eoverride\n"
    "colour \x1b[31mred\x1b[0m"
)


async def test_hostile_text_is_shown_literally(demo_desk: Desk, make_app: AppFactory) -> None:
    result = demo_desk.intake(
        email(
            "<hostile-1@example.org>",
            frm="mallory@example.org",
            name="Mallory [red]M[/red]",
            subject=HOSTILE_SUBJECT,
            text=HOSTILE_BODY,
        )
    )
    number = result.ticket_number
    assert number is not None
    app = make_app(demo_desk)
    async with running(app) as pilot:
        await go_to(pilot, number)
        assert "\x1b" not in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        screen = desk_screen(app)
        assert screen.detail is not None and screen.detail.ticket.number == number
        text = screen_text(app)
        for literal in ("[/]", "[@click=app.quit]", "[bold]x[/bold]", "Mallory [red]M[/red]"):
            assert literal in text, literal
        for raw in ("\x1b", "\x07", "\u200b", "\u202e"):
            assert raw not in text, repr(raw)
        assert "␛[31mRED␛[0m" in text  # escapes become visible placeholders
        assert "␛]0;title" in text
        assert "zero\ufffdwidth" in text and "\ufffdoverride" in text
        assert "evil\ufffdtxt.exe" in text  # the RTL override cannot reverse "exe.txt"

        await pilot.press("down", "up", "escape", "enter", "escape")
        await settle(pilot)
        await pilot.click(offset=(40, 10))  # clicking where the [@click] text would be
        await settle(pilot)
        assert app.is_running and app.return_code is None
        assert isinstance(app.screen, DeskScreen)
        await go_to(pilot, number)  # (the click moved the cursor) … and its row is on screen,
        # drawn literally
        lines = screen_text(app).splitlines()
        row = [line for line in lines if line.startswith(f"#{number} ")]
        assert row and "[/] ␛[31mRED" in row[0], "\n".join(lines)
