"""Line-drawn widgets' shared plumbing: a virtual size change without a screen layout.

``Widget.virtual_size`` is a layout reactive: every new page of the inbox and every new thread
in the side pane re-arranged the whole screen (a 30–65 ms frame at 160x48) although only the
scrollbar's proportions changed. The scrollbar is updated in place here; a layout happens only
when the scrollbar appears or disappears (Textual's own reactive asks for it then).
"""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView

from sdesk.tui.compat import update_scrollbars


def set_virtual_size(view: ScrollView, size: Size) -> None:
    if size == view.virtual_size:
        return
    view.set_reactive(ScrollView.virtual_size, size)
    update_scrollbars(view, size)
    view.refresh()
