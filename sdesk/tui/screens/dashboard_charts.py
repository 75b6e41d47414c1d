"""The dashboard's drawings: each a pure function of what was counted and the space it gets
(width, height) → ``Text``, so the same screen reads at 80×24 and fills 160×48."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from rich.text import Text

from sdesk.core.enums import Channel
from sdesk.core.health import MailboxStatus
from sdesk.store.dashboard import Dashboard
from sdesk.tui.render import age, channel_label, plain

COLUMN = " ▁▂▃▄▅▆▇█"  # a column's top cell, in eighths
ROW = " ▏▎▍▌▋▊▉█"  # a bar's last cell, in eighths
LABEL_WIDTH = 5  # "MAIL " — the widest channel label and a space
MAX_LINES_PER_CHANNEL = 8  # taller bands add no information, only distance between rows


def duration(delta: timedelta) -> str:
    """A wait as people say it: "40 s", "12 min", "2 h 05 min", "3 d 4 h"."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 60:
        return f"{minutes} min"
    if hours < 24:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{days} d {hours % 24} h"


def period_text(days: tuple[date, ...]) -> str:
    first, last = days[0], days[-1]
    # built by hand: strftime's unpadded day (%-d) is glibc-only
    start = f"{first.day} {first:%b}" + (f" {first.year}" if first.year != last.year else "")
    return f"{start} – {last.day} {last:%b} {last.year}"


def _eighths(value: int, peak: int, cells: int) -> int:
    """``value`` as eighths of ``cells`` cells; anything above zero stays visible."""
    if value <= 0 or peak <= 0 or cells <= 0:
        return 0
    return max(1, round(value / peak * cells * 8))


def hbar(value: int, peak: int, width: int) -> str:
    """A horizontal bar ``width`` cells wide, padded with spaces."""
    eighths = _eighths(value, peak, width)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (ROW[part] if part else "")
    return bar.ljust(width)[:width]


