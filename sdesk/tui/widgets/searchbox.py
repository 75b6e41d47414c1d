"""The search box: an ``Input`` whose typing never re-arranges the screen.

Textual's ``Input`` sets its virtual size on every keystroke, and ``virtual_size`` is a layout
reactive: each letter typed into the search re-arranged and redrew the whole desk (30–60 ms at
160x48), and the Enter that followed waited behind those frames. The box's own size is fixed
(one line inside a docked bar), so here the same reactive only repaints the box.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class SearchBox(Input):
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
