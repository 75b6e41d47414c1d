"""Which channels this desk can send on, from its settings (ARCHITECTURE.md, "Replies on a
channel that is not set up").

A reply on a channel without a sender is still stored and queued (nothing is lost, and the
dispatcher sends it once a sender is configured), but its delivery reads "waiting" with the
reason, so the operator is told at once instead of seeing "queued" forever. When a channel
gains a sender in ``channels/`` (Telegram, Twilio), it gains its check here.
"""

from __future__ import annotations

from sdesk.config import Settings
from sdesk.core.enums import Channel


def why_not_sent(settings: Settings, channel: Channel) -> str | None:
    """One line saying why a reply by ``channel`` cannot leave yet; None when it can."""
    if channel is Channel.EMAIL:
        # The dispatcher sends all mail through the first mailbox with SMTP (channels/dispatcher).
        if any(m.smtp is not None for m in settings.mailboxes):
            return None
        names = ", ".join(repr(m.name) for m in settings.mailboxes)
        if names:
            plural = "s" if len(settings.mailboxes) > 1 else ""
            return f"no SMTP configured for mailbox{plural} {names}"
        return "no mailbox with SMTP is configured"
    if channel is Channel.TELEGRAM and settings.telegram is not None:
        return None  # the bot's sender (channels/telegram/sender.py)
    if channel is Channel.WEB and settings.http is not None:
        return None  # the cabinet shows it; the dispatcher marks it delivered
    return f"no sender for {_NAMES.get(channel, channel.value)} is set up on this desk"


_NAMES = {
    Channel.TELEGRAM: "Telegram",
    Channel.SMS: "SMS",
    Channel.PHONE: "SMS",
    Channel.WEB: "the web cabinet",
    Channel.APP: "the mobile app",
    Channel.INTERNAL: "internal messages",
}
