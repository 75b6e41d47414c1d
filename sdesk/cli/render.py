"""Rich output for the CLI. Customer text always enters as ``Text`` after ``safe_text``:
never as markup, never with live escape sequences."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sdesk.core.enums import Channel
from sdesk.core.text import safe_text
from sdesk.store.queries import TicketDetail, TicketRow

PRIORITY_STYLE = {"urgent": "bold red", "high": "yellow", "normal": "", "low": "dim"}


def plain(value: str, *, single_line: bool = True, style: str = "") -> Text:
    return Text(safe_text(value, single_line=single_line), style=style)


def age(since: datetime, now: datetime) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def sla_cell(due: datetime | None, now: datetime) -> Text:
    if due is None:
        return Text("—", style="dim")
    left = (due - now).total_seconds()
    if left < 0:
        return Text(f"-{age(due, now)}", style="bold red")
    style = "yellow" if left < 3600 else "green"
    return Text(age(now, due), style=style)


def channel_label(channel: str) -> str:
    try:
        return Channel(channel).label
    except ValueError:
        return channel[:5].upper()


def ticket_table(rows: Sequence[TicketRow], now: datetime, title: str = "Inbox") -> Table:
    # A title string would be read as markup: the search words are typed by the operator.
    table = Table(title=plain(title, style="table.title"), expand=True, header_style="bold")
    for name, kwargs in (
        ("#", {"justify": "right", "no_wrap": True}),
        ("Ch", {"no_wrap": True}),
        ("Pri", {"no_wrap": True}),
        ("Status", {"no_wrap": True}),
        ("Customer", {"max_width": 24, "no_wrap": True, "overflow": "ellipsis"}),
        ("Subject", {"ratio": 1, "no_wrap": True, "overflow": "ellipsis"}),
        ("Age", {"justify": "right", "no_wrap": True}),
        ("SLA", {"justify": "right", "no_wrap": True}),
        ("Assignee", {"no_wrap": True}),
    ):
        table.add_column(name, **kwargs)
    for r in rows:
        table.add_row(
            Text(str(r.number)),
            Text(channel_label(r.channel)),
            Text(r.priority, style=PRIORITY_STYLE.get(r.priority, "")),
            Text(r.status),
            plain(r.customer),
            plain(r.subject),
            Text(age(r.created_at, now)),
            sla_cell(r.sla_due, now),
            plain(r.assignee or "—"),
        )
    return table


def print_ticket(console: Console, detail: TicketDetail, now: datetime) -> None:
    t = detail.ticket
    head = Text.assemble(
        (f"#{t.number} ", "bold"),
        plain(t.subject, style="bold"),
        f"\n{t.status} · {t.priority} · {channel_label(t.channel)} · ",
        plain(t.customer),
        " · assignee ",
        plain(t.assignee or "—"),
    )
    console.print(head)
    contacts = ", ".join(f"{k}: {v}" for k, v in detail.customer_contacts)
    console.print(Text("contacts: ") + plain(contacts or "—"), style="dim")
    for m in detail.messages:
        label = f"{m.kind}" + (f" ({m.auto})" if m.auto else "")
        if m.delivery_state:
            label += f" [{m.delivery_state}]" + (f" {m.delivery_error}" if m.delivery_error else "")
        console.rule(
            Text.assemble(
                (m.created_at.strftime("%Y-%m-%d %H:%M"), "dim"),
                " ",
                (channel_label(m.channel), "cyan"),
                " ",
                plain(m.author),
                " · ",
                plain(label),
            ),
            align="left",
            style="dim",
        )
        console.print(plain(m.text, single_line=False, style="italic" if m.kind == "note" else ""))
        for a in m.attachments:
            console.print(Text("📎 ") + plain(f"{a.filename} ({a.content_type}, {a.size} B)"))
