"""The help screen shows each action's binding id (issue 14, item 12): the id is what people
remap in ``[console.keys]``, and the help said to use it without showing it."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

from rich.console import Console
from rich.table import Table
from textual.widgets import Static

from sdesk.config import ConsoleSettings
from sdesk.tui.actions import ALL_ACTIONS
from sdesk.tui.screens.help import HelpScreen
from tests.tui.conftest import AppFactory, make_desk, running, settle
from tests.tui.screen import screen_text


def table_lines(table: Table) -> list[str]:
    console = Console(width=140, file=StringIO(), record=True, color_system=None)
    console.print(table)
    return console.export_text().splitlines()


async def test_help_lists_every_binding_id_beside_its_keys(
    demo_path: Path, make_app: AppFactory
) -> None:
    desk = make_desk(demo_path, console=ConsoleSettings(keys={"reply": "R", "search": "ctrl+g"}))
    try:
        app = make_app(desk, live=False)  # mia.chen, a dispatcher: may do every act shown
        async with running(app, size=(80, 24)) as pilot:
            await pilot.press("f1")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            shown = screen_text(app)
            assert re.search(r"key\s+id\s+what it does", shown), shown
            table = app.screen.query_one("#help-table", Static).content
            assert isinstance(table, Table)
            lines = table_lines(table)
            for spec in ALL_ACTIONS:
                if not spec.allowed(app.me.role):
                    continue
                row = [line for line in lines if spec.help[:24] in line]
                assert row, f"{spec.id}: {spec.help!r} is not in the help"
                assert re.search(rf"(^|\s){re.escape(spec.id)}(\s|$)", row[0]), row[0]
            reply = next(line for line in lines if "Reply to the customer" in line)
            assert reply.split()[:2] == ["R", "reply"]  # the key as remapped, then its id
            search = next(line for line in lines if "Full-text search" in line)
            assert search.split()[:2] == ["ctrl+g", "search"]
    finally:
        desk.close()
