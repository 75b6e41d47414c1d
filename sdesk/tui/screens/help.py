"""`?` / F1: every key of the console, as the user's keymap has them, grouped by what they do.
Actions the agent's role may not do are left out, as they are from the footer."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from sdesk.tui.actions import ALL_ACTIONS, key_label, keys_for

if TYPE_CHECKING:
    from sdesk.tui.app import SdeskApp


class HelpScreen(ModalScreen[None]):
    """Centred over the desk; any of its keys closes it."""

    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]
        Binding("escape,question_mark,f1,q", "dismiss", "Close", id="help.close")
    ]

    def compose(self) -> ComposeResult:
        app: SdeskApp = self.app  # type: ignore[assignment]
        keymap = dict(app.desk.settings.console.keys)
        table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
        table.add_column("key", style="bold", no_wrap=True, width=12)
        table.add_column("id", style="italic", no_wrap=True, width=12)
        table.add_column("what", ratio=1)
        table.add_row(Text("key"), Text("id"), Text("what it does"), style="underline")
        group = None
        for spec in ALL_ACTIONS:
            if not spec.allowed(app.me.role):
                continue
            if spec.group != group:
                group = spec.group
                table.add_row(Text(""), Text(""), Text(group, style="bold underline"))
            key = Text(key_label(keys_for(spec, keymap)))
            table.add_row(key, Text(spec.id), Text(spec.help))
        table.add_row(Text(""), Text(""), Text("Moving", style="bold underline"))
        table.add_row(Text("↑ ↓ / k j"), Text(""), Text("Previous / next ticket"))
        table.add_row(Text("PgUp PgDn"), Text(""), Text("Page up / down"))
        table.add_row(Text("Home / g"), Text(""), Text("First ticket"))
        with VerticalScroll(classes="dialog help"):
            yield Static(
                Text('Keys  (remap in config by id: [console.keys] reply = "R")', style="bold"),
                markup=False,
            )
            yield Static(table, id="help-table", markup=False)

    def __init__(self) -> None:
        super().__init__(classes="picker")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
