"""The desk screen's side of writing: which ticket the reply box writes on, what it knows of it,
and the core acts it asks for by message (``ReplyBox.Send``, ``ReplyBox.Closed``).

Mixed into ``DeskScreen`` (its message handlers go by name: Textual's ``@on`` registers only
handlers of message-pump classes). The box itself owns the drafts, files, quoting, canned responses
and $EDITOR (``widgets/reply.py``); this only hands the screen's keys to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sdesk.tui.render import channel_label
from sdesk.tui.widgets.reply import Mode, ReplyBox, ReplyTo

if TYPE_CHECKING:
    from sdesk.tui.screens.desk_parts import DeskParts

    _Base = DeskParts
else:
    _Base = object


class DeskWriting(_Base):
    """Mixed into ``DeskScreen``."""

    def action_reply(self) -> None:
        self._write("reply")

    def action_note(self) -> None:
        self._write("note")

    def _write(self, mode: Mode) -> None:
        if (t := self.target_or_say()) is None:
            return
        number = t[0]
        if not self.is_detail(number) or not self.ticket_open:
            self.open_ticket(number)
        self.reply_box.open(number, mode, self.reply_to(number))
        self.query_one("#thread").scroll_end(animate=False)  # the box takes room: keep the latest
        self.sapp.announce(number, "replying")

    def reply_to(self, number: int) -> ReplyTo:
        """What the box should know of ticket ``number``: where a reply would go (the message
        it answers: the last inbound one that is not automatic), and the customer's name."""
        if not self.is_detail(number) or self.detail is None:
            return ReplyTo()  # not read yet: told again when it is (``_ticket_loaded``)
        channel, author = self.detail.ticket.channel, None
        for m in reversed(self.detail.messages):
            if m.kind == "inbound" and not m.auto:
                channel, author = m.channel, m.author
                break
        label = "SMS" if channel == "phone" else channel_label(channel)
        route = f"via {label} to {author}" if author is not None else f"via {label}"
        return ReplyTo(route, channel, (self.card.name if self.card else "") or "")

    def action_close_reply(self) -> None:
        self.reply_box.close()

    def on_reply_box_closed(self, event: ReplyBox.Closed) -> None:
        self.sapp.announce(event.number, "viewing")
        self.query_one("#thread").focus()

    def action_send(self) -> None:
        self.reply_box.send()

    def on_reply_box_send(self, event: ReplyBox.Send) -> None:
        number, text, mode = event.number, event.text, event.mode
        version = self.detail.ticket.version if self.detail and self.is_detail(number) else None
        desk, me, box = self.sapp.desk, self.sapp.me.login, self.reply_box

        def sent(_result: object) -> None:
            was_open = box.number == number
            box.sent(number)
            if was_open:
                self.query_one("#thread").focus()
            self.sapp.announce(number, "viewing")

        if mode == "note":
            act: Callable[[], Any] = lambda: desk.add_note(  # noqa: E731
                number, me, text, expected_version=version
            )
        else:
            files, quote = event.files, event.quote
            act = lambda: desk.reply(  # noqa: E731
                number, me, text, expected_version=version, files=files, quote=quote
            )
        self.run_act(
            "note saved" if mode == "note" else "reply queued", act, then=sent, scroll_end=True
        )

    def action_canned(self) -> None:
        self.reply_box.choose_canned()

    def action_canned_reply(self) -> None:
        """ctrl+t from the ticket: triage goes straight to a canned answer."""
        if not self.reply_box.display:
            self._write("reply")
        self.reply_box.choose_canned()

    def action_attach(self) -> None:
        self.reply_box.choose_files()

    def action_edit_in_editor(self) -> None:
        if not self.reply_box.display:
            self._write("reply")
        self.reply_box.edit_externally()

    def action_editor(self) -> None:
        self.reply_box.edit_externally()
