"""The inbox's rows are drawn in the style of the moment, whenever Textual's stylesheet applies
it: no cached row outlives the style it was drawn in. (The snapshot tests once cleared the list's
row cache to hide a race: the cursor row's colour depended on whether the first page arrived
before or after the list took the focus, since the focus colours are applied on Textual's own
schedule and the list's Focus event may be handled before or after that.)"""

from __future__ import annotations

from rich.style import Style
from textual.pilot import Pilot

from sdesk.core.desk import Desk
from sdesk.tui.widgets.inbox import InboxList
from tests.tui.conftest import AppFactory, running


def cursor_style(inbox: InboxList) -> Style:
    """The style of the cursor row's first cell as the list draws it now."""
    inbox.render_lines(inbox.scrollable_content_region.reset_offset)  # sets the frame's base
    strip = inbox.render_line(inbox.cursor - int(inbox.scroll_y))
    style = next(iter(strip)).style
    assert style is not None
    return style


def fresh_cursor_style(inbox: InboxList) -> Style:
    """The same, drawn without the list's row cache: what the current styles call for."""
    inbox._cache.clear()
    return cursor_style(inbox)


async def settled(pilot: Pilot[None]) -> None:
    for _ in range(3):
        await pilot.pause()


async def test_cursor_row_follows_the_focus(demo_desk: Desk, make_app: AppFactory) -> None:
    app = make_app(demo_desk, live=False)
    async with running(app, size=(160, 48)) as pilot:
        screen = app.screen
        inbox = screen.query_one(InboxList)
        assert app.focused is inbox
        focused = cursor_style(inbox)
        assert focused == fresh_cursor_style(inbox)
        screen.set_focus(None)
        await settled(pilot)
        blurred = cursor_style(inbox)
        assert blurred != focused
        assert blurred == fresh_cursor_style(inbox)
        screen.set_focus(inbox)
        await settled(pilot)
        assert cursor_style(inbox) == focused


async def test_rows_follow_a_style_change_without_a_focus_change(
    demo_desk: Desk, make_app: AppFactory
) -> None:
    """A new theme changes every row's colours with no event to the list: Textual repaints it,
    and the cached rows drawn in the old colours are drawn again."""
    app = make_app(demo_desk, live=False)
    async with running(app, size=(160, 48)) as pilot:
        inbox = app.screen.query_one(InboxList)
        dark = cursor_style(inbox)
        app.theme = "nord"
        await settled(pilot)
        nord = cursor_style(inbox)
        assert nord != dark
        assert nord == fresh_cursor_style(inbox)
