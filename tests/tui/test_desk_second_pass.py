"""The desk screen after a dispatcher's day in it (issue 14): the header over the right columns,
End/Home, take next, bulk acts on marked tickets, drafts kept in the desk, pending "until",
search as you type. Driven by keys on the demo desk; the store says what happened."""

from __future__ import annotations

from pathlib import Path

from rich.cells import cell_len
from sqlalchemy import select
from textual.widgets import Input, Static

from sdesk.core.enums import Status
from sdesk.store.models import Event, Ticket
from sdesk.store.queries import ACTIVE
from sdesk.tui.render import Columns, header_line
from sdesk.tui.screens.pickers import ChoiceScreen, ConfirmScreen
from sdesk.tui.widgets.filterbar import FilterBar
from sdesk.tui.widgets.reply import DRAFT_SAVE_DELAY
from tests.tui.conftest import AppFactory, make_desk, running, settle
from tests.tui.screen import screen_text
from tests.tui.test_desk_actions import (
    active,
    choose,
    desk_screen,
    inbox,
    messages,
    notices,
    open_ticket,
    reply_box,
    ticket,
    until,
)

# -- the inbox header and moving to the ends -----------------------------------------------


def header(app: object) -> str:
    return str(desk_screen(app).query_one("#inbox-header", Static).render())  # type: ignore[arg-type]


def row_text(app: object, index: int) -> str:
    rows = inbox(app)  # type: ignore[arg-type]
    strip = rows.render_line(index - int(rows.scroll_y))
    return "".join(segment.text for segment in strip)


async def test_header_lines_up_with_rows_beside_a_scrollbar(
    demo_desk, make_app: AppFactory
) -> None:
    """The rows leave room for the scrollbar; the header is laid out for the same width, so
    every label stands over its column (it was for the full width: ASSIGNEE two columns off)."""
    for size in ((80, 24), (150, 40)):
        app = make_app(demo_desk, live=False)
        async with running(app, size=size) as pilot:
            rows = inbox(app)
            await until(pilot, lambda r=rows: r.view_width > 0, "the list's size")
            assert rows.view_width < rows.size.width, f"no scrollbar at {size}: test needs one"
            assert header(app) == header_line(Columns.for_width(rows.view_width)).plain
            head = header(app)
            assert cell_len(head) == rows.view_width
            for label in ("CUSTOMER", "SLA", "ASSIGNEE"):
                if label not in head:
                    continue
                at = head.index(label)
                assert head[at - 1] == " ", f"{label} does not start a column at {size}"
            assigned = next(i for i, r in enumerate(rows.rows) if r.assignee and i > 0)
            line, who = row_text(app, assigned), rows.rows[assigned].assignee or ""
            at = head.index("ASSIGNEE")
            assert line[at : at + 3] == who[:3], (size, head, line)


async def test_end_then_home_moves_the_cursor_and_the_view(demo_desk, make_app: AppFactory) -> None:
    app = make_app(demo_desk, live=False)
    async with running(app, size=(80, 24)) as pilot:
        rows = inbox(app)
        last = len(rows.rows) - 1
        assert last > 20, "the demo inbox must be longer than a screen"
        await pilot.press("end")
        await settle(pilot)
        assert rows.cursor == last
        assert rows.scroll_y <= last < rows.scroll_y + rows.scrollable_content_region.height
        for key in ("home", "G", "g"):
            await pilot.press(key)
            await settle(pilot)
            expected = last if key == "G" else 0
            assert rows.cursor == expected, key
            top = rows.scroll_y
            assert top <= expected < top + rows.scrollable_content_region.height, key
        # Enter opens the ticket highlighted on screen, never one scrolled out of sight.
        await pilot.press("end")
        await settle(pilot)
        rows.scroll_to(y=0, animate=False)
        await settle(pilot)
        wanted = rows.rows[last].number
        await pilot.press("enter")
        await settle(pilot)
        screen = desk_screen(app)
        assert screen.ticket_open and screen.detail is not None
        assert screen.detail.ticket.number == wanted


# -- take next, and the triage of one ticket in six keys -----------------------------------


