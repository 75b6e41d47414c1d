"""The reply box: a TextArea for a reply to the customer or an internal note, with the files
attached to the reply and whether it quotes the customer listed under it.

The box owns the writing: the drafts of every ticket written on, their files and quoting, canned
responses and $EDITOR. It asks for what only the desk can do by messages: ``ReplyBox.Send`` (the
core queues the reply or saves the note; the screen calls ``sent`` when it did),
``ReplyBox.Closed`` and ``ReplyBox.DraftChanged`` (a moment after the typing stops, and when the
box closes: the screen keeps the draft in the desk, so it survives quitting and a crash). What
it knows of the ticket (where a reply goes, the customer's name) the screen tells it
(``ReplyTo``).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from rich.text import Text
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static, TextArea

from sdesk.config import CannedResponse
from sdesk.core.attachments import check_files
from sdesk.core.replies import fill_canned as core_fill_canned
from sdesk.tui.actions import REPLY_ACTIONS, bindings
from sdesk.tui.render import channel_label, plain, safe, size

Mode = Literal["reply", "note"]
FILE_CHANNELS = ("email", "telegram", "web")  # replies that carry files (core/replies.py)
DRAFT_SAVE_DELAY = 0.8  # seconds after the last key before a draft is kept in the desk


def fill_canned(text: str, customer: str, ticket: int, agent: str) -> str:
    """Kept for the box's callers: the rule is ``sdesk.core.replies.fill_canned`` (``agent``
    must be the agent's display name)."""
    return core_fill_canned(text, customer=customer, ticket=ticket, agent_name=agent)


def _newlines(text: str) -> int:
    """How many line breaks ``text`` starts with."""
    return len(text) - len(text.lstrip("\n"))


