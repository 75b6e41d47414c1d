"""A scrolling pane of rich ``Text`` drawn line by line.

A ``Static`` inside a ``VerticalScroll`` re-measures its whole content on every screen layout
(each preview, each inbox load): for a long thread that was most of a 30–70 ms frame. Here the
text is wrapped once per content and width — in the worker that read the ticket when it can
(``wrap``), so the UI thread only swaps lines in — the pane's own size never depends on it, and
a frame draws only the visible lines (the inbox list's way).
"""

from __future__ import annotations

import threading
from io import StringIO

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.events import Resize
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sdesk.core.text import safe
from sdesk.tui.widgets.virtual import set_virtual_size

_consoles = threading.local()


def wrap(text: Text, width: int) -> list[Strip]:
    """``text`` as lines of ``width`` cells; safe in any thread (one measuring console each).

    Wrapping keeps styles as they are; colours are resolved when the app draws, so a console
    that writes nowhere measures exactly as the app's own does.
    """
    console: Console | None = getattr(_consoles, "console", None)
    if console is None:
        console = _consoles.console = Console(
            file=StringIO(),
            markup=False,
            highlight=False,
            emoji=False,
            legacy_windows=False,
            force_terminal=True,
            color_system="truecolor",
        )
    options = console.options.update(width=width, height=None, no_wrap=False)
    return [Strip(line) for line in console.render_lines(text, options, pad=False)]


class TextPane(ScrollView, can_focus=True):
    """Read-only text that scrolls; ``set_text`` replaces it without a screen layout."""

    DEFAULT_CSS = """
    TextPane { overflow-x: hidden; overflow-y: scroll; }
    """

    def __init__(self, text: Text | str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = text if isinstance(text, Text) else Text(safe(text))
        self._lines: list[Strip] = []
        self._lines_width = -1  # the width self._lines were wrapped for
        self._wrapped_for = -1  # the width the scroll state (virtual size) was settled for
        self._end_pending = False  # scroll to the end once the pane has a size
        self._base = Style()
        self._frame_width = 0
        self.wrap_width = 0  # the width to wrap for, readable from a worker thread

    @property
    def text(self) -> Text:
        return self._text

    @property
    def plain(self) -> str:
        return self._text.plain

    def set_text(
        self,
        text: Text,
        *,
        lines: list[Strip] | None = None,
        width: int = -1,
        scroll_end: bool = False,
        scroll_home: bool = False,
    ) -> None:
        """Show ``text``; ``lines`` are its wrapping for ``width`` if a worker made them."""
        self._text = text
        self._wrapped_for = -1
        self._lines, self._lines_width = (lines, width) if lines is not None else ([], -1)
        self._end_pending = scroll_end
        if scroll_home:
            self.scroll_to(y=0, animate=False)
        self._rewrap(self._width())
        self.refresh()

    def _view_height(self) -> int:
        return self.scrollable_content_region.height

    def _width(self) -> int:
        width = self.scrollable_content_region.width
        if width > 0:  # hidden (narrow screens hide the ticket): keep the width it will have
            self.wrap_width = width
        return width

    def _rewrap(self, width: int) -> None:
        """Wrap for ``width`` and tell the scroll machinery; a hidden pane (width 0) waits."""
        if width <= 0 or width == self._wrapped_for:
            return
        if width != self._lines_width:
            self._lines, self._lines_width = wrap(self._text, width), width
        self._wrapped_for = width
        set_virtual_size(self, Size(width, len(self._lines)))
        if self._end_pending:
            self._end_pending = False
            self.scroll_to(
                y=max(0, len(self._lines) - self._view_height()), animate=False, force=True
            )

    def on_resize(self, _event: Resize) -> None:
        if self.scroll_y >= self.max_scroll_y > 0:
            self._end_pending = True  # keep showing the end
        self._rewrap(self._width())

    def render_lines(self, crop: Region) -> list[Strip]:
        # Once a frame, not once a line: both walk the widget's styles.
        self._base, self._frame_width = self.rich_style, self._width()
        if self._frame_width != self._lines_width and self._frame_width > 0:
            # Shown again at a size it was not wrapped for (a hidden pane gets no Resize):
            # wrap now for this frame, settle the scroll state right after it.
            self._lines, self._lines_width = wrap(self._text, self._frame_width), self._frame_width
            self.call_later(self._rewrap, self._frame_width)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width, style = self._frame_width, self._base
        index = int(self.scroll_y) + y
        if index >= len(self._lines):
            return Strip.blank(width, style)
        return self._lines[index].crop_extend(0, width, style).apply_style(style)
