"""A call's state as the console shows it: under way with a running timer, or how it ended
and how long it took (the ticket's header and its call-log entries)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from sdesk.store.queries import CallRow
from sdesk.tui.render import plain

_CALL_STATE = {
    "requested": "placing",
    "queued": "queued",
    "ringing": "ringing",
    "in-progress": "in progress",
    "no-answer": "no answer",
}


def clock_text(seconds: float) -> str:
    """A call's length: "0:07", "12:34", "1:02:03"."""
    whole = max(0, int(seconds))
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02}:{s:02}" if h else f"{m}:{s:02}"


def call_status(call: CallRow, now: datetime) -> Text:
    """A call's state: under way with its running time, or how it ended and how long it took."""
    label = _CALL_STATE.get(call.state, call.state)
    if call.active:
        since = call.answered_at or call.created_at
        running = clock_text((now - since).total_seconds())
        style = "bold green" if call.state == "in-progress" else "bold yellow"
        out = Text(f"●\u00a0{label}\u00a0{running}", style=style)
        if call.hangup_requested:
            out.append(" (hanging up)", style="dim")
        return out
    if call.state == "completed":
        return Text(f"✓\u00a0completed\u00a0{clock_text(call.duration or 0)}", style="green")
    out = Text(f"✗\u00a0{label}", style="bold red")
    if call.error:
        out.append_text(plain(f": {call.error}", "red"))
    return out
