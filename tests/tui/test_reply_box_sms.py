"""The reply box on an SMS ticket counts the text's segments as it is typed (GSM-7: 160 in
one SMS, 153 per part; one character outside GSM-7 makes it UCS-2: 70, 67 per part)."""

from __future__ import annotations

from textual.widgets import Static

from sdesk.tui.widgets.reply import ReplyBox, ReplyTo
from tests.tui.test_reply_box_alone import TO_ANNA, Host


def line(box: ReplyBox) -> str:
    files = box.query_one("#reply-files", Static)
    return str(files.render()) if files.display else ""


async def test_the_segment_count_follows_the_typing() -> None:
    box = ReplyBox()
    app = Host(box)
    async with app.run_test(size=(100, 20)) as pilot:
        box.open(5, "reply", ReplyTo("via SMS to Ann", "sms", "Ann"))
        await pilot.pause()
        assert line(box) == "1 SMS · GSM-7 · 0/160"
        box.area.insert("a" * 161)
        await pilot.pause()
        assert line(box) == "2 SMS · GSM-7 · 161/306"
        box.area.insert("ł")
        await pilot.pause()
        assert line(box) == "3 SMS · UCS-2 · 162/201"
        box.tell(5, TO_ANNA)  # the ticket's last message came by email after all: no count
        await pilot.pause()
        assert line(box) == ""
        box.close()
        box.open(6, "note", ReplyTo("via SMS", "sms", ""))  # a note is never texted
        await pilot.pause()
        assert line(box) == ""
