"""Reading what the console shows: the text of a screenshot, line by line."""

from __future__ import annotations

import html
import re

from textual.app import App

_SPAN = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>')
_CELL = 12.2  # the export's width of one terminal cell


def screen_text(app: App[object]) -> str:
    """The screen as plain text (one line per terminal row), from Textual's own SVG export."""
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in _SPAN.finditer(app.export_screenshot()):
        x, y, chunk = float(m.group(1)), float(m.group(2)), html.unescape(m.group(3))
        rows.setdefault(y, []).append((x, chunk.replace("\xa0", " ")))
    lines = []
    for _, parts in sorted(rows.items()):
        line = ""
        for x, chunk in sorted(parts):  # blank cells are not exported: pad to each chunk's column
            line = line.ljust(round(x / _CELL)) + chunk
        lines.append(line)
    return "\n".join(lines)