async def test_triage_in_six_keys(demo_desk, make_app: AppFactory) -> None:
    """Most urgent unassigned → mine, priority, canned answer, sent: `t p Enter ctrl+t Enter
    ctrl+s` (it took `U Enter a p Enter r ctrl+t Enter ctrl+s`, nine)."""
    waiting = active(demo_desk, lambda r: r.assignee is None)
    expected = waiting[0].number
    app = make_app(demo_desk)
    async with running(app) as pilot:
        before = {m.id for m in messages(demo_desk, expected)}
        await pilot.press("t")
        await settle(pilot)
        assert desk_screen(app).ticket_open
        await pilot.press("p")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, ChoiceScreen)
        chosen_priority = picker.labels[0].plain
        await pilot.press("enter", "ctrl+t")
        await settle(pilot)
        await pilot.press("enter", "ctrl+s")
        await settle(pilot)
    row = ticket(demo_desk, expected)
    assert row.assignee_id is not None
    assert row.priority == chosen_priority
    new = [m for m in messages(demo_desk, expected) if m.id not in before]
    assert [m.kind for m in new] == ["reply"]
    first_canned = demo_desk.settings.canned[0].text.split("{")[0].strip()
    assert first_canned[:20] in new[0].text


async def test_take_next_with_nothing_waiting_says_so(tmp_path: Path, make_app: AppFactory) -> None:
    desk = make_desk(tmp_path / "desk.db")
    desk.add_agent("mia.chen", name="Mia Chen")
    app = make_app(desk)
    async with running(app) as pilot:
        await pilot.press("t")
        await settle(pilot)
        assert any("no unassigned ticket" in n for n in notices(app))
        assert not desk_screen(app).ticket_open
    desk.close()


# -- bulk acts on marked tickets -------------------------------------------------------------


def status_events(desk, numbers: list[int]) -> dict[int, int]:
    with desk.store.read() as s:
        out = {}
        for n in numbers:
            tid = s.execute(select(Ticket.id).where(Ticket.number == n)).scalar_one()
            kinds = ("ticket.status", "ticket.resolved", "ticket.closed")
            query = select(Event).where(Event.ticket_id == tid, Event.kind.in_(kinds))
            out[n] = len(s.execute(query).scalars().all())
        return out


async def test_marked_tickets_change_in_one_act(demo_desk, make_app: AppFactory) -> None:
    app = make_app(demo_desk, live=False)
    async with running(app, size=(160, 48)) as pilot:
        rows = inbox(app)
        picked = [r.number for r in rows.rows[:3]]
        assert all(r.status in ACTIVE for r in rows.rows[:3])
        before = status_events(demo_desk, picked)
        await pilot.press("space", "space", "space")
        await settle(pilot)
        assert rows.marked == set(picked)
        assert "3 marked" in str(desk_screen(app).query_one(FilterBar).render())
        assert "●" in row_text(app, 0)
        await pilot.press("s")
        await settle(pilot)
        await choose(pilot, Status.RESOLVED.value)
        await settle(pilot)
        assert rows.marked == set()
    for n in picked:
        assert ticket(demo_desk, n).status == Status.RESOLVED.value
    after = status_events(demo_desk, picked)
    assert all(after[n] == before[n] + 1 for n in picked), (before, after)


async def test_escape_unmarks(demo_desk, make_app: AppFactory) -> None:
    app = make_app(demo_desk, live=False)
    async with running(app) as pilot:
        await pilot.press("space", "space")
        await settle(pilot)
        assert len(inbox(app).marked) == 2
        await pilot.press("escape")
        await settle(pilot)
        assert inbox(app).marked == set()


# -- drafts kept in the desk ---------------------------------------------------------------


