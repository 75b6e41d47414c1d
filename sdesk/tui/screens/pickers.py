"""Small modal screens: choose one of a list, type a value, confirm. Each dismisses with the
result (or None when cancelled with Escape), for ``push_screen(screen, callback)``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from sdesk.tui.render import plain, safe

T = TypeVar("T")


class ChoiceScreen(ModalScreen[T | None], Generic[T]):
    """Pick one option; the labels are Text, so customer data in them stays literal."""

    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("escape", "cancel", "Cancel", id="picker.cancel")
    ]

    def __init__(
        self,
        title: str,
        options: Sequence[tuple[Text | str, T | None]],
        *,
        current: T | None = None,
        preview: Callable[[T], Text | str] | None = None,
    ) -> None:
        """``preview``: what the highlighted option would give, shown under the list (a
        ``str`` is shown as plain text, lines kept)."""
        super().__init__(classes="picker")
        self.title_text = title
        self.values = [value for _, value in options]
        self.labels = [plain(lbl) if isinstance(lbl, str) else lbl for lbl, _ in options]
        self.current = current
        self.preview = preview

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(plain(self.title_text, "bold"), classes="dialog-title", markup=False)
            yield OptionList(*[Option(label) for label in self.labels], id="choices")
            if self.preview is not None:
                yield Static("", id="choice-preview", markup=False)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_preview(event.option_index)

    def _show_preview(self, index: int | None) -> None:
        if self.preview is None:
            return
        value = self.values[index] if index is not None else None
        shown = "" if value is None else self.preview(value)
        text = plain(shown, single_line=False) if isinstance(shown, str) else shown
        self.query_one("#choice-preview", Static).update(text)

    def on_mount(self) -> None:
        choices = self.query_one(OptionList)
        if self.current in self.values:
            choices.highlighted = self.values.index(self.current)
        elif self.values:
            choices.highlighted = 0
        self._show_preview(choices.highlighted)  # not told when 0 was highlighted already
        choices.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.values[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptScreen(ModalScreen[str | None]):
    """Type one value; ``check`` returns an error to show, or None when the value is fine."""

    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("escape", "cancel", "Cancel", id="prompt.cancel")
    ]

    def __init__(
        self,
        title: str,
        *,
        value: str = "",
        placeholder: str = "",
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__(classes="picker")
        self.title_text, self.value, self.placeholder = title, value, placeholder
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(plain(self.title_text, "bold"), classes="dialog-title", markup=False)
            yield Input(
                safe(self.value, single_line=True),
                placeholder=safe(self.placeholder, single_line=True),
                id="prompt-input",
            )
            yield Static("", id="prompt-error", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        problem = self.check(value) if self.check else None
        if problem:
            self.query_one("#prompt-error", Static).update(plain(problem, "bold red"))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: Text | str) -> None:
        super().__init__(classes="picker")
        self.question = question if isinstance(question, Text) else plain(question)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-title", markup=False)
            yield Static(Text("y / Enter: yes    n / Esc: no", style="dim"), markup=False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
