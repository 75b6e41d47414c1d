"""Files and quoting in the reply box (ctrl+f), driven by key presses on the demo desk; the
checks read what the store then holds: the attachment rows, the blobs, the outbox payload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from textual.widgets import Static

from sdesk.core.desk import Desk
from sdesk.store.models import Attachment, Message, Ticket
from sdesk.store.queries import ACTIVE
from sdesk.tui.compat import notifications
from sdesk.tui.screens.desk import DeskScreen
from sdesk.tui.screens.pickers import ChoiceScreen, PromptScreen
from tests.tui.conftest import AppFactory, make_desk, running, settle
from tests.tui.screen import screen_text
from tests.tui.test_desk_actions import choose, messages, open_ticket, outbox_for, reply_box


def email_ticket(desk: Desk) -> int:
    """An active ticket whose reply goes by email (its last inbound message is an email)."""
    with desk.store.read() as s:
        numbers = s.execute(
            select(Ticket.number)
            .where(
                Ticket.status.in_(ACTIVE),
                Ticket.merged_into_id.is_(None),
                Ticket.channel == "email",
            )
            .order_by(Ticket.number)
        ).scalars()
        for number in numbers:
            tid = s.execute(select(Ticket.id).where(Ticket.number == number)).scalar_one()
            last = s.execute(
                select(Message.channel)
                .where(Message.ticket_id == tid, Message.kind == "inbound", Message.auto.is_(None))
                .order_by(Message.created_at.desc())
                .limit(1)
            ).scalar_one_or_none()
            if last == "email":
                return number
    raise AssertionError("the demo has no active email ticket")


def files_line(app: object) -> Static:
    return reply_box(app).query_one("#reply-files", Static)  # type: ignore[arg-type]


async def test_attach_a_file_in_the_reply_box(
    demo_desk: Desk, make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = email_ticket(demo_desk)
    report = tmp_path / "line-test.txt"
    report.write_bytes(b"line test: 12 dB noise at 09:40\n")
    monkeypatch.chdir(tmp_path)  # so the file can be typed by its name
    app = make_app(demo_desk)
    async with running(app) as pilot:
        await open_ticket(pilot, number)
        await pilot.press("r", *"Report attached.")
        await settle(pilot)
        assert not files_line(app).display  # nothing attached: the text keeps its room

        await pilot.press("ctrl+f")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await choose(pilot, "Attach a file")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"nothere.pdf", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen), "a missing file was accepted"
        error = str(app.screen.query_one("#prompt-error", Static).render())
        assert "nothere.pdf" in error
        await pilot.press("ctrl+u", *"line-test.txt", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert reply_box(app).area.has_focus
        assert files_line(app).display
        assert "line-test.txt" in screen_text(app)

        # Attaching the same file twice is refused in the prompt.
        await pilot.press("ctrl+f")
        await settle(pilot)
        await choose(pilot, "Attach a file")
        await pilot.press(*"line-test.txt", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        assert "attached already" in str(app.screen.query_one("#prompt-error", Static).render())
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not reply_box(app).display
        assert reply_box(app).files.get(number) is None  # queued: the files went with it

    report.unlink()  # the queued reply no longer needs the operator's copy
    last = messages(demo_desk, number)[-1]
    assert (last.kind, last.text) == ("reply", "Report attached.")
    with demo_desk.store.read() as s:
        [att] = s.execute(select(Attachment).where(Attachment.message_id == last.id)).scalars()
    assert (att.filename, att.content_type, att.size) == ("line-test.txt", "text/plain", 32)
    assert demo_desk.store.blobs.get(att.sha256) == b"line test: 12 dB noise at 09:40\n"
    [out] = outbox_for(demo_desk, last.id)
    payload = json.loads(out.payload)
    assert payload["attachments"] == [
        {
            "filename": "line-test.txt",
            "content_type": "text/plain",
            "size": 32,
            "sha256": att.sha256,
        }
    ]
    assert "quote" in payload  # the desk's default: quote the customer


async def test_remove_a_file_and_turn_quoting_off(
    demo_desk: Desk, make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = email_ticket(demo_desk)
    (tmp_path / "a.log").write_text("a")
    (tmp_path / "b.log").write_text("b")
    monkeypatch.chdir(tmp_path)
    app = make_app(demo_desk)
    async with running(app) as pilot:
        await open_ticket(pilot, number)
        await pilot.press("r", *"Short.")
        for name in ("a.log", "b.log"):
            await pilot.press("ctrl+f")
            await settle(pilot)
            await choose(pilot, "Attach a file")
            await pilot.press(*name, "enter")
            await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        await choose(pilot, "Remove a.log")
        await pilot.press("ctrl+f")
        await settle(pilot)
        await choose(pilot, "Do not quote")
        text = screen_text(app)
        assert "b.log" in text and "a.log" not in text
        assert "not quoting the customer" in text
        await pilot.press("ctrl+s")
        await settle(pilot)

    last = messages(demo_desk, number)[-1]
    [out] = outbox_for(demo_desk, last.id)
    payload = json.loads(out.payload)
    assert [a["filename"] for a in payload["attachments"]] == ["b.log"]
    assert "quote" not in payload


async def test_a_note_takes_no_files(demo_desk: Desk, make_app: AppFactory) -> None:
    number = email_ticket(demo_desk)
    app = make_app(demo_desk)
    async with running(app) as pilot:
        await open_ticket(pilot, number)
        await pilot.press("n", "ctrl+f")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        assert any("notes stay inside" in str(n.message) for n in notifications(app))


async def test_the_size_cap_is_told_in_the_prompt(
    demo_path: Path, make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sdesk.config import EmailSettings

    desk = make_desk(demo_path, email=EmailSettings(max_attachments_mb=0.001))
    try:
        number = email_ticket(desk)
        (tmp_path / "big.bin").write_bytes(b"x" * 5000)
        monkeypatch.chdir(tmp_path)
        app = make_app(desk)
        async with running(app) as pilot:
            await open_ticket(pilot, number)
            await pilot.press("r", "ctrl+f")
            await settle(pilot)
            await choose(pilot, "Attach a file")
            await pilot.press(*"big.bin", "enter")
            await settle(pilot)
            assert isinstance(app.screen, PromptScreen)
            error = str(app.screen.query_one("#prompt-error", Static).render())
            assert "cap" in error and "max_attachments_mb" in error
    finally:
        desk.close()
