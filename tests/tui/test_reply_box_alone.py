"""The reply box on its own, in a bare app: it keeps the drafts, their files and quoting, and
asks for sending and says it closed by messages (``ReplyBox.Send``, ``ReplyBox.Closed``)."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.message import Message

from sdesk.config import CannedResponse
from sdesk.tui.screens.pickers import ChoiceScreen
from sdesk.tui.widgets.reply import ReplyBox, ReplyTo, fill_canned


class Host(App[None]):
    def __init__(self, box: ReplyBox) -> None:
        super().__init__()
        self.box = box
        self.heard: list[Message] = []

    def compose(self) -> ComposeResult:
        yield self.box

    def on_reply_box_send(self, event: ReplyBox.Send) -> None:
        self.heard.append(event)

    def on_reply_box_closed(self, event: ReplyBox.Closed) -> None:
        self.heard.append(event)


TO_ANNA = ReplyTo("via Email to Anna Berg", "email", "Anna Berg")


async def test_drafts_keep_their_kind_and_sending_is_asked_for(tmp_path: Path) -> None:
    box = ReplyBox(canned=[CannedResponse(name="Hi", text="Hello {customer}")], agent="Mia")
    app = Host(box)
    async with app.run_test(size=(100, 20)) as pilot:
        box.open(7, "reply", TO_ANNA)
        await pilot.press(*"Draft")
        box.close()
        await pilot.pause()
        assert not box.display
        assert app.heard == [ReplyBox.Closed(7)]
        box.open(7, "note", TO_ANNA)  # a reply's draft stays a reply
        assert (box.mode, box.text) == ("reply", "Draft")
        attached = tmp_path / "line-test.pdf"
        attached.write_bytes(b"%PDF")
        box.files[7] = [attached]
        box.quote[7] = False
        box.send()
        await pilot.pause()
        assert app.heard[-1] == ReplyBox.Send(7, "reply", "Draft", [attached], False)
        assert box.drafts[7] == ("reply", "Draft"), "kept until the core has it"
        box.sent(7)
        assert not box.display and box.text == ""
        assert 7 not in box.drafts and 7 not in box.files and 7 not in box.quote


async def test_empty_text_is_not_sent_and_canned_responses_are_filled() -> None:
    box = ReplyBox(canned=[CannedResponse(name="Hi", text="Hello {customer}")], agent="Mia")
    app = Host(box)
    async with app.run_test(size=(100, 30)) as pilot:
        box.open(3, "reply", TO_ANNA)
        box.send()
        await pilot.pause()
        assert app.heard == []
        box.choose_canned()
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert box.text == "Hello Anna"
    assert fill_canned("{customer}, #{ticket} {x}", "", 5, "Mia") == "there, #5 {x}"


async def test_files_only_for_email_and_telegram_replies() -> None:
    box = ReplyBox()
    app = Host(box)
    async with app.run_test(size=(100, 30)) as pilot:
        box.open(4, "reply", ReplyTo("via SMS", "sms", ""))
        box.choose_files()
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceScreen)  # an SMS carries no file
        box.tell(4, ReplyTo("via Telegram", "telegram", ""))
        box.choose_files()
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)  # the bot sends documents and photos
        await pilot.press("escape")
        await pilot.pause()
        box.tell(4, TO_ANNA)  # the ticket was read: its last message came by email
        box.choose_files()
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
