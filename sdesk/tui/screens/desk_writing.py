"""The desk screen's side of writing: which ticket the reply box writes on, what it knows of it,
and the core acts it asks for by message (``ReplyBox.Send``, ``ReplyBox.Closed``).

Mixed into ``DeskScreen`` (its message handlers go by name: Textual's ``@on`` registers only
handlers of message-pump classes). The box itself owns the drafts, files, quoting, canned responses
and $EDITOR (``widgets/reply.py``); this only hands the screen's keys to it.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import work

from sdesk.core.errors import DeskError
from sdesk.core.replies import ReplyResult
from sdesk.tui.render import channel_label, safe
from sdesk.tui.threads import from_thread
from sdesk.tui.widgets.reply import Mode, ReplyBox, ReplyTo

if TYPE_CHECKING:
    from sdesk.tui.screens.desk_parts import DeskParts

    _Base = DeskParts
else:
    _Base = object


# Drafts are saved by thread workers: one at a time, and a save overtaken by a newer one of the
# same ticket is skipped, so the desk always ends with the latest text.
_draft_lock = threading.Lock()
_draft_seq = itertools.count(1)


class DeskWriting(_Base):
    """Mixed into ``DeskScreen``."""

    _draft_latest: dict[int, int]

    # -- drafts kept in the desk -----------------------------------------------------------

    @work(thread=True, group="drafts-read", exit_on_error=False)
    def load_drafts(self) -> None:
        """This agent's drafts from the desk (written before a quit or a crash)."""
        drafts = self.sapp.desk.drafts(self.sapp.me.login)
        rows = [(d.number, d.kind, d.text) for d in drafts]
        from_thread(self, self.reply_box.restore, rows)

    def on_reply_box_draft_changed(self, event: ReplyBox.DraftChanged) -> None:
        self.save_draft(event.number, event.mode, event.text)

    def save_draft(
        self, number: int, mode: Mode, text: str, then: Callable[[], Any] | None = None
    ) -> None:
        seq = self._draft_latest[number] = next(_draft_seq)
        self._save_draft(number, mode, text, seq, then)

    @work(thread=True, group="drafts", exit_on_error=False)
    def _save_draft(
        self, number: int, mode: Mode, text: str, seq: int, then: Callable[[], Any] | None
    ) -> None:
        with _draft_lock:
            if self._draft_latest.get(number) == seq:
                try:
                    self.sapp.desk.save_draft(self.sapp.me.login, number, text, kind=mode)
                except DeskError as exc:
                    why = str(exc)
                    from_thread(
                        self,
                        lambda: self.notify(
                            safe(f"draft not kept: {why}"), severity="warning", markup=False
                        ),
                    )
        if then is not None:
            from_thread(self, then)

    def keep_drafts_then(self, then: Callable[[], Any]) -> None:
        """Put the open reply away and keep it in the desk, then ``then`` (quitting)."""
        box = self.reply_box
        if box.display and box.number is not None:
            self.save_draft(box.number, box.mode, box.text, then)
        else:
            then()

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

        def sent(result: object) -> None:
            # A reply on a channel the desk cannot send on (no SMTP for the mailbox, say) is
            # kept, and the operator is told why it waits instead of "queued".
            warning = result.warning if isinstance(result, ReplyResult) else None
            if warning:
                self.notify(
                    safe(f"reply kept, not sent: {warning}"), severity="warning", timeout=12
                )
            elif mode != "note":
                self.notify("reply queued", markup=False)
            was_open = box.number == number
            box.sent(number)
            if was_open:
                self.query_one("#thread").focus()
            self.sapp.announce(number, "viewing")

        if mode == "note":

            def act() -> Any:
                note = desk.add_note(number, me, text, expected_version=version)
                desk.drop_draft(me, number)  # a reply's draft goes with the reply itself
                return note

        else:
            files, quote = event.files, event.quote

            def act() -> Any:
                return desk.reply(
                    number, me, text, expected_version=version, files=files, quote=quote
                )

        self.run_act("note saved" if mode == "note" else "", act, then=sent, scroll_end=True)

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
