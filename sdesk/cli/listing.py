"""Ticket lists on the command line (``sdesk inbox``, ``sdesk search``, ``sdesk demo --print``):
a table that fits the terminal, one ticket per line when it cannot, or JSON / CSV for scripts.

The table never cuts what a dispatcher acts on: the ticket number, channel, priority, status, age
and SLA keep their full width; the subject, then the customer, then the assignee shrink (with an
ellipsis). When even their smallest widths do not fit, each ticket becomes one line. Customer
text reaches the terminal only through ``safe_text`` (ARCHITECTURE.md, rule 8).
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TextIO

from rich.cells import cell_len
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from sdesk.cli.render import PRIORITY_STYLE, age, channel_label, plain, sla_cell
from sdesk.core.text import safe_text
from sdesk.store.queries import TicketRow


class ListFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


GAP = 1  # spaces between columns (each column's right padding)
# Shrinkable columns: (header, cap, smallest width). The subject gives way first, then the
# customer, then the assignee; below these minimums the list switches to one ticket per line.
SUBJECT = ("Subject", None, 10)
CUSTOMER = ("Customer", 24, 8)
ASSIGNEE = ("Assignee", 12, 8)
# One-ticket-per-line form: the customer and subject share the line's rest while it holds this
# many cells; below that they go to a line of their own.
TAIL_MIN = 12

FIELDS = (
    "number",
    "subject",
    "status",
    "priority",
    "channel",
    "customer",
    "assignee",
    "created_at",
    "last_message_at",
    "sla_due",
)


@dataclass(frozen=True, slots=True)
class _Column:
    header: str
    cells: list[Text]
    justify: JustifyMethod = "left"
    width: int = 0  # content width, chosen by _layout


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def record(row: TicketRow) -> dict[str, Any]:
    """One ticket as plain data for JSON / CSV: exact values, times in ISO 8601 UTC."""
    return {
        "number": row.number,
        "subject": row.subject,
        "status": row.status,
        "priority": row.priority,
        "channel": row.channel,
        "customer": row.customer,
        "assignee": row.assignee,
        "created_at": _iso(row.created_at),
        "last_message_at": _iso(row.last_message_at),
        "sla_due": _iso(row.sla_due),
    }


def _natural(header: str, cells: Sequence[Text]) -> int:
    return max([cell_len(header), *(c.cell_len for c in cells)])


def _layout(rows: Sequence[TicketRow], now: datetime, width: int) -> list[_Column] | None:
    """The table's columns with their widths, or None when it cannot fit ``width``."""
    fixed = [
        _Column("#", [Text(str(r.number)) for r in rows], "right"),
        _Column("Ch", [Text(channel_label(r.channel)) for r in rows]),
        _Column("Pri", [Text(r.priority, style=PRIORITY_STYLE.get(r.priority, "")) for r in rows]),
        _Column("Status", [Text(r.status) for r in rows]),
        _Column("Age", [Text(age(r.created_at, now)) for r in rows], "right"),
        _Column("SLA", [sla_cell(r.sla_due, now) for r in rows], "right"),
    ]
    fixed = [_Column(c.header, c.cells, c.justify, _natural(c.header, c.cells)) for c in fixed]
    flexible = {
        SUBJECT: [plain(r.subject) for r in rows],
        CUSTOMER: [plain(r.customer) for r in rows],
        ASSIGNEE: [plain(r.assignee or "—") for r in rows],
    }
    wanted = {
        spec: min(_natural(spec[0], cells), spec[1] or width) for spec, cells in flexible.items()
    }
    widths = {spec: min(spec[2], wanted[spec]) for spec in flexible}
    room = width - GAP * (len(fixed) + len(flexible) - 1) - sum(c.width for c in fixed)
    room -= sum(widths.values())
    if room < 0:
        return None
    # What is left grows the assignee (it is short), then gives the subject two parts to the
    # customer's one, and what either does not want to the other.
    for spec, share in ((ASSIGNEE, room), (CUSTOMER, room // 3), (SUBJECT, room), (CUSTOMER, room)):
        grow = max(0, min(share, room, wanted[spec] - widths[spec]))
        widths[spec] += grow
        room -= grow
    shrinkable = {
        spec: _Column(spec[0], cells, "left", widths[spec]) for spec, cells in flexible.items()
    }
    number, channel, priority, status, age_, sla = fixed
    return [
        number,
        channel,
        priority,
        status,
        shrinkable[CUSTOMER],
        shrinkable[SUBJECT],
        age_,
        sla,
        shrinkable[ASSIGNEE],
    ]


def ticket_table(columns: Sequence[_Column]) -> Table:
    table = Table(
        box=None,
        padding=(0, GAP, 0, 0),
        pad_edge=False,
        header_style="bold",
        show_edge=False,
        expand=False,
    )
    for c in columns:
        # An exact width and no wrapping: Rich never has to squeeze the table, so it never cuts
        # a ticket number; the shrinkable ones end in an ellipsis instead.
        table.add_column(
            c.header,
            width=c.width,
            min_width=c.width,
            justify=c.justify,
            no_wrap=True,
            overflow="ellipsis",
        )
    for i in range(len(columns[0].cells) if columns else 0):
        table.add_row(*(c.cells[i] for c in columns))
    return table


def ticket_lines(rows: Sequence[TicketRow], now: datetime, width: int) -> list[Text]:
    """One ticket per line for a narrow terminal: number, priority, status, channel, age and
    SLA whole; the customer and subject fill the rest, cut with an ellipsis (on a line of their
    own when the rest is too short)."""
    lines: list[Text] = []
    for r in rows:
        head = Text.assemble(
            (f"#{r.number}", "bold"),
            " ",
            (r.priority, PRIORITY_STYLE.get(r.priority, "")),
            f" {r.status} {channel_label(r.channel)} {age(r.created_at, now)}",
        )
        if r.sla_due is not None:
            head.append(" SLA ")
            head.append_text(sla_cell(r.sla_due, now))
        tail = plain(r.customer) + Text(" · ") + plain(r.subject)
        if r.assignee:
            tail += Text(" → ") + plain(r.assignee)
        room = width - head.cell_len - 1
        if room >= TAIL_MIN:
            tail.truncate(room, overflow="ellipsis")
            lines.append(Text.assemble(head, " ", tail))
        else:
            tail.truncate(max(1, width - 2), overflow="ellipsis")
            lines += [head, Text("  ") + tail]
    return lines


def print_list(
    console: Console,
    rows: Sequence[TicketRow],
    now: datetime,
    *,
    title: str,
) -> None:
    """The rows as a table fitting the console, or one per line when a table cannot fit."""
    console.print(plain(title, style="bold"), soft_wrap=True)
    columns = _layout(rows, now, console.width)
    if columns is not None:
        console.print(ticket_table(columns))
        return
    for line in ticket_lines(rows, now, console.width):
        # A head wider than the terminal is wrapped by the terminal, never cut by us.
        console.print(line, soft_wrap=True)


def _spreadsheet_safe(value: Any) -> Any:
    """The rule of ``sdesk export --format csv``: a customer's "=HYPERLINK(...)" stays text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def as_json(rows: Sequence[TicketRow]) -> str:
    """One JSON array, a ticket per line. Written like ``sdesk export``'s JSON Lines: the
    invisible characters (C1, bidi, zero-width) as ``\\uXXXX``, the same strings read back."""
    from sdesk.channels.files.export import json_line

    if not rows:
        return "[]\n"
    return "[\n" + ",\n".join(json_line(record(r)).rstrip("\n") for r in rows) + "\n]\n"


def as_csv(rows: Sequence[TicketRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    for r in rows:
        data = record(r)
        writer.writerow(_spreadsheet_safe("" if data[f] is None else data[f]) for f in FIELDS)
    return out.getvalue()


def write_data(text: str, out: TextIO | None = None) -> None:
    """Data for scripts, exact in a file or a pipe; on a terminal shown, never obeyed."""
    out = out or sys.stdout
    out.write(safe_text(text) if out.isatty() else text)
    out.flush()
