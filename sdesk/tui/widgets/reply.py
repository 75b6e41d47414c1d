"""The reply box: a TextArea for a reply to the customer or an internal note, with the files
attached to the reply and whether it quotes the customer listed under it."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static, TextArea

from sdesk.tui.actions import REPLY_ACTIONS, bindings
from sdesk.tui.render import plain, size

Mode = Literal["reply", "note"]


class ReplyBox(Vertical):
    """Shown under the thread while writing. Its keys (send, canned, editor, close) are handled
    by the desk screen, which owns the ticket and the drafts."""

    BINDINGS: ClassVar[list[Binding]] = bindings(REPLY_ACTIONS)  # type: ignore[assignment]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mode: Mode = "reply"
        self.number: int | None = None
        # Per ticket, kept with its draft until the reply is queued: the files to attach (paths
        # on this machine; the core copies them into the desk when it queues the reply) and
        # the operator's choice to quote or not where it differs from the desk's default.
        self.files: dict[int, list[Path]] = {}
        self.quote: dict[int, bool] = {}
        self.quote_default = True

    def compose(self) -> ComposeResult:
        yield Static("", id="reply-label", markup=False)
        yield TextArea("", id="reply-text", soft_wrap=True, show_line_numbers=False)
        yield Static("", id="reply-files", markup=False)
        yield Static(
            Text("ctrl+s send · ctrl+t canned · ctrl+o editor · ctrl+f files · esc keep draft"),
            id="reply-hint",
            markup=False,
        )

    def quoting(self, number: int) -> bool:
        return self.quote.get(number, self.quote_default)

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

    @property
    def area(self) -> TextArea:
        return self.query_one("#reply-text", TextArea)

    def open(self, number: int, mode: Mode, target: str, draft: str) -> None:
        self.number, self.mode = number, mode
        label = Text(end="")
        if mode == "note":
            label.append(f"Internal note on #{number}", style="bold yellow")
            label.append(" — only agents see it", style="dim")
        else:
            label.append(f"Reply on #{number} ", style="bold green")
            label.append_text(plain(target))
        self.query_one("#reply-label", Static).update(label)
        self.set_class(mode == "note", "-note")
        self.area.load_text(draft)
        self.area.move_cursor(self.area.document.end)
        self.show_files()
        self.display = True
        self.area.focus()

    @property
    def text(self) -> str:
        return self.area.text
