"""The selected ticket: header, whole thread, customer card. Everything a customer wrote goes
through ``render.plain`` (no markup, controls neutralised)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Static
from textual.worker import get_current_worker

from sdesk.core.desk import Desk
from sdesk.store.queries import (
    CustomerCard,
    EventRow,
    MessageRow,
    TicketDetail,
    customer_card,
    ticket_detail,
)
from sdesk.tui.actions import by_id, key_label
from sdesk.tui.render import (
    PRIORITY_STYLE,
    STATUS_STYLE,
    age,
    channel_label,
    colourless,
    plain,
    safe,
    short,
    size,
    sla_text,
    when,
)
from sdesk.tui.widgets.callstate import call_status
from sdesk.tui.widgets.textpane import TextPane, wrap

_KIND = {
    "inbound": ("▶", ""),
    "reply": ("◀", "bold green"),
    "note": ("✎", "bold yellow"),
    "call": ("☎", "bold cyan"),
    "system": ("•", "dim"),
}
_DELIVERY = {
    "queued": ("⧗\u00a0queued", "yellow"),
    "waiting": ("⏸\u00a0waiting", "bold yellow"),  # kept: its channel cannot send (why follows)
    "sending": ("⧗\u00a0sending", "yellow"),
    "sent": ("✓\u00a0sent", "green"),
    "delivered": ("✓✓\u00a0delivered", "bold green"),
    "failed": ("✗\u00a0failed", "bold red"),
}
MAX_SHOWN = 300  # thread entries drawn; older ones are summarised in one line


def header_text(
    detail: TicketDetail,
    now: datetime,
    presence: tuple[tuple[str, str], ...],
    hang_key: str = "H",
) -> Text:
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
    if t.status == "pending" and t.pending_until is not None:
        out.append(f" · until {when(t.pending_until, now)}", style="bold")  # the SLA clock waits
    else:
        out.append(" · SLA ")
        out.append_text(sla_text(t, now))
    out.append(f" · opened {age(t.created_at, now)} ago")
    if detail.rating is not None:
        out.append(" · ")
        out.append(f"rated {detail.rating}/5 ", style="bold")
        out.append("★" * detail.rating + "☆" * (5 - detail.rating), style="yellow")
    if detail.arrival_at is not None and detail.arrival_at > now:
        out.append(f" · engineer arrives {when(detail.arrival_at, now)}", style="bold")
    call = detail.active_call
    if call is not None:
        out.append("\n☎ ", style="bold cyan")
        where = "call to" if call.direction == "outbound" else "call from"
        out.append_text(plain(f"{where} {call.number}"))
        out.append(" ")
        out.append_text(call_status(call, now))
        if call.direction == "outbound":  # an inbound call is the customer's to end
            out.append(f"  ({hang_key}: hang up)", style="italic")
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
    if m.call is not None:
        out.append("  ")
        out.append_text(call_status(m.call, now))
    elif m.delivery_state:
        label, dstyle = _DELIVERY.get(m.delivery_state, (m.delivery_state, ""))
        out.append(f"  {label}", style=dstyle)
        if m.delivery_state == "waiting" and m.delivery_error:
            out.append_text(plain(f": {m.delivery_error}", "yellow"))
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
        kind = safe(a.content_type, single_line=True)  # a MIME type is the sender's to write
        out.append(f"  {kind}, {size(a.size).replace(' ', chr(0xA0))}", style="dim")
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
        via = {"reply": " by reply", "telegram": " in Telegram", "cabinet": " in the cabinet"}
        how = via.get(str(d.get("via")), " through the API" if d.get("via") == "api" else "")
        return f"the customer rated it {d.get('score')}/5{how}"
    if e.kind == "ticket.arrival":
        return f"{e.actor} set the engineer's arrival to {str(d.get('arrival'))[:16]} UTC"
    if e.kind == "notify.queued":
        return f"the customer was told: {d.get('notice')} (by {d.get('channel')})"
    if e.kind == "notify.skipped":
        return f"the customer was not told ({d.get('notice')}): {d.get('why')}"
    if e.kind == "autoreply.skipped":
        return f"no acknowledgement sent to {d.get('to') or 'the sender'}: {d.get('reason')}"
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


def strip_text(card: CustomerCard | None, current: int, card_key: str = "C") -> Text:
    """The customer in one line, for terminals too narrow for the card (below 140 columns):
    name, first email, phone and Telegram, how many other tickets they have, and the key
    that shows the whole card."""
    out = Text(end="")
    if card is None:
        return out
    out.append_text(plain(card.name or "(no name)", "bold"))
    for kind in ("email", "phone", "telegram"):
        value = next((c.value for c in card.contacts if c.kind == kind), None)
        if value is not None:
            out.append(" · ")
            out.append_text(plain(value))
    others = sum(1 for t in card.tickets if t.number != current)
    if others or card.more_tickets:
        more = "+" if card.more_tickets else ""
        out.append(f" · {others}{more} other ticket{'' if others == 1 and not more else 's'}")
    out.append(f"  ({card_key}: card)", style="italic")
    return out


class DrawingOptions(TypedDict):
    """How a console draws a ticket (``draw_ticket``'s keywords)."""

    mono: bool
    card_key: str
    hang_key: str


@dataclass(frozen=True, slots=True)
class TicketPicture:
    """What the ticket view draws, built (texts made, thread and card wrapped) in the worker
    that read the ticket, so showing it costs the UI thread a swap, not a wrap."""

    detail: TicketDetail
    header: Text
    thread: Text
    thread_lines: list[Strip] | None
    thread_width: int
    card: Text
    card_lines: list[Strip] | None
    card_width: int
    strip: Text = field(default_factory=Text)  # the customer in one line (``strip_text``)


def draw_ticket(
    detail: TicketDetail,
    card: CustomerCard | None,
    now: datetime,
    presence: tuple[tuple[str, str], ...],
    widths: tuple[int, int],
    *,
    mono: bool = False,
    card_key: str = "C",
    hang_key: str = "H",
) -> TicketPicture:
    """Any thread. ``widths`` of thread and card as last laid out (0: not known yet);
    ``mono``: the app runs under NO_COLOR, colours are dropped (``render.colourless``);
    ``card_key``: the key of the card (as the operator's keymap has it)."""
    number = detail.ticket.number
    header, thread = header_text(detail, now, presence, hang_key), thread_text(detail, now)
    card_t = card_text(card, number, now) if card else Text("")
    strip = strip_text(card, number, card_key)
    if mono:
        for text in (header, thread, card_t, strip):
            colourless(text)
    tw, cw = widths
    return TicketPicture(
        detail,
        header,
        thread,
        wrap(thread, tw) if tw > 0 else None,
        tw,
        card_t,
        wrap(card_t, cw) if cw > 0 else None,
        cw,
        strip,
    )


class TicketView(Vertical):
    """Header, thread and customer card of one ticket; the reply box docks below.

    Thread and card are line-drawn panes, and the header asks for a screen layout only when
    its number of lines changes: showing another ticket repaints this view and nothing else.
    The view reads a ticket itself (``load``, in a thread worker) and says so with
    ``TicketView.Loaded``, posted to its screen; the screen decides whether it is still
    wanted and shows it (``show_picture``): a preview the inbox cursor has left is not.
    """

    @dataclass
    class Loaded(Message):
        """Ticket ``number`` was read and drawn (``picture`` None: there is no such ticket)."""

        number: int
        picture: TicketPicture | None
        card: CustomerCard | None
        scroll_end: bool

    def __init__(self, desk: Desk, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.desk = desk
        self._shown: int | None = None  # the ticket on show
        self._card_for: int | None = None  # the ticket whose card replaces its thread (``C``)

    @work(thread=True, exclusive=True, group="ticket", exit_on_error=False)
    def load(
        self, number: int, presence: dict[int, tuple[tuple[str, str], ...]], scroll_end: bool
    ) -> None:
        """Read the ticket and draw it (texts, wrapped lines) here, off the UI thread.
        ``presence``: who else works on which ticket, for the header."""
        worker, desk = get_current_worker(), self.desk
        with desk.store.read() as session:
            detail = ticket_detail(session, number)
            card = customer_card(session, detail.ticket.number) if detail else None
        if worker.is_cancelled:
            return
        picture = None
        if detail is not None:
            seen = presence.get(detail.ticket.number, ())
            picture = draw_ticket(
                detail, card, desk.clock(), seen, self.widths(), **self._drawing()
            )
        if not worker.is_cancelled:
            # Straight to the screen (post_message is thread-safe): bubbling would pass the
            # message through each container's queue on the way, on the path of opening.
            self.screen.post_message(self.Loaded(number, picture, card, scroll_end))

    def compose(self) -> ComposeResult:
        yield TicketHeader("", id="ticket-header", markup=False)
        yield TicketHeader("", id="customer-strip", markup=False)  # shown when the card is not
        with Horizontal(id="ticket-body"):
            yield TextPane("Select a ticket and press Enter.", id="thread")
            yield TextPane(id="customer-card")

    def on_mount(self) -> None:
        self._thread = self.query_one("#thread", TextPane)
        self._card = self.query_one("#customer-card", TextPane)
        self._strip = self.query_one("#customer-strip", TicketHeader)

    def _drawing(self) -> DrawingOptions:
        """How this console draws (plain reads: a worker thread may ask)."""
        keymap = self.desk.settings.console.keys
        card, hang = by_id("card"), by_id("hang_up")
        return {
            "mono": self.app.no_color,
            "card_key": key_label(keymap.get(card.id, card.key)),
            "hang_key": key_label(keymap.get(hang.id, hang.key)),
        }

    def widths(self) -> tuple[int, int]:
        """Thread and card widths; plain attribute reads, so a worker thread may ask."""
        return self._thread.wrap_width, self._card.wrap_width

    def show(
        self,
        detail: TicketDetail,
        card: CustomerCard | None,
        now: datetime,
        presence: tuple[tuple[str, str], ...],
        *,
        scroll_end: bool,
    ) -> None:
        picture = draw_ticket(detail, card, now, presence, (0, 0), **self._drawing())
        self.show_picture(picture, scroll_end=scroll_end)

    def show_picture(self, picture: TicketPicture, *, scroll_end: bool) -> None:
        self._shown = picture.detail.ticket.number
        self.set_class(self._shown == self._card_for, "-card")
        self._header(picture.header)
        self._strip.show(picture.strip)
        self._thread.set_text(
            picture.thread,
            lines=picture.thread_lines,
            width=picture.thread_width,
            scroll_end=scroll_end,
        )
        self._card.set_text(
            picture.card, lines=picture.card_lines, width=picture.card_width, scroll_home=True
        )

    def show_presence(
        self, detail: TicketDetail, now: datetime, presence: tuple[tuple[str, str], ...]
    ) -> None:
        header = header_text(detail, now, presence, self._drawing()["hang_key"])
        self._header(colourless(header) if self.app.no_color else header)

    def toggle_card(self, number: int) -> None:
        """The whole customer card of ticket ``number`` in place of its thread, or the thread
        back (``C``): below 140 columns the card has no room beside the thread. Shown once that
        ticket is (another ticket shows its thread)."""
        self._card_for = None if self._card_for == number else number
        if self._shown == number:
            card = self._card_for == number
            self.set_class(card, "-card")
            if (self._thread if card else self._card).has_focus:
                (self._card if card else self._thread).focus()

    @property
    def card_shown(self) -> bool:
        return self.has_class("-card")

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The desk focuses the thread when it opens a ticket: the card, if it is in its place."""
        if event.widget is self._thread and self.has_class("-card"):
            self._card.focus()

    def _header(self, text: Text) -> None:
        self.query_one("#ticket-header", TicketHeader).show(text)


class TicketHeader(Static):
    """Lines never wrap (long ones end in …), so only a change in their number needs a layout."""

    _lines = -1

    def show(self, text: Text) -> None:
        text.no_wrap, text.overflow = True, "ellipsis"
        lines = text.plain.count("\n") + 1
        self.update(text, layout=lines != self._lines)
        self._lines = lines
