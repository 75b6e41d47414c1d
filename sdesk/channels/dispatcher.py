"""Carries out the outbox: claims due rows per channel, hands each to its channel's sender,
records the result (``sdesk.core.outbox``). Runs in ``sdesk serve`` or in the single-operator
console, never inside a UI handler.

Before each pass it queues the automatic acknowledgements of new email tickets
(``sdesk.core.autoreply``): the one dispatcher a desk holds the outbox lease, so they are
decided in one place, and queued acknowledgements leave in the same pass.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any, Protocol, runtime_checkable

from sdesk.core import autoreply, leases, outbox
from sdesk.core.desk import Desk
from sdesk.core.health import HealthRecorder, service_key
from sdesk.store.failures import StoreError

log = logging.getLogger(__name__)
OUTBOX_LEASE = "outbox"

# A sender takes (recipient, payload) and returns (error, permanent); error "" means sent.
Sender = Callable[[str, dict[str, Any]], tuple[str, bool]]


@runtime_checkable
class PartsSender(Protocol):
    """A sender whose one row may go out in several parts (a long Telegram reply): it is handed
    the claimed row, reads how far an earlier try got (``Claimed.parts_sent``) and records each
    part as it goes (``outbox.progress``), so a restart never sends a part twice."""

    def send_claimed(self, item: outbox.Claimed) -> tuple[str, bool]: ...


class RetryLater(Exception):
    """A sender's way to say "not now, try in ``seconds``" (Telegram's 429 ``retry_after``):
    that row waits, the others go on."""

    def __init__(self, error: str, seconds: float) -> None:
        super().__init__(error)
        self.seconds = seconds


class Sent(Exception):
    """A sender's way to name what it sent (the channel's message id) with its success."""

    def __init__(self, ref: str) -> None:
        super().__init__(ref)
        self.ref = ref


class Dispatcher:
    def __init__(self, desk: Desk, senders: dict[str, Sender]) -> None:
        self.desk = desk
        self.senders = senders
        self.holder = leases.holder_id(OUTBOX_LEASE)
        self.health = HealthRecorder(desk, service_key(OUTBOX_LEASE), self.holder)
        self.results: Counter[str] = Counter()  # the last pass: rows by their new state

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Send everything due now; returns how many rows were handled (``results`` counts
        their new states). Once ``stop`` is set, the send under way finishes and is recorded;
        rows claimed but not yet handed to a sender go back to the queue untouched."""
        self.acknowledge()
        self.results = Counter()
        handled = 0
        for channel, send in self.senders.items():
            claimed = outbox.claim(self.desk, channel)
            try:
                while claimed and not (stop is not None and stop.is_set()):
                    item = claimed[0]
                    retry_in: timedelta | None = None
                    ref: str | None = None
                    try:
                        if isinstance(send, PartsSender):
                            error, permanent = send.send_claimed(item)
                        else:
                            error, permanent = send(item.recipient, item.payload)
                    except RetryLater as later:
                        error, permanent = str(later), False
                        retry_in = timedelta(seconds=later.seconds)
                    except Sent as sent:
                        error, permanent, ref = "", False, sent.ref
                    except Exception as exc:
                        log.exception("sender for %s failed", channel)
                        error, permanent = f"internal error: {type(exc).__name__}", False
                    claimed.pop(0)
                    state = outbox.settle(
                        self.desk, item, error=error, permanent=permanent, retry_in=retry_in,
                        ref=ref,
                    )  # fmt: skip
                    self.results[state] += 1
                    handled += 1
            finally:
                with contextlib.suppress(StoreError):  # else they are taken again when stale
                    outbox.unclaim(self.desk, claimed)
            if stop is not None and stop.is_set():
                break
        return handled

    def acknowledge(self) -> None:
        """Queue acknowledgements (when ``[autoreply]`` is on and mail can be sent); a failure
        here is logged and retried next pass, and never holds up the replies."""
        if "email" not in self.senders or not self.desk.settings.autoreply.enabled:
            return
        try:
            autoreply.acknowledge_new_tickets(self.desk, robot_check=email_robot)
        except Exception:
            log.exception("automatic acknowledgements failed")

    def run(self, stop: threading.Event, *, every: float = 1.0) -> None:
        """Until ``stop``; only while holding the desk's outbox lease (one dispatcher a desk).
        The holder records the outbox's health (``service:outbox``) as a poller does its
        mailbox's."""
        held = False
        while not stop.is_set():
            try:
                if not leases.acquire(self.desk, OUTBOX_LEASE, self.holder):
                    if held:  # lost it (a long stall): the new holder speaks for the outbox
                        held = False
                        self.health = HealthRecorder(self.desk, self.health.mailbox, self.holder)
                    stop.wait(leases.DEFAULT_TTL.total_seconds() / 4)
                    continue
                held = True
                self.health.connected()
                busy = self.run_once(stop)
                self.health.polled()
            except Exception as exc:
                log.exception("dispatcher pass failed")
                self.health.failed(f"a pass failed: {str(exc) or type(exc).__name__}")
                busy = 0
            if not busy:
                stop.wait(every)
        if held:
            self.health.stopped()
        with contextlib.suppress(StoreError):  # else it expires, or is seen dead (``leases``)
            leases.release(self.desk, OUTBOX_LEASE, self.holder)


def email_senders(desk: Desk, *, cafile: str | None = None) -> dict[str, Sender]:
    """The email sender: the first mailbox with an SMTP server answers for the desk."""
    from sdesk.channels.email.smtp import SmtpSender

    mailbox = next((m for m in desk.settings.mailboxes if m.smtp is not None), None)
    if mailbox is None:
        return {}
    smtp = SmtpSender(mailbox, cafile=cafile, blobs=desk.store.blobs.get)

    def send(recipient: str, payload: dict[str, Any]) -> tuple[str, bool]:
        result = smtp.send(recipient, payload)
        return result.error, result.permanent

    return {"email": send}


def shown_in_cabinet(recipient: str, payload: dict[str, Any]) -> tuple[str, bool]:
    """A reply on a web ticket is delivered by being stored: the customer's cabinet shows it
    from the desk. Its outbox row is settled as sent, so the console reads it delivered."""
    return "", False


MAX_HEADER_BYTES = 256 * 1024


def email_robot(raw: bytes) -> str | None:
    """Why the stored mail's own headers mark a robot (RFC 3834 and friends), or None: read
    again at answer time, so the decision never rests on intake's flag alone."""
    from sdesk.channels.email.auto import detect_auto

    head = raw[:MAX_HEADER_BYTES].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    kind = detect_auto(BytesHeaderParser(policy=compat32).parsebytes(head))
    return f"automated mail ({kind.value.replace('_', ' ')})" if kind else None
