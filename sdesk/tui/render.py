"""Turning read-model rows into Rich ``Text``. Customer data only ever enters through
``plain()``, which neutralises escapes and controls and never parses markup (DESIGN rule 8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.text import Text

from sdesk.core.enums import Channel
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
    if row.sla_due is None:
        return Text("—", style="dim", end="")
    left = row.sla_due - now
    if left < timedelta(0):
        style = "bold red"
    elif left < timedelta(hours=1):
        style = "bold yellow"
    elif left < timedelta(hours=4):
        style = "yellow"
    else:
        style = "green"
    return Text(span(left), style=style, end="")


_SHORT = {
    "urgent": "URG",
    "high": "high",
    "normal": "norm",
    "low": "low",
    "pending": "pend",
    "resolved": "done",
    "closed": "clsd",
}
PRIORITY_STYLE = {"urgent": "bold red", "high": "yellow", "normal": "", "low": "dim"}
STATUS_STYLE = {
    "new": "bold cyan",
    "open": "cyan",
    "pending": "magenta",
    "resolved": "green",
    "closed": "dim",
}


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


def _cell(text: Text | str, width: int, *, right: bool = False) -> Text:
    cell = text if isinstance(text, Text) else Text(text, end="")
    cell = cell.copy()
    cell.truncate(width, overflow="ellipsis")
    gap = Text(" " * (width - cell.cell_len), end="")
    return gap + cell if right else cell + gap


def header_line(cols: Columns) -> Text:
    priority = "PRIO" if cols.priority >= 6 else "PRI"
    status = "STATUS" if cols.status >= 8 else "STAT"
    parts = [
        _cell("#", cols.number),
        _cell("CH", cols.channel),
        _cell(priority, cols.priority),
        _cell(status, cols.status),
        _cell("CUSTOMER", cols.customer),
        _cell("SUBJECT", cols.subject),
        _cell("AGE", cols.age),
        _cell("SLA", cols.sla),
        _cell("ASSIGNEE", cols.assignee),
        _cell("", cols.presence),
    ]
    return Text(" ", end="").join(parts)


def ticket_line(
    row: TicketRow, now: datetime, cols: Columns, presence: tuple[tuple[str, str], ...] = ()
) -> Text:
    mark = ""
    if presence:
        mark = PRESENCE_MARK["replying" if any(a == "replying" for _, a in presence) else "viewing"]
    priority = row.priority if cols.priority >= 6 else short(row.priority)
    status = row.status if cols.status >= 8 else short(row.status)
    parts = [
        _cell(Text(f"#{row.number}", style="bold", end=""), cols.number),
        _cell(channel_label(row.channel), cols.channel),
        _cell(Text(priority, style=PRIORITY_STYLE.get(row.priority, ""), end=""), cols.priority),
        _cell(Text(status, style=STATUS_STYLE.get(row.status, ""), end=""), cols.status),
        _cell(plain(row.customer), cols.customer),
        _cell(plain(row.subject or "(no subject)"), cols.subject),
        _cell(age(row.created_at, now), cols.age, right=True),
        _cell(sla_text(row, now), cols.sla, right=True),
        _cell(plain(row.assignee or "—", "" if row.assignee else "dim"), cols.assignee),
        _cell(Text(mark, style="bold magenta", end=""), cols.presence),
    ]
    return Text(" ", end="").join(parts)


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
