"""The selected ticket: header, whole thread, customer card. Everything a customer wrote goes
through ``render.plain`` (no markup, controls neutralised)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from sdesk.store.queries import CustomerCard, EventRow, MessageRow, TicketDetail
from sdesk.tui.render import (
    PRIORITY_STYLE,
    STATUS_STYLE,
    age,
    channel_label,
    plain,
    short,
    size,
    sla_text,
    when,
)

_KIND = {
    "inbound": ("▶", ""),
    "reply": ("◀", "bold green"),
    "note": ("✎", "bold yellow"),
    "call": ("☎", "bold cyan"),
    "system": ("•", "dim"),
}
_DELIVERY = {
    "queued": ("⧗\u00a0queued", "yellow"),
    "sending": ("⧗\u00a0sending", "yellow"),
    "sent": ("✓\u00a0sent", "green"),
    "failed": ("✗\u00a0failed", "bold red"),
}
MAX_SHOWN = 300  # thread entries drawn; older ones are summarised in one line


def header_text(detail: TicketDetail, now: datetime, presence: tuple[tuple[str, str], ...]) -> Text:
    t = detail.ticket
    out = Text(end="")
    out.append(f"#{t.number}  ", style="bold")
    out.append_text(plain(t.subject or "(no subject)", "bold"))
    out.append("\n")
    out.append(channel_label(t.channel), style="bold")
    out.append(" · ")
    out.append(t.status, style=STATUS_STYLE.get(t.status, ""))
    out.append(" · ")
    out.append(t.priority, style=PRIORITY_STYLE.get(t.priority, ""))
    out.append(" · ")
    out.append_text(plain(f"assigned to {t.assignee}" if t.assignee else "unassigned"))
    out.append(" · SLA ")
    out.append_text(sla_text(t, now))
    out.append(f" · opened {age(t.created_at, now)} ago")
    for agent, activity in presence:
        out.append("\n")
        out.append_text(plain(f"{agent} is {activity}", "bold magenta"))
    return out


def message_text(m: MessageRow, now: datetime) -> Text:
    mark, style = _KIND.get(m.kind, ("•", ""))
    out = Text(end="")
    out.append(f"{mark} ", style=style)
    label = "NOTE" if m.kind == "note" else channel_label(m.channel)
    out.append(label, style=style or "bold")
    if m.kind in ("reply", "system", "call"):
        out.append(f" {m.kind}", style="dim")
    out.append("  ")
    out.append_text(plain(m.author or "(unknown)", "bold"))
    out.append(f"  {when(m.created_at, now)}", style="dim")
    if m.auto:
        out.append(f"  [{m.auto.replace('_', ' ')}]", style="dim italic")
    if m.delivery_state:
        label, dstyle = _DELIVERY.get(m.delivery_state, (m.delivery_state, ""))
        out.append(f"  {label}", style=dstyle)
        if m.delivery_state == "failed":
            out.append_text(plain(f": {m.delivery_error or 'no reason given'}", "red"))
            out.append(" (y: retry)", style="dim")
    body = plain(m.text.rstrip() or "(no text)", single_line=False)
    if m.kind == "note":
        body.stylize("italic yellow")
    elif m.kind == "system":
        body.stylize("dim")
    out.append("\n")
    out.append_text(body)
    for a in m.attachments:
        out.append("\n  📎 ")
        out.append_text(plain(a.filename))
        out.append(f"  {a.content_type}, {size(a.size).replace(' ', chr(0xA0))}", style="dim")
        if not a.stored:
            out.append(" (not stored)", style="dim")
    if m.notes:
        out.append("\n")
        out.append_text(plain(m.notes, "dim italic", single_line=False))
    return out


def event_line(e: EventRow) -> str:
    """One line of the timeline, e.g. "mia.chen set priority normal → urgent"."""
    d = e.data
    if e.kind == "ticket.assigned":
        if d.get("to") == e.actor:
            return f"{e.actor} took it"
        return f"{e.actor} assigned it to {d['to']}" if d.get("to") else f"{e.actor} unassigned it"
    if e.kind == "ticket.priority":
        return f"{e.actor} set priority {d.get('previous')} → {d.get('priority')}"
    if e.kind in ("ticket.status", "ticket.resolved", "ticket.closed"):
        line = f"{e.actor} set status {d.get('previous')} → {d.get('status')}"
        until = d.get("pending_until") if d.get("status") == "pending" else None
        return f"{line} until {str(until)[:16]}" if until else line
    if e.kind == "ticket.rated":
        return f"the customer rated it {d.get('score')}/5"
    if e.kind == "message.retry":
        return f"{e.actor} queued a failed message again"
    return f"{e.actor}: {e.kind}"


def thread_text(detail: TicketDetail, now: datetime) -> Text:
    """Messages and changes in time order; changes are one dim line each."""
    entries: list[tuple[datetime, int, MessageRow | EventRow]] = [
        (m.created_at, 1, m) for m in detail.messages
    ]
    entries += [(e.created_at, 0, e) for e in detail.events]
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    shown = entries[-MAX_SHOWN:]
    out = Text(end="")
    if len(entries) > len(shown):
        out.append(f"… {len(entries) - len(shown)} earlier entries not shown\n\n", style="dim")
    previous_event = False
    for i, (at, _, entry) in enumerate(shown):
        if isinstance(entry, EventRow):
            out.append("\n\n" if i and not previous_event else ("\n" if i else ""))
            out.append(f"• {when(at, now)} ", style="dim")
            out.append_text(plain(event_line(entry), "dim italic"))
            previous_event = True
            continue
        if i:
            out.append("\n\n")
        out.append_text(message_text(entry, now))
        previous_event = False
    return out


def card_text(card: CustomerCard, current: int, now: datetime) -> Text:
    out = Text(end="")
    out.append_text(plain(card.name or "(no name)", "bold"))
    out.append(f"\ncustomer since {when(card.since, now)}\n", style="dim")
    for c in card.contacts:
        out.append(f"\n{c.kind:<9}", style="dim")
        out.append_text(plain(c.value))
    if card.note:
        out.append("\n\n")
        out.append_text(plain(card.note, "italic", single_line=False))
    out.append("\n\nTickets", style="bold")
    out.append(" (o: open one)\n", style="dim")
    for t in card.tickets:
        marker = "▸" if t.number == current else " "
        out.append(f"{marker}#{t.number} ", style="bold" if t.number == current else "")
        out.append(f"{short(t.status):<5}", style=STATUS_STYLE.get(t.status, ""))
        out.append_text(plain(t.subject or "(no subject)"))
        out.append("\n")
    if card.more_tickets:
        out.append("  … and older ones\n", style="dim")
    return out


class TicketView(Vertical):
    """Header, thread and customer card of one ticket; the reply box docks below."""

    def compose(self) -> ComposeResult:
        yield Static("", id="ticket-header", markup=False)
        with Horizontal(id="ticket-body"):
            with VerticalScroll(id="thread"):
                yield Static("Select a ticket and press Enter.", id="thread-text", markup=False)
            with VerticalScroll(id="customer-card"):
                yield Static("", id="card-text", markup=False)

    def show(
        self,
        detail: TicketDetail,
        card: CustomerCard | None,
        now: datetime,
        presence: tuple[tuple[str, str], ...],
        *,
        scroll_end: bool,
    ) -> None:
        self.query_one("#ticket-header", Static).update(header_text(detail, now, presence))
        self.query_one("#thread-text", Static).update(thread_text(detail, now))
        self.query_one("#card-text", Static).update(
            card_text(card, detail.ticket.number, now) if card else Text("")
        )
        if scroll_end:
            thread = self.query_one("#thread", VerticalScroll)
            thread.scroll_end(animate=False)

    def show_presence(
        self, detail: TicketDetail, now: datetime, presence: tuple[tuple[str, str], ...]
    ) -> None:
        self.query_one("#ticket-header", Static).update(header_text(detail, now, presence))
