"""The reply box: a TextArea for a reply to the customer or an internal note."""

from __future__ import annotations

from typing import ClassVar, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static, TextArea

from sdesk.tui.actions import REPLY_ACTIONS, bindings
from sdesk.tui.render import plain

Mode = Literal["reply", "note"]


class ReplyBox(Vertical):
    """Shown under the thread while writing. Its keys (send, canned, editor, close) are handled
    by the desk screen, which owns the ticket and the drafts."""

    BINDINGS: ClassVar[list[Binding]] = bindings(REPLY_ACTIONS)  # type: ignore[assignment]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mode: Mode = "reply"
        self.number: int | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="reply-label", markup=False)
        yield TextArea("", id="reply-text", soft_wrap=True, show_line_numbers=False)
        yield Static(
            Text("ctrl+s send · ctrl+t canned · ctrl+o editor · esc close, draft kept"),
            id="reply-hint",
            markup=False,
        )

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
        self.display = True
        self.area.focus()

    @property
    def text(self) -> str:
        return self.area.text