def channel_chart(stats: Dashboard, width: int, height: int) -> Text:
    """One band per channel, one column per day, all on one scale so channels compare; the
    bands grow taller when the screen does, and a day axis runs underneath."""
    if not stats.per_channel:
        return Text(f"No new tickets in the last {len(stats.days)} days.", style="dim")
    rows = sorted(stats.per_channel.items(), key=lambda kv: _channel_order(kv[0]))
    totals = {ch: sum(counts) for ch, counts in rows}
    total_width = len(str(max(totals.values()))) + 1
    room = max(1, width - LABEL_WIDTH - total_width)
    col = max(1, room // len(stats.days))
    shown = min(len(stats.days), room // col)  # a very narrow screen keeps the latest days
    days = stats.days[-shown:]
    gap = 1 if col >= 3 else 0  # gaps only once each day has room for a readable column
    cells = col - gap
    lines = max(1, min(MAX_LINES_PER_CHANNEL, (height - 1) // len(rows)))
    peak = max(max(counts[-shown:]) for _, counts in rows)
    text = Text(no_wrap=True, overflow="crop", end="")
    for ch, counts in rows:
        for line in range(lines):
            bottom = line == lines - 1
            text.append(
                f"{channel_label(ch):<{LABEL_WIDTH}}" if bottom else " " * LABEL_WIDTH, style="bold"
            )
            floor = (lines - 1 - line) * 8  # eighths below this line
            for value in counts[-shown:]:
                fill = min(8, max(0, _eighths(value, peak, lines) - floor))
                text.append(COLUMN[fill] * cells + " " * gap)
            if bottom:  # totals flush right, where the eye looks for a sum
                text.append(f"{totals[ch]:>{total_width + room - shown * col}}", style="bold")
            text.append("\n")
    text.append(" " * LABEL_WIDTH + _axis(days, col), style="dim")
    return text


def _channel_order(channel: str) -> int:
    order = list(Channel)
    try:
        return order.index(Channel(channel))
    except ValueError:
        return len(order)


def _axis(days: tuple[date, ...], col: int) -> str:
    """Day labels under their columns; a label that would touch its right neighbour is left out,
    working from the right so today is always named."""
    cells = [" "] * (len(days) * col)
    taken_from = len(cells) + 1
    for i in range(len(days) - 1, -1, -1):
        d, pos = days[i], i * col
        label = f"{d:%a} {d.day}" if col >= 7 else str(d.day)
        end = pos + len(label)
        if end < taken_from and end <= len(cells):
            cells[pos:end] = label
            taken_from = pos
    return "".join(cells)


def priority_line(label: str, count: int, peak: int, width: int, count_width: int) -> Text:
    bar = max(1, width - 7 - count_width - 1)
    text = Text(no_wrap=True, overflow="crop", end="")
    text.append(f"{label:<7}", style="bold")
    text.append(hbar(count, peak, bar))
    text.append(f" {count:>{count_width}}", style="bold")
    return text


def figure(label: str, value: str, width: int) -> Text:
    """A label on the left and its value flush right, so a column of figures lines up; when
    both do not fit on one line the value goes under its label."""
    text = Text(no_wrap=True, overflow="crop", end="")
    text.append(label)
    room = width - len(label) - len(value)
    text.append("\n" + " " * max(0, width - len(value)) if room < 1 else " " * room)
    text.append(value, style="bold")
    return text


def mean_line(mean: float, rated: int, width: int) -> Text:
    """ "4.3 / 5" and, flush right, how many ratings it rests on."""
    count = f"{rated} rating{'s' if rated != 1 else ''}"
    text = Text(no_wrap=True, overflow="crop", end="")
    text.append(f"{mean:.1f}", style="bold")
    text.append(" / 5")
    text.append(count.rjust(max(len(count) + 1, width - 7)), style="dim")
    return text


def score_lines(stats: Dashboard, width: int) -> Text:
    """One bar per score, 5 on top, on the scale of the most given score."""
    peak = max(stats.ratings.values(), default=0)
    count_width = len(str(peak))
    bar = max(1, width - 4 - count_width - 1)
    text = Text(no_wrap=True, overflow="crop", end="")
    for score in sorted(stats.ratings, reverse=True):
        count = stats.ratings[score]
        text.append(f"{score} ★ ", style="bold")
        text.append(hbar(count, peak, bar))
        text.append(f" {count:>{count_width}}")
        if score != min(stats.ratings):
            text.append("\n")
    return text


def split_lines(stats: Dashboard, width: int) -> Text:
    """The mean by agent (the most rated first) and by week (the latest first), one line each,
    cut to the width: "ann 4.5·2  bob 2.0·1", "w44 3.7·3  w43 3.0·1"."""
    text = Text(no_wrap=True, overflow="crop", end="")
    agents = "  ".join(f"{a} {m:.1f}·{n}" for a, m, n in stats.by_agent)
    weeks = "  ".join(f"w{w.isocalendar().week} {m:.1f}·{n}" for w, m, n in reversed(stats.by_week))
    text.append("agents ", style="dim")
    text.append_text(Text(agents[: max(0, width - 7)]))
    text.append("\nweeks  ", style="dim")
    text.append(weeks[: max(0, width - 7)])
    return text


STATE_STYLE = {
    "connected": "green",
    "disconnected": "yellow",
    "silent": "bold yellow",
    "error": "bold red",
    "unknown": "dim",
}
NAME_WIDTH = 16  # longer mailbox names are cut; the full name is in the config


def mailbox_lines(statuses: Sequence[MailboxStatus], now: datetime, width: int) -> Text:
    """One line per mailbox under a header: name, state and for how long, the last good poll,
    quarantined mail, and the last error (cut to the width; its text is the server's, so it
    only ever enters as plain text)."""
    if not statuses:
        return Text("No mailboxes configured ([[mailboxes]] in the config file).", style="dim")
    name_w = min(NAME_WIDTH, max(7, *(len(s.name) for s in statuses)))

    def ago(at: datetime | None) -> str:
        return age(at, now) if at is not None else "—"

    text = Text(no_wrap=True, overflow="ellipsis", end="")
    header = f"{'Mailbox':<{name_w}} {'State':<12} {'For':>4}  {'Polled':>6}  Quar.  Last error"
    text.append(header[:width], style="dim")
    for s in statuses:
        text.append("\n")
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        name = s.name if len(s.name) <= name_w else s.name[: name_w - 1] + "…"
        line.append_text(plain(name, "bold"))
        line.append(" " * (name_w - len(name)))
        line.append(f" {s.state:<12}", style=STATE_STYLE.get(s.state, ""))
        line.append(f" {ago(s.since):>4}  {ago(s.last_poll_at):>6}  ")
        line.append(f"{s.quarantined:>5}", style="bold yellow" if s.quarantined else "")
        line.append("  ")
        if s.last_error:
            line.append(f"{ago(s.last_error_at)} ago: ", style="dim")
            line.append_text(plain(s.last_error, "red" if s.state == "error" else ""))
        else:
            line.append("—", style="dim")
        line.truncate(width, overflow="ellipsis")
        text.append_text(line)
    return text
