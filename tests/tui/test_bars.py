"""The desk's top bar and filter bar on their own, in a bare app: each owns its state and says
what changed by a message (``TopBar.HealthChanged``, ``FilterBar.Changed``)."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from sdesk.core.health import HealthRecorder
from sdesk.store.inbox import InboxCounts, InboxFilter
from sdesk.store.queries import agent_row
from sdesk.tui.screens.pickers import ChoiceScreen
from sdesk.tui.widgets.filterbar import FilterBar, Found
from sdesk.tui.widgets.topbar import TopBar
from tests.conftest import FakeClock
from tests.tui.conftest import NOW, make_desk, settle
from tests.tui.test_mailbox_panel import box

COUNTS = InboxCounts(
    active=41,
    mine=7,
    unassigned=12,
    channel={"email": 30, "telegram": 11},
    priority={"urgent": 3, "high": 5},
    status={"new": 9, "open": 20, "pending": 12},
)


class Host(App[None]):
    """One widget and the messages it posts."""

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget
        self.heard: list[Message] = []

    def compose(self) -> ComposeResult:
        yield self.widget

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        self.heard.append(event)

    def on_top_bar_health_changed(self, event: TopBar.HealthChanged) -> None:
        self.heard.append(event)


def text_of(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


async def test_filter_bar_owns_the_filter_and_says_when_it_changes() -> None:
    bar = FilterBar("mia.chen")
    app = Host(bar)
    async with app.run_test(size=(120, 3)) as pilot:
        bar.show_counts(COUNTS)
        assert text_of(bar).startswith("Active 41  Mine 7  Unassigned 12  urgent 3  high 5")
        bar.toggle("assignee", "mia.chen")
        await pilot.pause()
        assert bar.flt == InboxFilter(assignee="mia.chen")
        assert app.heard == [FilterBar.Changed(InboxFilter(assignee="mia.chen"))]
        bar.draw()
        assert "│ " in text_of(bar)
        bar.show_search(Found("refund", 12, more=True))
        assert text_of(bar).startswith("Search “refund”: 12+ tickets")
        bar.clear()
        await pilot.pause()
        assert bar.flt == InboxFilter()
        assert app.heard[-1] == FilterBar.Changed(InboxFilter(), clear_search=True)


async def test_filter_bar_menu_marks_the_filters_in_force() -> None:
    bar = FilterBar("mia.chen")
    app = Host(bar)
    async with app.run_test(size=(120, 40)) as pilot:
        bar.show_counts(COUNTS)
        bar.toggle("unassigned")
        bar.choose()
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert bar.flt == InboxFilter(unassigned=True)


async def test_top_bar_reads_mailbox_health_itself(demo_path: Path) -> None:
    clock = FakeClock(NOW)
    desk = make_desk(demo_path, clock, mailboxes=[box("support")])
    support = HealthRecorder(desk, "support")
    support.failed("cannot connect")
    with desk.store.read() as session:
        me = agent_row(session, "mia.chen")
    assert me is not None
    bar = TopBar(desk, me, live=False)
    app = Host(bar)
    try:
        async with app.run_test(size=(120, 3)) as pilot:
            await settle(pilot)
            assert "⚠ support: error" in text_of(bar)
            assert [type(m) for m in app.heard] == [TopBar.HealthChanged]
            support.connected()
            support.polled()
            bar.load_health()
            await settle(pilot)
            assert "⚠" not in text_of(bar) and "Mia Chen (mia.chen, " in text_of(bar)
            assert isinstance(app.heard[-1], TopBar.HealthChanged)
            assert app.heard[-1].mark is None
    finally:
        desk.close()
