"""Carries out the outbox: claims due rows per channel, hands each to its channel's sender,
records the result (``sdesk.core.outbox``). Runs in ``sdesk serve`` or in the single-operator
console, never inside a UI handler.

Before each pass it queues the automatic acknowledgements of new email tickets
(``sdesk.core.autoreply``): the one dispatcher a desk holds the outbox lease, so they are
decided in one place, and queued acknowledgements leave in the same pass.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from email.parser import BytesHeaderParser
from email.policy import compat32

from sdesk.core import autoreply, leases, outbox
from sdesk.core.desk import Desk

log = logging.getLogger(__name__)
OUTBOX_LEASE = "outbox"

# A sender takes (recipient, payload) and returns (error, permanent); error "" means sent.
Sender = Callable[[str, dict], tuple[str, bool]]  # type: ignore[type-arg]


class Dispatcher:
    def __init__(self, desk: Desk, senders: dict[str, Sender]) -> None:
        self.desk = desk
        self.senders = senders

    def run_once(self) -> int:
        """Send everything due now; returns how many rows were handled."""
        self.acknowledge()
        handled = 0
        for channel, send in self.senders.items():
            for item in outbox.claim(self.desk, channel):
                try:
                    error, permanent = send(item.recipient, item.payload)
                except Exception as exc:  # noqa: BLE001 - a sender bug must not lose the row
                    log.exception("sender for %s failed", channel)
                    error, permanent = f"internal error: {type(exc).__name__}", False
                outbox.settle(self.desk, item, error=error, permanent=permanent)
                handled += 1
        return handled

    def acknowledge(self) -> None:
        """Queue acknowledgements (when ``[autoreply]`` is on and mail can be sent); a failure
        here is logged and retried next pass, and never holds up the replies."""
        if "email" not in self.senders or not self.desk.settings.autoreply.enabled:
            return
        try:
            autoreply.acknowledge_new_tickets(self.desk, robot_check=email_robot)
        except Exception:  # noqa: BLE001 - the cursor did not move; the next pass retries
            log.exception("automatic acknowledgements failed")

    def run(self, stop: threading.Event, *, every: float = 1.0) -> None:
        """Until ``stop``; only while holding the desk's outbox lease (one dispatcher a desk)."""
        holder = leases.holder_id("outbox")
        while not stop.is_set():
            try:
                if not leases.acquire(self.desk, OUTBOX_LEASE, holder):
                    stop.wait(leases.DEFAULT_TTL.total_seconds() / 4)
                    continue
                busy = self.run_once()
            except Exception:  # noqa: BLE001 - keep dispatching; the store may be briefly busy
                log.exception("dispatcher pass failed")
                busy = 0
            if not busy:
                stop.wait(every)
        leases.release(self.desk, OUTBOX_LEASE, holder)


def email_senders(desk: Desk, *, cafile: str | None = None) -> dict[str, Sender]:
    """The email sender: the first mailbox with an SMTP server answers for the desk."""
    from sdesk.channels.email.smtp import SmtpSender

    mailbox = next((m for m in desk.settings.mailboxes if m.smtp is not None), None)
    if mailbox is None:
        return {}
    smtp = SmtpSender(mailbox, cafile=cafile, blobs=desk.store.blobs.get)

    def send(recipient: str, payload: dict) -> tuple[str, bool]:  # type: ignore[type-arg]
        result = smtp.send(recipient, payload)
        return result.error, result.permanent

    return {"email": send}


MAX_HEADER_BYTES = 256 * 1024


def email_robot(raw: bytes) -> str | None:
    """Why the stored mail's own headers mark a robot (RFC 3834 and friends), or None: read
    again at answer time, so the decision never rests on intake's flag alone."""
    from sdesk.channels.email.auto import detect_auto

    head = raw[:MAX_HEADER_BYTES].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    kind = detect_auto(BytesHeaderParser(policy=compat32).parsebytes(head))
    return f"automated mail ({kind.value.replace('_', ' ')})" if kind else None
