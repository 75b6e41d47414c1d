"""Turning read-model rows into Rich ``Text``. Customer data only ever enters through
``plain()``, which neutralises escapes and controls and never parses markup (ARCHITECTURE.md
rule 8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Span, Text

from sdesk.core.enums import Channel
from sdesk.core.text import Safe as Safe
from sdesk.core.text import safe as safe  # for widgets that take a plain str
from sdesk.core.text import safe_text
from sdesk.store.queries import TicketRow

PRESENCE_MARK = {"viewing": "◉", "replying": "✎"}


def plain(value: str | None, style: str = "", *, single_line: bool = True) -> Text:
    """Untrusted text as a literal ``Text``: ``[/]`` stays ``[/]``, ESC becomes ␛."""
    return Text(safe_text(value or "", single_line=single_line), style=style, end="")


def short(value: str) -> str:
    """A status or priority in four cells or fewer."""
    return _SHORT.get(value, value[:4])


def channel_label(channel: str) -> str:
    try:
        return Channel(channel).label
    except ValueError:
        return channel[:4].upper()


def span(delta: timedelta) -> str:
    """A compact duration: 45s, 12m, 3h05, 2d04, 5w."""
    seconds = int(abs(delta).total_seconds())
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 60:
        text = f"{seconds}s"
    elif minutes < 60:
        text = f"{minutes}m"
    elif hours < 24:
        text = f"{hours}h{minutes % 60:02d}"
    elif days < 14:
        text = f"{days}d{hours % 24:02d}"
    else:
        text = f"{days // 7}w"
    return f"-{text}" if delta < timedelta(0) else text


def age(created: datetime, now: datetime) -> str:
    """Coarse on purpose (52m, 19h, 3d, 5w): an age needs no minutes once it is hours."""
    seconds = max(0, int((now - created).total_seconds()))
    for unit, size_ in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size_ * (2 if unit == "w" else 1):
            return f"{seconds // size_}{unit}"
    return f"{seconds}s"


def sla_text(row: TicketRow, now: datetime) -> Text:
    """Time left to the next deadline, coloured as it nears breach (red once breached)."""
    return Text(*sla_run(row, now), end="")


SLA_CELLS = 6  # the inbox's SLA column


def sla_run(row: TicketRow, now: datetime) -> tuple[str, str]:
    """``sla_text`` as (text, style). A breached deadline also says so in text (``!-2h05``):
    under NO_COLOR its red is one more grey, and the ``!`` and bold are what is left."""
    if row.sla_due is None:
        return "—", "dim"  # nothing to read: no deadline
    left = row.sla_due - now
    if left < timedelta(0):
        text = "!" + span(left)
        if len(text) > SLA_CELLS:  # "!-13d04", "!-10h05": the days or hours are enough
            text = text[:-2]
        return text, OVERDUE_STYLE
    if left < timedelta(hours=1):
        style = "bold yellow"
    elif left < timedelta(hours=4):
        style = "yellow"
    else:
        style = "green"
    return span(left), style


_SHORT = {
    "urgent": "URG",
    "high": "high",
    "normal": "norm",
    "low": "low",
    "pending": "pend",
    "resolved": "done",
    "closed": "clsd",
}
# Each meaning carried by text and style, colour only on top (issue 14 item 2): under NO_COLOR
# Textual turns colours to greys, and the console drops the colours of these styles
# (``colourless``), so urgent reads as bold reverse, not as dark grey on grey. ``dim`` marks
# only what need not be read (no deadline, nobody assigned).
OVERDUE_STYLE = "bold red"
PRIORITY_STYLE = {"urgent": "bold reverse red", "high": "yellow", "normal": "", "low": ""}
STATUS_STYLE = {
    "new": "bold cyan",
    "open": "cyan",
    "pending": "magenta",
    "resolved": "green",
    "closed": "italic",
}


@lru_cache(maxsize=512)
def colourless_style(style: str | Style) -> Style:
    """``style`` without its colours (bold, reverse, italic … kept)."""
    return (Style.parse(style) if isinstance(style, str) else style).without_color


def colourless(text: Text) -> Text:
    """``text`` with the colours of its own styles taken out, in place (for NO_COLOR: see
    ``PRIORITY_STYLE``). A reversed style then swaps the widget's text and background
    colours, which keep their contrast in grey, instead of a grey of red and the background."""
    if text.style:
        text.style = colourless_style(text.style)
    text.spans = [Span(s.start, s.end, colourless_style(s.style)) for s in text.spans]
    return text


@dataclass(frozen=True, slots=True)
class Columns:
    """Column widths for one terminal width; narrow terminals drop the least needed first."""

    number: int
    channel: int
    priority: int
    status: int
    customer: int
    subject: int
    age: int
    sla: int
    assignee: int
    presence: int = 1

    @classmethod
    def for_width(cls, width: int) -> Columns:
        wide = width >= 120
        fixed = dict(
            number=6,
            channel=4,
            priority=4 if not wide else 6,
            status=4 if not wide else 8,
            age=4,
            sla=6,
            assignee=8 if not wide else 14,
            customer=12 if not wide else 22,
        )
        gaps = 9  # one space between ten columns
        subject = max(8, width - sum(fixed.values()) - gaps - 1)
        return cls(subject=subject, **fixed)


def header_line(cols: Columns) -> Text:
    priority = "PRIO" if cols.priority >= 6 else "PRI"
    status = "STATUS" if cols.status >= 8 else "STAT"
    labels = (
        ("#", cols.number),
        ("CH", cols.channel),
        (priority, cols.priority),
        (status, cols.status),
        ("CUSTOMER", cols.customer),
        ("SUBJECT", cols.subject),
        ("AGE", cols.age),
        ("SLA", cols.sla),
        ("ASSIGNEE", cols.assignee),
        ("", cols.presence),
    )
    return Text(" ".join(set_cell_size(_fit(label, w), w) for label, w in labels), end="")


Run = tuple[str, str]  # a piece of a line and its style ("": the line's own)


def _fit(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, a cut marked with "…" (as Rich's ellipsis)."""
    return set_cell_size(text, width - 1) + "…" if cell_len(text) > width else text


