"""The desk screen's writing flow: reply, note, canned responses, $EDITOR, drafts, files.

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

from sdesk.core.attachments import check_files
from sdesk.tui.render import channel_label, plain, safe
from sdesk.tui.screens.pickers import ChoiceScreen, PromptScreen
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
        box = self.query_one(ReplyBox)
        box.quote_default = self.sapp.desk.settings.email.quote_history
        box.open(number, mode, self._route(), draft)
        self.query_one("#thread").scroll_end(animate=False)  # the box takes room: keep the latest
        self.sapp.announce(number, "replying")

    def _route(self) -> str:
        """Where a reply would go, for the reply box's label (the core decides for real)."""
        channel, author = self._reply_channel()
        if not channel:
            return ""
        label = "SMS" if channel == "phone" else channel_label(channel)
        return f"via {label} to {author}" if author is not None else f"via {label}"

    def _reply_channel(self) -> tuple[str, str | None]:
        """(channel, customer) of the message a reply answers; ("", None) before loading."""
        if self.detail is None:
            return "", None
        for m in reversed(self.detail.messages):
            if m.kind == "inbound" and not m.auto:
                return m.channel, m.author
        return self.detail.ticket.channel, None

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

        files = list(box.files.get(number, [])) if mode == "reply" else []
        quote = box.quote.get(number)

        def sent(_result: object) -> None:
            self.sapp.drafts.pop(number, None)
            box.files.pop(number, None)
            box.quote.pop(number, None)
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
            act = lambda: desk.reply(  # noqa: E731
                number, me, text, expected_version=version, files=files, quote=quote
            )
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

    def action_attach(self) -> None:
        """Files and quoting of the open reply: attach a file (a path prompt), remove one, or
        turn quoting of the customer's last message on or off for this reply."""
        box = self.query_one(ReplyBox)
        number = box.number
        if number is None or not box.display:
            return
        if box.mode == "note":
            self.notify("files go out with replies; notes stay inside", markup=False)
            return
        channel = self._reply_channel()[0] if self._is_detail(number) else "email"
        if channel != "email":
            self.notify(
                safe(f"this reply goes by {channel_label(channel)}; only email carries files"),
                severity="warning",
                markup=False,
            )
            return
        files = box.files.setdefault(number, [])
        quoting = box.quoting(number)
        options: list[tuple[Text | str, tuple[str, int]]] = [("Attach a file…", ("attach", 0))]
        options += [(plain(f"Remove {path.name}"), ("remove", i)) for i, path in enumerate(files)]
        options.append(
            (
                "Do not quote the customer's message"
                if quoting
                else "Quote the customer's message under the reply",
                ("quote", 0),
            )
        )

        def chosen(choice: tuple[str, int] | None) -> None:
            if choice is None:
                box.area.focus()
            elif choice[0] == "attach":
                self._ask_for_file(box, number)
            else:
                if choice[0] == "remove":
                    files.pop(choice[1])
                else:
                    box.quote[number] = not quoting
                box.show_files()
                box.area.focus()

        self.app.push_screen(ChoiceScreen(f"Files of the reply on #{number}", options), chosen)

    def _ask_for_file(self, box: ReplyBox, number: int) -> None:
        files = box.files.setdefault(number, [])
        cap = int(self.sapp.desk.settings.email.max_attachments_mb * 1024 * 1024)

        def check(value: str) -> str | None:
            if not value:
                return "type the path of a file"
            path = Path(value).expanduser().absolute()
            if path in files:
                return f"{path.name} is attached already"
            return check_files([*files, path], cap)  # a stat per file: quick, even for many

        def attach(value: str | None) -> None:
            if value:
                files.append(Path(value).expanduser().absolute())
                box.show_files()
            box.area.focus()

        self.app.push_screen(
            PromptScreen(
                f"Attach a file to the reply on #{number}",
                placeholder="path, e.g. ~/reports/line-test.pdf",
                check=check,
            ),
            attach,
        )

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
                    safe(f"editor not found: {editor} (set $EDITOR)"),
                    severity="error",
                    markup=False,
                )
                return None
            if code != 0:
                self.notify(
                    safe(f"{editor} exited with {code}; text unchanged"),
                    severity="warning",
                    markup=False,
                )
                return None
            return Path(name).read_text(encoding="utf-8", errors="replace").rstrip("\n")
        finally:
            os.unlink(name)
