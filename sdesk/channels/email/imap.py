"""The IMAP poller: mail in, exactly once (ARCHITECTURE.md rules 1–7).

* UID commands only; messages are fetched with ``BODY.PEEK[]`` (never marks them read) from the
  stored cursor on, never selected by UNSEEN, so mail another client already read still comes in.
* Raw bytes, the parsed message (or its quarantine) and the folder's cursor (UIDVALIDITY + last
  UID) are written in ONE transaction; only after it committed is the message flagged \\Seen or
  moved. Nothing is ever expunged here. A crash anywhere means a re-fetch that intake's keys
  absorb.
* A changed UIDVALIDITY resets the cursor and rescans; nothing is deleted; the operator is told.
* One poller per mailbox (a lease); every network call has a timeout; IDLE is re-issued every few
  minutes; failures reconnect with capped backoff (the long run: ``watch``). Oversized messages
  become a stub with their headers, never a retry loop.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from imapclient import IMAPClient

from sdesk.channels.email.fetching import (
    ChildParser,
    Fetched,
    StoreBehind,
    fetch_chunks,
    parser_for,
)
from sdesk.channels.email.login import (
    NETWORK_ERRORS,
    MailboxError,
    close_client,
    connect,
    first_line,
)
from sdesk.channels.email.parse import DEFAULT_LIMITS, EmailLimits
from sdesk.channels.email.watch import MailboxWatch, lease_name
from sdesk.config import MailboxSettings
from sdesk.core import leases
from sdesk.core.batch import CursorMove, Unparsed, intake_many
from sdesk.core.compact import CompactReport
from sdesk.core.cursors import Cursor, acted_through, get_cursor
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel
from sdesk.core.health import HealthRecorder
from sdesk.core.inbound import Inbound
from sdesk.core.intake import Outcome

log = logging.getLogger(__name__)

# UIDs one _fetch_batch takes: fetched, parsed and stored chunk by chunk (``fetching``: one
# transaction a chunk, memory bounded), then flagged or moved in one go. Large, so a first sync
# starts its parser process once per 5,000 messages (~4 s of work), not once per chunk.
BATCH = 5000


@dataclass
class SyncReport:
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    oversized: int = 0
    resets: list[str] = field(default_factory=list)  # folders whose UIDVALIDITY changed

    def add(self, other: SyncReport) -> None:
        self.fetched += other.fetched
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.oversized += other.oversized
        self.resets += other.resets


class MailboxPoller(MailboxWatch):
    """Fetches one mailbox's folders into the desk; ``run`` (``watch``) keeps doing so."""

    def __init__(
        self,
        desk: Desk,
        mailbox: MailboxSettings,
        *,
        holder: str | None = None,
        cafile: str | None = None,
        limits: EmailLimits = DEFAULT_LIMITS,
        on_stored: Callable[[SyncReport], None] | None = None,
    ) -> None:
        self.desk = desk
        self.mailbox = mailbox
        self.account = mailbox.name
        self.holder = holder or leases.holder_id(f"imap:{mailbox.name}")
        self.cafile = cafile
        self.limits = limits
        self.max_bytes = mailbox.max_message_mb * 1024 * 1024
        self.on_stored = on_stored
        self.health = HealthRecorder(desk, mailbox.name, self.holder)
        # The folder being synced and its UIDVALIDITY: where ``_after_intake`` records how far
        # the after-intake action got.
        self._acting: tuple[str, str] | None = None
        # Set by ``run``'s stop: a long sync stores what it fetched and stops fetching more.
        self.stopping: threading.Event | None = None
        # Raw messages a large sync stored as they came (``Inbound.pack_later``) wait to be
        # packed (``pack_unpacked``). True at the start, so rows a crash left unpacked are
        # packed by the next run: one query on a partial index when there are none.
        self.unpacked = True

    def _stopping(self) -> bool:
        return self.stopping is not None and self.stopping.is_set()

    # -- one pass ----------------------------------------------------------------------------

    def fetch_once(self) -> SyncReport:
        """Connect, bring every folder up to date, disconnect (``sdesk fetch``)."""
        if not leases.acquire(self.desk, lease_name(self.mailbox), self.holder):
            raise MailboxError(f"mailbox {self.mailbox.name} is being fetched by another process")
        try:
            try:
                client = connect(self.mailbox, cafile=self.cafile)
            except MailboxError as exc:
                self.health.failed(str(exc))
                raise
            self.health.connected()
            try:
                report = self.sync(client)
            except NETWORK_ERRORS as exc:
                self.health.failed(first_line(exc))
                raise
            finally:
                close_client(client)
            self.health.stopped()
            return report
        finally:
            leases.release(self.desk, lease_name(self.mailbox), self.holder)

    def pack_unpacked(self, stop: threading.Event | None = None) -> CompactReport | None:
        """Pack the raw messages a large sync kept as they came (``core/compact.py``), a few
        hundred a transaction, after the sync: the inbox fills first, the disk shrinks next.
        None when there was nothing to do."""
        if not self.unpacked:
            return None
        report = self.desk.compact_raw(stop=stop.is_set if stop is not None else None)
        if stop is None or not stop.is_set():
            self.unpacked = False
        if report.rows:
            log.info("mailbox %s: packed %d raw messages the sync kept as they came (%d → %d KB)",
                     self.account, report.rows, report.bytes_before // 1024,
                     report.bytes_after // 1024)  # fmt: skip
        return report

    def sync(self, client: IMAPClient) -> SyncReport:
        report = SyncReport()
        for folder in self.mailbox.folders:
            report.add(self.sync_folder(client, folder))
        self.health.polled()
        return report

    def sync_folder(self, client: IMAPClient, folder: str) -> SyncReport:
        report = SyncReport()
        info = client.select_folder(folder, readonly=self.mailbox.after_intake == "leave")
        validity = str(info[b"UIDVALIDITY"])
        with self.desk.store.read() as session:
            cursor = get_cursor(session, Channel.EMAIL.value, self.account, folder)
        last = 0
        if cursor is None and self.mailbox.start_from == "now":
            last = int(info.get(b"UIDNEXT", 1)) - 1
            self._save_cursor(folder, Cursor(validity, str(last)))
            self._save_acted(folder, validity, last)  # what was there before is not ours
        elif cursor is not None and cursor.validity == validity:
            last = int(cursor.position or 0)
        elif cursor is not None:
            report.resets.append(folder)
            self._validity_changed(folder, cursor.validity, validity)
        self._acting = (folder, validity)
        try:
            self._catch_up(client, folder, validity, last)
            uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
            for start in range(0, len(uids), BATCH):
                report.add(self._fetch_batch(client, folder, validity, uids[start : start + BATCH]))
                if self._stopping():
                    return report  # the cursor covers what was stored; the rest comes next time
            if uids and self.mailbox.after_intake == "leave":
                # Nothing to act on; the cursor follows (once a sync, not once a batch) so that
                # switching to seen/move later acts on new mail alone.
                self._save_acted(folder, validity, uids[-1])
        finally:
            self._acting = None
        return report

    def _catch_up(self, client: IMAPClient, folder: str, validity: str, stored: int) -> None:
        """Finish the after-intake action for what was stored but never acted on (a crash
        between the intake commit and the \\Seen/move). Only UIDs still in the folder and not
        yet done are touched, so running it twice changes nothing. Under "leave" the cursor
        only catches up, so a later switch to seen/move acts on new mail alone."""
        with self.desk.store.read() as session:
            acted = acted_through(session, Channel.EMAIL.value, self.account, folder, validity)
        if acted >= stored:
            return
        if self.mailbox.after_intake == "leave":
            self._save_acted(folder, validity, stored)
            return
        # \Seen: only the unseen ones; move without MOVE: not the copies already \Deleted.
        todo = "UNSEEN" if self.mailbox.after_intake == "seen" else "UNDELETED"
        pending = sorted(
            u for u in client.search(["UID", f"{acted + 1}:{stored}", todo]) if acted < u <= stored
        )
        if pending:
            log.info("mailbox %s/%s: after-intake action for %d message(s) left by a crash",
                     self.account, folder, len(pending))  # fmt: skip
            self._apply(client, pending, self.mailbox.after_intake)
        self._save_acted(folder, validity, stored)

    def _fetch_batch(
        self, client: IMAPClient, folder: str, validity: str, uids: list[int]
    ) -> SyncReport:
        """Fetch, parse and store ``uids`` chunk by chunk (``fetching``), each chunk (or the few
        that waited for the store together) committed with the cursor; then the after-intake
        action for all of them (rule 1)."""
        report = SyncReport()
        done: list[int] = []
        chunks = fetch_chunks(
            client,
            uids,
            max_bytes=self.max_bytes,
            cap_mb=self.mailbox.max_message_mb,
            source=f"imap:{self.account}/{folder}/{validity}/",
        )
        held: deque[Fetched] = deque()  # fetched and handed to the parser, not yet stored
        parser = parser_for(len(uids), self.limits)
        large = isinstance(parser, ChildParser)  # a large sync: stored behind, in bulk
        self.unpacked |= large  # and its raw messages packed after it (``pack_unpacked``)

        def store(group: list[tuple[Fetched, list[Inbound | str]]]) -> None:
            self._store_chunks(group, folder, validity, report, bulk=large)
            done.extend(uid for chunk, _ in group for uid, _, _ in chunk.messages)

        behind = StoreBehind(store) if large else None
        try:
            more = True
            while more or held:
                if more and self._stopping():
                    more = False  # stopping: what was fetched is stored, nothing more is fetched
                    continue
                if more and parser.wants_more(len(held), sum(c.size for c in held)):
                    chunk = next(chunks, None)
                    if chunk is None:
                        more = False
                    else:
                        parser.send(chunk)
                        held.append(chunk)
                    continue
                chunk = held.popleft()
                if behind is not None:
                    behind.put(chunk, parser.receive(chunk))
                else:
                    store([(chunk, parser.receive(chunk))])
        finally:
            parser.close()
            if behind is not None:
                behind.finish()
        # Committed: only now tell the server (rule 1). A crash before this re-fetches, no loss.
        self._after_intake(client, done)
        if self.on_stored is not None and (report.stored or report.quarantined):
            self.on_stored(report)
        return report

    def _store_chunks(
        self,
        group: list[tuple[Fetched, list[Inbound | str]]],
        folder: str,
        validity: str,
        report: SyncReport,
        *,
        bulk: bool = False,
    ) -> None:
        """One transaction: the chunks' messages (or their quarantine) and the cursor, moved to
        the last chunk's end. ``bulk``: part of a large sync (checkpointed less often)."""
        items: list[Inbound | Unparsed] = [
            Unparsed(Channel.EMAIL, raw, p, source) if isinstance(p, str) else p
            for chunk, parsed in group
            for (_, raw, source), p in zip(chunk.messages, parsed, strict=True)
        ]
        move = CursorMove(
            Channel.EMAIL, self.account, folder, Cursor(validity, str(group[-1][0].last_uid))
        )
        results = intake_many(self.desk, items, cursor=move, bulk=bulk)
        report.fetched += len(items)
        report.oversized += sum(chunk.oversized for chunk, _ in group)
        for item, result in zip(items, results, strict=True):
            if isinstance(item, Unparsed):
                report.quarantined += 1
            elif result.outcome is Outcome.DUPLICATE:
                report.duplicates += 1
            else:
                report.stored += 1

    def _after_intake(self, client: IMAPClient, uids: list[int]) -> None:
        """Tell the server (\\Seen or a move), then note in the store how far that got."""
        action = self.mailbox.after_intake
        if not uids or action == "leave":
            return
        self._apply(client, uids, action)
        if self._acting is not None:
            folder, validity = self._acting
            self._save_acted(folder, validity, max(uids))

    def _save_acted(self, folder: str, validity: str, uid: int) -> None:
        self.desk.set_acted_through(Channel.EMAIL, self.account, folder, validity, uid)

    def _apply(self, client: IMAPClient, uids: list[int], action: str) -> None:
        if action == "seen":
            client.add_flags(uids, [b"\\Seen"])
        elif action == "move":
            assert self.mailbox.move_to is not None
            if client.has_capability("MOVE"):
                client.move(uids, self.mailbox.move_to)
            else:  # no MOVE: copy and mark deleted, but never expunge in the fetch path
                client.copy(uids, self.mailbox.move_to)
                client.add_flags(uids, [b"\\Deleted"])

    def _save_cursor(self, folder: str, cursor: Cursor) -> None:
        with self.desk.batch() as batch:
            batch.set_cursor(Channel.EMAIL, self.account, folder, cursor)

    def _validity_changed(self, folder: str, old: str | None, new: str) -> None:
        """Rule 4: delete nothing, reset the cursor, rescan, tell the operator."""
        log.warning("mailbox %s/%s: UIDVALIDITY %s → %s; rescan", self.account, folder, old, new)
        self.desk.record_validity_change(self.account, folder, old, new)


__all__ = ["MailboxError", "MailboxPoller", "SyncReport", "connect", "lease_name"]