def ticket_runs(
    row: TicketRow,
    now: datetime,
    cols: Columns,
    presence: tuple[tuple[str, str], ...] = (),
    escalation: datetime | None = None,
) -> list[Run]:
    """One inbox row as styled runs, each column fitted to its width.

    Plain strings, not ``Text``: the inbox draws many rows per frame (a search or a new page
    redraws every visible one), and building, copying and joining ten ``Text`` cells a row
    cost more than the rest of the frame. The runs split where Rich's would (a left-aligned
    cell's style covers its padding, a right-aligned one's only its text), so the screen is the
    same to the segment.
    """
    mark = ""
    if presence:
        mark = PRESENCE_MARK["replying" if any(a == "replying" for _, a in presence) else "viewing"]
    priority = row.priority if cols.priority >= 6 else short(row.priority)
    status = row.status if cols.status >= 8 else short(row.status)
    sla, sla_style = sla_run(row, now)
    cells = (
        (f"#{row.number}", "bold", cols.number, False),
        (channel_label(row.channel), "", cols.channel, False),
        (priority, PRIORITY_STYLE.get(row.priority, ""), cols.priority, False),
        (status, STATUS_STYLE.get(row.status, ""), cols.status, False),
        (safe_text(row.customer or "", single_line=True), "", cols.customer, False),
        (safe_text(row.subject or "(no subject)", single_line=True), "", cols.subject, False),
        (age(row.created_at, now), "", cols.age, True),
        (sla, sla_style, cols.sla, True),
        _assignee_cell(row, now, cols, escalation),
        (mark, "bold magenta", cols.presence, False),
    )
    runs: list[Run] = []
    plain = ""  # unstyled text waiting to join the next run
    for i, (text, style, width, right) in enumerate(cells):
        fitted = _fit(text, width)
        gap = " " * (width - cell_len(fitted))
        pieces = ((gap, ""), (fitted, style)) if right else ((fitted + gap, style),)
        if i:
            plain += " "
        for piece, piece_style in pieces:
            if not piece_style:
                plain += piece
            elif piece:
                if plain:
                    runs.append((plain, ""))
                    plain = ""
                runs.append((piece, piece_style))
    if plain:
        runs.append((plain, ""))
    return runs


def _assignee_cell(
    row: TicketRow, now: datetime, cols: Columns, escalation: datetime | None
) -> tuple[str, str, int, bool]:
    """The assignee; while an alert on the ticket escalates, first the time to its next step
    (``⇡4m``: someone else is told then unless it is acknowledged)."""
    who = safe_text(row.assignee or "—", single_line=True)
    if escalation is None:
        return who, "" if row.assignee else "dim", cols.assignee, False
    left = max(timedelta(0), escalation - now)
    return f"⇡{span(left)} {who}", OVERDUE_STYLE, cols.assignee, False


def when(at: datetime, now: datetime) -> str:
    """An absolute time in the operator's local zone, with the date only when not today."""
    local, today = at.astimezone(), now.astimezone().date()
    if local.date() == today:
        return local.strftime("%H:%M")
    if now - at < timedelta(days=300):
        return local.strftime("%d %b %H:%M")
    return local.strftime("%Y-%m-%d")


def size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"
