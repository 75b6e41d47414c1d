"""Rich output for the CLI. Customer text always enters as ``Text`` after ``safe_text``:
never as markup, never with live escape sequences."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.text import Text

from sdesk.core.enums import Channel
from sdesk.core.text import safe_text
from sdesk.store.queries import TicketDetail

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
