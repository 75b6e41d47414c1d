"""Urgency and breached deadlines read without colour (issue 14, item 2): under ``NO_COLOR``
Textual turns every colour into a grey, so a red ``URG`` or SLA was grey on grey. They are
shown by text (``!-2h05``) and by bold/reverse, and the console drops the colours of its own
styles there, so reverse swaps the light text and dark background instead of two dark greys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rich.style import Style
from rich.text import Text

from sdesk.core.desk import Desk
from sdesk.store.inbox import InboxFilter, inbox_page
from sdesk.store.queries import TicketRow
from sdesk.tui.render import (
    PRIORITY_STYLE,
    STATUS_STYLE,
    Columns,
    colourless,
    colourless_style,
    sla_run,
    ticket_runs,
)
from sdesk.tui.screens.desk import DeskScreen
from sdesk.tui.widgets.inbox import InboxList
from sdesk.tui.widgets.ticket import TicketHeader
from tests.tui.conftest import NOW, AppFactory, running, settle


def row(**changes: object) -> TicketRow:
    values: dict[str, object] = dict(
        number=1042,
        subject="Router down",
        status="pending",
        priority="urgent",
        channel="email",
        customer="Anna Berg",
        assignee=None,
        created_at=NOW - timedelta(days=1),
        last_message_at=NOW - timedelta(hours=3),
        sla_due=NOW - timedelta(hours=2, minutes=5),
        version=1,
        id=42,
    )
    values.update(changes)
    return TicketRow(**values)  # type: ignore[arg-type]


def run_of(runs: list[tuple[str, str]], text: str) -> tuple[str, str]:
    found = [r for r in runs if text in r[0]]
    assert found, f"{text!r} is not in {runs}"
    return found[0]


@pytest.mark.parametrize("width", [80, 160])
def test_an_overdue_urgent_row_says_so_in_text_and_style(width: int) -> None:
    runs = ticket_runs(row(), NOW, Columns.for_width(width))
    urgent = run_of(runs, "URG" if width < 120 else "urgent")
    style = Style.parse(urgent[1])
    assert style.bold and style.reverse
    sla = run_of(runs, "!-2h05")
    assert Style.parse(sla[1]).bold
    for _text, name in runs:  # what is left once the colours go still says it
        assert colourless_style(name).color is None
    assert colourless_style(urgent[1]) == Style(bold=True, reverse=True)
    assert "".join(t for t, _ in runs).count("!") == 1


def test_overdue_fits_the_sla_column_and_dim_marks_only_nothing() -> None:
    assert sla_run(row(sla_due=NOW - timedelta(days=13, hours=4)), NOW)[0] == "!-13d"
    assert sla_run(row(sla_due=NOW - timedelta(hours=23, minutes=59)), NOW)[0] == "!-23h"
    assert sla_run(row(sla_due=NOW - timedelta(minutes=12)), NOW)[0] == "!-12m"
    assert sla_run(row(sla_due=NOW + timedelta(minutes=12)), NOW)[0] == "12m"  # not yet
    for style in (*PRIORITY_STYLE.values(), *STATUS_STYLE.values()):
        assert "dim" not in style  # a priority or status is there to be read
    cells = Columns.for_width(80).sla
    assert all(len(sla_run(row(sla_due=NOW - d), NOW)[0]) <= cells for d in _OVERDUE)


_OVERDUE = [
    timedelta(seconds=s) for s in (1, 59, 61, 3599, 3661, 36000, 86399, 86401, 10**6, 10**8)
]


def test_colourless_keeps_the_text_and_the_emphasis() -> None:
    text = Text("URG !-2h05", style="on blue")
    text.stylize("bold reverse red", 0, 3)
    text.stylize(Style(bold=True, color="red"), 4, 10)
    colourless(text)
    assert text.plain == "URG !-2h05"
    assert [(s.start, s.end, s.style) for s in text.spans] == [
        (0, 3, Style(bold=True, reverse=True)),
        (4, 10, Style(bold=True)),
    ]
    assert text.style == Style()


def overdue_urgent(desk: Desk) -> TicketRow:
    with desk.store.read() as s:
        rows = inbox_page(s, InboxFilter(), limit=500).rows
    found = [r for r in rows if r.priority == "urgent" and r.sla_due and r.sla_due < NOW]
    assert found, "the demo week has no urgent ticket past its deadline"
    return found[0]


async def test_no_color_console_draws_urgency_in_reverse_and_drops_colours(
    demo_desk: Desk, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    target = overdue_urgent(demo_desk)
    app = make_app(demo_desk, live=False)
    assert app.no_color
    async with running(app, size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, DeskScreen)
        inbox = screen.query_one(InboxList)
        numbers = [r.number for r in inbox.rows]
        index = numbers.index(target.number)
        # Off the cursor row (the cursor's own colours cover a whole row): a row beside it.
        await pilot.press(*["down"] * (index + 1 if index == 0 else index - 1))
        await settle(pilot)
        assert inbox.cursor == (1 if index == 0 else index - 1)
        inbox.scroll_to(y=max(0, index - 2), animate=False)
        await settle(pilot)
        strip = inbox.render_line(index - int(inbox.scroll_y))
        segments = {seg.text.strip(): seg.style for seg in strip if seg.text.strip()}
        urgent = segments["URG"]
        assert urgent is not None and urgent.bold and urgent.reverse
        text_colour = inbox.rich_style.color
        assert urgent.color == text_colour, "the widget's text colour, reversed: not a grey red"
        overdue = next(style for text, style in segments.items() if text.startswith("!-"))
        assert overdue is not None and overdue.bold and overdue.color == text_colour

        await pilot.press("up" if index == 0 else "down", "enter")
        await settle(pilot)
        assert screen.detail is not None and screen.detail.ticket.number == target.number
        header = screen.query_one("#ticket-header", TicketHeader).content
        assert isinstance(header, Text)
        assert "urgent" in header.plain and " · SLA !-" in header.plain
        assert all(isinstance(s.style, Style) and s.style.color is None for s in header.spans)
        assert any(s.style == Style(bold=True, reverse=True) for s in header.spans)
