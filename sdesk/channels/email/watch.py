"""The IMAP poller's long run: hold the lease, sync, wait in IDLE (or poll), reconnect on
failure with capped backoff. Mixed into ``imap.MailboxPoller``, which does the syncing."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from imapclient import IMAPClient

from sdesk.channels.email.login import (
    NETWORK_ERRORS,
    MailboxError,
    close_client,
    connect,
    first_line,
)
from sdesk.config import MailboxSettings
from sdesk.core import leases
from sdesk.core.cursors import get_cursor
from sdesk.core.enums import Channel
from sdesk.core.health import HealthRecorder
from sdesk.store.failures import StoreError

if TYPE_CHECKING:
    from sdesk.channels.email.imap import SyncReport
    from sdesk.core.desk import Desk

log = logging.getLogger("sdesk.channels.email.imap")  # the poller's one logger, as before the split

# Seconds in one IDLE before it is re-issued (after a NOOP-like SELECT that proves the connection
# alive and catches anything IDLE did not announce). Servers allow 29 minutes; a server that went
# away without a word (killed, restarted, a NAT that forgot us) is noticed within this.
IDLE_RENEW = 10.0
BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


def lease_name(mailbox: MailboxSettings) -> str:
    return f"imap:{mailbox.name}"


class MailboxWatch:
    """Mixed into ``MailboxPoller``, which sets these and does the syncing."""

    desk: Desk
    mailbox: MailboxSettings
    account: str
    holder: str
    cafile: str | None
    health: HealthRecorder
    stopping: threading.Event | None

    def sync(self, client: IMAPClient) -> SyncReport:
        raise NotImplementedError

    def pack_unpacked(self, stop: threading.Event | None = None) -> object:
        raise NotImplementedError

    def run(self, stop: threading.Event, *, on_error: Callable[[str], None] | None = None) -> None:
        """Until ``stop``: hold the lease, sync, wait in IDLE (or poll), reconnect on failure."""
        failures = 0
        held = False
        name = lease_name(self.mailbox)
        self.stopping = stop
        while not stop.is_set():
            client: IMAPClient | None = None
            try:
                if not leases.acquire(self.desk, name, self.holder):
                    stop.wait(leases.DEFAULT_TTL.total_seconds() / 4)
                    continue
                held = True
                client = connect(self.mailbox, cafile=self.cafile)
                failures = 0
                self.health.connected()
                if not self._serve(client, stop):
                    # Lost the lease: the new holder writes the health row from now on.
                    held = False
                    self.health = HealthRecorder(self.desk, self.mailbox.name, self.holder)
            except (MailboxError, StoreError, *NETWORK_ERRORS) as exc:
                # A desk that stays busy or full fails this round like a network error: nothing
                # was committed past the cursor, so the next round fetches the same mail again.
                failures += 1
                if isinstance(exc, MailboxError):
                    message = str(exc)  # it names the mailbox already
                    log.warning("%s", message)
                else:
                    message = f"the desk: {exc}" if isinstance(exc, StoreError) else first_line(exc)
                    log.warning("mailbox %s: %s", self.account, message)
                self.health.failed(message)
                if on_error is not None:
                    on_error(message)
                stop.wait(BACKOFF[min(failures, len(BACKOFF)) - 1])
            finally:
                if client is not None:
                    close_client(client)
        if held:  # only the holder speaks for the mailbox; a waiting poller has nothing to say
            self.health.stopped()
        # A desk still busy at stop keeps the lease until it expires, or until the next poller
        # sees this process gone (``leases``): never a traceback on the way out.
        with contextlib.suppress(StoreError):
            leases.release(self.desk, name, self.holder)

    def _serve(self, client: IMAPClient, stop: threading.Event) -> bool:
        """Sync and wait for news until ``stop`` (True) or until the lease is lost (False)."""
        name = lease_name(self.mailbox)
        idle = self.mailbox.idle and client.has_capability("IDLE")
        watched = self.mailbox.folders[0]
        renew_every = leases.DEFAULT_TTL.total_seconds() / 3
        while not stop.is_set():
            self.sync(client)
            if not leases.acquire(self.desk, name, self.holder):
                return False  # lost the lease (a long stall): another poller took over
            self.pack_unpacked(stop)  # what a large sync kept as it came, before waiting
            if not idle:
                stop.wait(self.mailbox.poll_seconds)
                continue
            info = client.select_folder(watched, readonly=self.mailbox.after_intake == "leave")
            if self._behind(watched, info):
                continue  # mail came in between the sync and now: IDLE would not report it
            self._idle(client, stop, min(IDLE_RENEW, renew_every))
        return True

    def _behind(self, folder: str, info: dict[bytes, object]) -> bool:
        """Whether the folder holds UIDs past our cursor (or its UIDVALIDITY moved)."""
        with self.desk.store.read() as session:
            cursor = get_cursor(session, Channel.EMAIL.value, self.account, folder)
        if cursor is not None and cursor.validity != str(info.get(b"UIDVALIDITY")):
            return True
        last = int(cursor.position or 0) if cursor is not None else 0
        uidnext = info.get(b"UIDNEXT", 0)
        return isinstance(uidnext, int) and uidnext - 1 > last

    def _idle(self, client: IMAPClient, stop: threading.Event, seconds: float) -> None:
        """Wait for news on the watched folder, at most ``seconds``; checks ``stop`` each second."""
        client.idle()
        try:
            deadline = time.monotonic() + seconds
            while not stop.is_set() and time.monotonic() < deadline:
                began = time.monotonic()
                responses = client.idle_check(timeout=1)
                if not responses and time.monotonic() - began < 0.5:
                    # imapclient reports a closed socket as "nothing yet": the socket woke the
                    # wait at once but carried no line, which only end-of-file does.
                    raise ConnectionError("the server closed the connection during IDLE")
                if any(isinstance(r, tuple) and r[:1] == (b"BYE",) for r in responses):
                    raise ConnectionError("the server closed the connection (BYE)")
                if any(_is_news(r) for r in responses):
                    return
        finally:
            with contextlib.suppress(*NETWORK_ERRORS):
                client.idle_done()


def _is_news(response: Iterable[object] | object) -> bool:
    """EXISTS (new mail) or EXPUNGE/FETCH changes: anything worth a sync."""
    if isinstance(response, tuple) and len(response) >= 2:
        return response[1] in (b"EXISTS", b"RECENT")
    return False


__all__ = ["BACKOFF", "IDLE_RENEW", "MailboxWatch", "lease_name"]