def _after(start: tuple[int, int], text: str) -> tuple[int, int]:
    """The location just after ``text`` inserted at ``start`` (row, column)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return start[0], start[1] + len(text)
    return start[0] + len(lines) - 1, len(lines[-1])


@dataclass(frozen=True)
class ReplyTo:
    """What the box knows of the ticket it writes on (the core decides for real)."""

    route: str = ""  # "via Email to Anna …" for the label; "" before the ticket is read
    channel: str = "email"  # of the message a reply answers: FILE_CHANNELS carry files
    customer: str = ""  # the customer's first name, for canned responses


class ReplyBox(Vertical):
    """Shown under the thread while writing. Its keys (send, canned, editor, files, close) are
    the desk screen's actions, which hand them to the box."""

    BINDINGS: ClassVar[list[Binding]] = bindings(REPLY_ACTIONS)  # type: ignore[assignment]

    @dataclass
    class Send(Message):
        """Queue this reply (or save this note) on ticket ``number``."""

        number: int
        mode: Mode
        text: str
        files: list[Path]
        quote: bool | None  # None: the desk's default

    @dataclass
    class Closed(Message):
        """The box was closed on ticket ``number`` (its text kept as a draft)."""

        number: int | None

    @dataclass
    class DraftChanged(Message):
        """Keep this draft of ticket ``number`` in the desk (empty text: drop it)."""

        number: int
        mode: Mode
        text: str

    def __init__(
        self,
        *,
        canned: Sequence[CannedResponse] = (),
        agent: str = "",
        max_attachment_bytes: int = 0,
        quote_default: bool = True,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.canned = list(canned)
        self.agent = agent  # the name canned responses sign with
        self.max_attachment_bytes = max_attachment_bytes
        self.quote_default = quote_default
        self.mode: Mode = "reply"
        self.number: int | None = None
        self.reply_to = ReplyTo()
        # Per ticket, kept until the reply is queued: the text and kind of a draft, the files
        # to attach (paths on this machine; the core copies them into the desk when it queues
        # the reply) and the operator's choice to quote or not where it differs from the default.
        self.drafts: dict[int, tuple[Mode, str]] = {}
        self.files: dict[int, list[Path]] = {}
        self.quote: dict[int, bool] = {}
        self._save_timer: Timer | None = None
        self._loaded_text = ""  # the text as last loaded: a change to it is typing

    def compose(self) -> ComposeResult:
        yield Static("", id="reply-label", markup=False)
        yield TextArea("", id="reply-text", soft_wrap=True, show_line_numbers=False)
        yield Static("", id="reply-files", markup=False)
        yield Static(
            Text("ctrl+s send · ctrl+t canned · ctrl+o editor · ctrl+f files · esc keep draft"),
            id="reply-hint",
            markup=False,
        )

    @property
    def area(self) -> TextArea:
        return self.query_one("#reply-text", TextArea)

    @property
    def text(self) -> str:
        return self.area.text

    def quoting(self, number: int) -> bool:
        return self.quote.get(number, self.quote_default)

    # -- drafts kept in the desk -----------------------------------------------------------

    def restore(self, drafts: Sequence[tuple[int, Mode, str]]) -> None:
        """Drafts read from the desk; one written here meanwhile wins."""
        for number, mode, text in drafts:
            if text.strip() and number not in self.drafts and number != self.number:
                self.drafts[number] = (mode, text)

    def unsent(self) -> list[int]:
        """Tickets with a draft not sent yet, the open one included."""
        numbers = [n for n, (_mode, text) in self.drafts.items() if text.strip()]
        if self.display and self.number is not None and self.text.strip():
            numbers = sorted({*numbers, self.number})
        return numbers

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self.number is None or not self.display or self.text == self._loaded_text:
            return
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(DRAFT_SAVE_DELAY, self.keep_draft)

    def keep_draft(self) -> None:
        """Hand the text written now to the desk (the screen saves it off the UI thread)."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        if self.number is not None:
            self.post_message(self.DraftChanged(self.number, self.mode, self.text))

    def _load(self, text: str) -> None:
        self._loaded_text = text
        self.area.load_text(text)

    # -- opening and closing ---------------------------------------------------------------

    def open(self, number: int, mode: Mode, reply_to: ReplyTo) -> None:
        """Write on ticket ``number``, from its draft if it has one. A draft keeps its kind:
        switching would send a note to the customer."""
        saved_mode, draft = self.drafts.get(number, (mode, ""))
        if saved_mode != mode and draft:
            mode = saved_mode
        self.number, self.mode = number, mode
        self.tell(number, reply_to)
        self.set_class(mode == "note", "-note")
        self._load(draft)
        self.area.move_cursor(self.area.document.end)
        self.show_files()
        self.display = True
        self.area.focus()

    def tell(self, number: int, reply_to: ReplyTo) -> None:
        """What the desk knows of ticket ``number`` now (ignored for another ticket)."""
        if number != self.number:
            return
        self.reply_to = reply_to
        label = Text(end="")
        if self.mode == "note":
            label.append(f"Internal note on #{number}", style="bold yellow")
            label.append(" — only agents see it", style="dim")
        else:
            label.append(f"Reply on #{number} ", style="bold green")
            label.append_text(plain(reply_to.route))
        self.query_one("#reply-label", Static).update(label)

    def close(self) -> None:
        """Hide the box; its text stays as the ticket's draft (an empty one is dropped)."""
        if self.number is not None:
            if self.text.strip():
                self.drafts[self.number] = (self.mode, self.text)
            else:
                self.drafts.pop(self.number, None)
            self.keep_draft()
        self.display = False
        self.post_message(self.Closed(self.number))

    def stash(self, keep: int | None = None) -> None:
        """Put the open reply away as a draft, unless it belongs to ticket ``keep``."""
        if self.display and self.number is not None and self.number != keep:
            self.drafts[self.number] = (self.mode, self.text)
            self.keep_draft()
            self.display = False

    # -- sending ---------------------------------------------------------------------------

    def send(self) -> None:
        number, text, mode = self.number, self.text, self.mode
        if number is None:
            return
        if not text.strip():
            self.notify("write something first", severity="warning", markup=False)
            return
        self.drafts[number] = (mode, text)  # kept until the core has it
        files = list(self.files.get(number, [])) if mode == "reply" else []
        self.post_message(self.Send(number, mode, text, files, self.quote.get(number)))

    def sent(self, number: int) -> None:
        """The core has it: forget the draft, its files and quoting; close if still open."""
        self.drafts.pop(number, None)
        self.files.pop(number, None)
        self.quote.pop(number, None)
        if self.number == number:
            if self._save_timer is not None:  # a save of the text just sent must not follow
                self._save_timer.stop()
                self._save_timer = None
            self._load("")
            self.display = False

    # -- canned responses, files, $EDITOR --------------------------------------------------

    def choose_canned(self) -> None:
        """Pick a canned response, its filled text previewed; it goes in as a paragraph."""
        number = self.number
        if number is None or not self.canned:
            return

        def filled(index: int) -> str:
            # Filled when shown and when chosen, not when the picker opens: ctrl+t may come
            # before the ticket was read (the customer's name is told with it, ``tell``).
            customer = self.reply_to.customer
            first = customer.split()[0] if customer.split() else customer
            return fill_canned(self.canned[index].text, first, number, self.agent)

        def insert(index: int | None) -> None:
            if index is not None and self.number == number:
                self.insert_block(filled(index))
            self.area.focus()

        from sdesk.tui.screens.pickers import ChoiceScreen

        options: list[tuple[Text | str, int | None]] = [
            (plain(c.name), i) for i, c in enumerate(self.canned)
        ]
        self.app.push_screen(ChoiceScreen("Canned response", options, preview=filled), insert)

    def insert_block(self, block: str) -> None:
        """``block`` (a canned response) at the cursor, in place of a selection, as a
        paragraph of its own: a blank line from any text before and after it, never glued
        to what was typed (``…платёж.Hello``). The cursor ends after it."""
        area = self.area
        (row, col), (end_row, end_col) = sorted(area.selection)
        before = area.get_text_range((0, 0), (row, col))
        after = area.get_text_range((end_row, end_col), area.document.end)
        # Spaces at the seam go: the block brings its own line breaks.
        start = (row, col - (len(before) - len(before.rstrip(" \t"))))
        end = (end_row, end_col + (len(after) - len(after.lstrip(" \t"))))
        before, after = before.rstrip(" \t"), after.lstrip(" \t")
        lead = "\n" * max(0, 2 - _newlines(before[::-1])) if before.strip() else ""
        trail = "\n" * max(0, 2 - _newlines(after)) if after.strip() else ""
        area.replace(lead + block + trail, start, end, maintain_selection_offset=False)
        area.move_cursor(_after(start, lead + block))

    def choose_files(self) -> None:
        """Attach a file (a path prompt), remove one, or turn quoting of the customer's last
        message on or off for this reply."""
        from sdesk.tui.screens.pickers import ChoiceScreen

        number = self.number
        if number is None or not self.display:
            return
        if self.mode == "note":
            self.notify("files go out with replies; notes stay inside", markup=False)
            return
        channel = self.reply_to.channel
        if channel not in FILE_CHANNELS:
            self.notify(
                safe(
                    f"this reply goes by {channel_label(channel)}; "
                    "only email, Telegram and the web cabinet carry files"
                ),
                severity="warning",
                markup=False,
            )
            return
        files = self.files.setdefault(number, [])
        quoting = self.quoting(number)
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
                self.area.focus()
            elif choice[0] == "attach":
                self._ask_for_file(number)
            else:
                if choice[0] == "remove":
                    files.pop(choice[1])
                else:
                    self.quote[number] = not quoting
                self.show_files()
                self.area.focus()

        self.app.push_screen(ChoiceScreen(f"Files of the reply on #{number}", options), chosen)

    def _ask_for_file(self, number: int) -> None:
        from sdesk.tui.screens.pickers import PromptScreen

        files = self.files.setdefault(number, [])

        def check(value: str) -> str | None:
            if not value:
                return "type the path of a file"
            path = Path(value).expanduser().absolute()
            if path in files:
                return f"{path.name} is attached already"
            return check_files([*files, path], self.max_attachment_bytes)  # a stat per file

        def attach(value: str | None) -> None:
            if value:
                files.append(Path(value).expanduser().absolute())
                self.show_files()
            self.area.focus()

        self.app.push_screen(
            PromptScreen(
                f"Attach a file to the reply on #{number}",
                placeholder="path, e.g. ~/reports/line-test.pdf",
                check=check,
            ),
            attach,
        )

    def show_files(self) -> None:
        """The line under the text: attached files, and quoting when it is not the default.
        Hidden when there is nothing to say, so the text keeps its room."""
        line = self.query_one("#reply-files", Static)
        number = self.number
        files = self.files.get(number, []) if number is not None and self.mode == "reply" else []
        out = Text(end="")
        for path in files:
            out.append("📎 ")
            out.append_text(plain(path.name))
            try:
                out.append(f" {size(path.stat().st_size)}  ", style="dim")
            except OSError:
                out.append(" (missing)  ", style="bold red")
        if number is not None and self.mode == "reply" and number in self.quote:
            out.append(
                "quoting the customer" if self.quoting(number) else "not quoting the customer",
                style="dim italic",
            )
        line.update(out)
        line.display = bool(out.plain)

    def edit_externally(self) -> None:
        """The text in $VISUAL / $EDITOR (vi by default); unchanged if the editor fails."""
        if self.number is None:
            return
        edited = self._external_edit(self.text)
        if edited is not None:
            self.area.load_text(edited)
            self.area.move_cursor(self.area.document.end)
        self.area.focus()

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
