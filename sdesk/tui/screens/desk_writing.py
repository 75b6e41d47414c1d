"""The desk screen's writing flow: reply, note, canned responses, $EDITOR, drafts.

Mixed into ``DeskScreen`` with ``DeskActs``; sending runs through ``DeskActs.run_act``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import SuspendNotSupported

from sdesk.tui.render import channel_label, plain
from sdesk.tui.screens.pickers import ChoiceScreen
from sdesk.tui.widgets.reply import Mode, ReplyBox

if TYPE_CHECKING:
    from sdesk.tui.screens.desk import DeskScreen

    _Base = DeskScreen
else:
    _Base = object

_PLACEHOLDER = re.compile(r"\{(customer|ticket|agent)\}")


def fill_canned(text: str, customer: str, ticket: int, agent: str) -> str:
    """Fill ``{customer}``, ``{ticket}``, ``{agent}``; other braces stay as typed."""
    values = {"customer": customer or "there", "ticket": str(ticket), "agent": agent}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


class DeskWriting(_Base):
    """Mixed into ``DeskScreen``."""

    def action_reply(self) -> None:
        self._write("reply")

    def action_note(self) -> None:
        self._write("note")

    def _write(self, mode: Mode) -> None:
        if (t := self._target_or_say()) is None:
            return
        number = t[0]
        if not self._is_detail(number) or not self.ticket_open:
            self.open_ticket(number)
        saved_mode, draft = self.sapp.drafts.get(number, (mode, ""))
        if saved_mode != mode and draft:
            mode = saved_mode  # a draft keeps its kind; switching would send a note to the customer
        self.query_one(ReplyBox).open(number, mode, self._route(), draft)
        self.query_one("#thread").scroll_end(animate=False)  # the box takes room: keep the latest
        self.sapp.announce(number, "replying")

    def _route(self) -> str:
        """Where a reply would go, for the reply box's label (the core decides for real)."""
        if self.detail is None:
            return ""
        for m in reversed(self.detail.messages):
            if m.kind == "inbound" and not m.auto:
                channel = "SMS" if m.channel == "phone" else channel_label(m.channel)
                return f"via {channel} to {m.author}"
        return f"via {channel_label(self.detail.ticket.channel)}"

    def action_close_reply(self) -> None:
        box = self.query_one(ReplyBox)
        if box.number is not None:
            if box.text.strip():
                self.sapp.drafts[box.number] = (box.mode, box.text)
            else:
                self.sapp.drafts.pop(box.number, None)
        box.display = False
        self.sapp.announce(box.number, "viewing")
        self.query_one("#thread").focus()

    def action_send(self) -> None:
        box = self.query_one(ReplyBox)
        number, text, mode = box.number, box.text, box.mode
        if number is None:
            return
        if not text.strip():
            self.notify("write something first", severity="warning", markup=False)
            return
        self.sapp.drafts[number] = (mode, text)  # kept until the core has it
        version = self.detail.ticket.version if self._is_detail(number) else None
        desk, me = self.sapp.desk, self.sapp.me.login

        def sent(_result: object) -> None:
            self.sapp.drafts.pop(number, None)
            if box.number == number:
                box.area.load_text("")
                box.display = False
                self.query_one("#thread").focus()
            self.sapp.announce(number, "viewing")

        if mode == "note":
            act: Callable[[], Any] = lambda: desk.add_note(  # noqa: E731
                number, me, text, expected_version=version
            )
        else:
            act = lambda: desk.reply(number, me, text, expected_version=version)  # noqa: E731
        self.run_act(
            "note saved" if mode == "note" else "reply queued", act, then=sent, scroll_end=True
        )

    def action_canned(self) -> None:
        box = self.query_one(ReplyBox)
        canned = self.sapp.desk.settings.canned
        if box.number is None or not canned:
            return
        customer = (self.card.name if self.card else "") or ""
        first = customer.split()[0] if customer.split() else customer
        me = self.sapp.me
        options: list[tuple[Text | str, str | None]] = [
            (plain(c.name), fill_canned(c.text, first, box.number, me.name or me.login))
            for c in canned
        ]

        def insert(text: str | None) -> None:
            if text:
                box.area.insert(text)
            box.area.focus()

        self.app.push_screen(ChoiceScreen("Canned response", options), insert)

    def action_edit_in_editor(self) -> None:
        box = self.query_one(ReplyBox)
        if not box.display:
            self._write("reply")
        self.action_editor()

    def action_editor(self) -> None:
        box = self.query_one(ReplyBox)
        if box.number is None:
            return
        edited = self._external_edit(box.text)
        if edited is not None:
            box.area.load_text(edited)
            box.area.move_cursor(box.area.document.end)
        box.area.focus()

    def _external_edit(self, text: str) -> str | None:
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        fd, name = tempfile.mkstemp(prefix="sdesk-reply-", suffix=".txt")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            command = [*shlex.split(editor), name]
            try:
                with self.app.suspend():
                    code = subprocess.call(command)
            except SuspendNotSupported:  # no terminal to hand over (tests, web): run it as is
                code = subprocess.call(command, stdin=subprocess.DEVNULL)
            except FileNotFoundError:
                self.notify(
                    f"editor not found: {editor} (set $EDITOR)", severity="error", markup=False
                )
                return None
            if code != 0:
                self.notify(
                    f"{editor} exited with {code}; text unchanged", severity="warning", markup=False
                )
                return None
            return Path(name).read_text(encoding="utf-8", errors="replace").rstrip("\n")
        finally:
            os.unlink(name)