async def test_draft_survives_quitting(demo_path: Path, make_app: AppFactory) -> None:
    desk = make_desk(demo_path)
    app = make_app(desk)
    async with running(app) as pilot:
        number = inbox(app).rows[0].number
        await open_ticket(pilot, number)
        await pilot.press("r", *"Half a thought")
        await pilot.pause(DRAFT_SAVE_DELAY + 0.3)
        await settle(pilot)
        assert desk.draft("mia.chen", number) == "Half a thought"
        await pilot.press("ctrl+q")
    desk.close()

    desk = make_desk(demo_path)  # as after a restart (or a crash: the text was kept while typed)
    app = make_app(desk)
    async with running(app) as pilot:
        await open_ticket(pilot, number)
        await pilot.press("r")
        await settle(pilot)
        assert reply_box(app).text == "Half a thought"
        await pilot.press(*" and the rest", "ctrl+s")
        await settle(pilot)
        assert messages(desk, number)[-1].text == "Half a thought and the rest"
        assert desk.draft("mia.chen", number) is None
    desk.close()


async def test_q_asks_before_leaving_unsent_drafts(demo_desk, make_app: AppFactory) -> None:
    app = make_app(demo_desk)
    async with running(app) as pilot:
        number = inbox(app).rows[0].number
        await open_ticket(pilot, number)
        await pilot.press("r", *"not yet", "escape")
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"#{number}" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running and not isinstance(app.screen, ConfirmScreen)
        await pilot.press("q")
        await settle(pilot)
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running, "the console to quit", 5)
    assert demo_desk.draft("mia.chen", number) == "not yet"


async def test_q_quits_at_once_without_drafts(demo_desk, make_app: AppFactory) -> None:
    app = make_app(demo_desk)
    async with running(app) as pilot:
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, "the console to quit", 5)


# -- pending until, search as you type -------------------------------------------------------


async def test_pending_shows_until_not_the_sla(demo_desk, make_app: AppFactory) -> None:
    number = active(demo_desk, lambda r: r.status != "pending")[0].number
    app = make_app(demo_desk)
    async with running(app, size=(160, 48)) as pilot:
        await open_ticket(pilot, number)
        await pilot.press("z")
        await settle(pilot)
        await choose(pilot, "Tomorrow 09:00")
        await settle(pilot)
        text = screen_text(app)
        head = next(line for line in text.splitlines() if "pending" in line and "assigned" in line)
        assert "until" in head and "SLA" not in head, head


async def test_search_as_you_type(demo_desk, make_app: AppFactory) -> None:
    app = make_app(demo_desk, live=False)
    async with running(app, size=(160, 48)) as pilot:
        wanted = inbox(app).rows[5]
        word = max(wanted.subject.split(), key=len)
        await pilot.press("slash", *word)
        screen = desk_screen(app)
        await until(pilot, lambda: screen.words == word, "the search to start while typing")
        await settle(pilot)
        box = screen.query_one("#search", Input)
        assert box.has_focus, "typing goes on in the box"
        assert wanted.number in [r.number for r in inbox(app).rows]
        bar = str(screen.query_one(FilterBar).render())
        assert "Search" in bar and word in bar
        assert word.lower() in bar.split("·", 1)[-1].lower(), f"no snippet of the match: {bar}"


async def test_marked_tickets_assigned_and_merged(demo_desk, make_app: AppFactory) -> None:
    """`a` takes every marked ticket; `m` merges the marked ones into the one chosen."""
    app = make_app(demo_desk, live=False)
    async with running(app, size=(160, 48)) as pilot:
        rows = inbox(app)
        picked = [r.number for r in rows.rows[3:6]]
        await go_to_row(pilot, 3)
        await pilot.press("space", "space", "space", "a")
        await settle(pilot)
        assert rows.marked == set()
        for n in picked:
            assert ticket(demo_desk, n).assignee_id == mia_id(demo_desk)
        await go_to_row(pilot, 0)
        await pilot.press("space", "space")
        await settle(pilot)
        pair = sorted(rows.marked)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await choose(pilot, f"#{pair[0]}")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
    assert ticket(demo_desk, pair[1]).merged_into_id == ticket(demo_desk, pair[0]).id


async def go_to_row(pilot, index: int) -> None:
    rows = inbox(pilot.app)
    for _ in range(abs(index - rows.cursor)):
        await pilot.press("down" if index > rows.cursor else "up")
    await settle(pilot)
    assert rows.cursor == index


def mia_id(desk) -> int:
    from sdesk.store.models import Agent

    with desk.store.read() as s:
        return s.execute(select(Agent.id).where(Agent.login == "mia.chen")).scalar_one()
