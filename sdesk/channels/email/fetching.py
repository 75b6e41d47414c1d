"""The poller's fetch → parse → store pipeline for one run of new UIDs (``_fetch_batch``).

Messages are fetched in chunks (one ``RFC822.SIZE`` and one ``BODY.PEEK[]`` FETCH each, bounded
in count and bytes); each chunk is stored in one transaction together with the folder's cursor.
On a large sync the parsing runs in a second process (``ChildProcess``), so while it parses chunk
k the poller fetches chunk k+1 and stores chunk k-1: a first sync then costs about the FETCH plus
the writes, not FETCH + parse + writes. A small run (IDLE news) is parsed here, at once: a second
process would only add its start-up to the latency.

Memory stays bounded whatever the mailbox's size: at most ``AHEAD_CHUNKS`` chunks /
``AHEAD_BYTES`` of raw mail are held between their FETCH and their hand-over to the store, and
``STORE_QUEUE`` chunks / ``STORE_BYTES`` wait for the store (which takes up to
``GROUP_MESSAGES`` of them into one transaction).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from imapclient import IMAPClient

from sdesk.channels.email.parse import (
    EmailLimits,
    UnparseableEmail,
    from_wire,
    parse_email,
    parse_many,
)
from sdesk.core.inbound import Inbound

log = logging.getLogger(__name__)

CHUNK = 100  # UIDs a FETCH pair and a store transaction (with the cursor) cover
CHUNK_BYTES = 8 * 1024 * 1024  # bodies one FETCH asks for at most (a bigger message goes alone)
PARSE_AHEAD_FROM = 1000  # new messages from which parsing runs in a second process
AHEAD_CHUNKS = 8  # chunks fetched but not yet stored, at most (while the parser starts, say)
AHEAD_BYTES = 32 * 1024 * 1024  # raw bytes fetched but not yet stored, at most
FEED = 2  # chunks the parser process should have waiting, so it never idles
START_AHEAD = 2  # chunks fetched ahead while the parser process starts (older ones parsed here)
STORE_QUEUE = 10  # parsed chunks waiting for the store thread, at most
STORE_BYTES = 16 * 1024 * 1024  # raw bytes of those, at most
GROUP_MESSAGES = 500  # messages the store thread takes into one transaction, at most


@dataclass(slots=True)
class Fetched:
    """One chunk: the UIDs it covers (the cursor moves to ``last_uid`` when it is stored) and
    the messages still on the server, in UID order, as (uid, raw, source)."""

    last_uid: int
    messages: list[tuple[int, bytes, str]]
    oversized: int = 0
    size: int = 0


def fetch_chunks(
    client: IMAPClient, uids: list[int], *, max_bytes: int, cap_mb: int, source: str
) -> Iterator[Fetched]:
    """FETCH ``uids`` chunk by chunk. A message over ``max_bytes`` becomes its header plus a
    note (never fetched whole); one that vanished meanwhile (another client expunged it) is
    simply absent. ``source`` is the source prefix; the UID is appended."""
    for start in range(0, len(uids), CHUNK):
        part = uids[start : start + CHUNK]
        sizes = client.fetch(part, ["RFC822.SIZE"])
        group: list[int] = []
        total = 0
        for uid in part:
            size = min(sizes.get(uid, {}).get(b"RFC822.SIZE", 0), max_bytes)
            if group and total + size > CHUNK_BYTES:
                yield _fetch_group(client, group, sizes, max_bytes, cap_mb, source)
                group, total = [], 0
            group.append(uid)
            total += size
        if group:
            yield _fetch_group(client, group, sizes, max_bytes, cap_mb, source)


def _fetch_group(
    client: IMAPClient,
    uids: list[int],
    sizes: dict[int, Any],
    max_bytes: int,
    cap_mb: int,
    source: str,
) -> Fetched:
    small = [u for u in uids if sizes.get(u, {}).get(b"RFC822.SIZE", 0) <= max_bytes]
    kept = set(small)
    big = [u for u in uids if u not in kept]
    raws: dict[int, bytes] = {}
    if small:
        for uid, data in client.fetch(small, ["BODY.PEEK[]"]).items():
            raws[uid] = data.get(b"BODY[]") or b""
    for uid, data in client.fetch(big, ["BODY.PEEK[HEADER]"]).items() if big else []:
        size = sizes[uid][b"RFC822.SIZE"]
        raws[uid] = (data.get(b"BODY[HEADER]") or b"") + (
            f"[This message is {size / 1048576:.0f} MB, over the mailbox's "
            f"{cap_mb} MB cap; only its headers were fetched.]\r\n"
        ).encode()
    messages = [(uid, raws[uid], f"{source}{uid}") for uid in uids if uid in raws]
    oversized = sum(1 for uid in big if uid in raws)
    return Fetched(uids[-1], messages, oversized, sum(len(m[1]) for m in messages))


class Parser:
    """Parses fetched chunks in the order they were handed over; this one, here and now."""

    def __init__(self, limits: EmailLimits) -> None:
        self.limits = limits

    def send(self, chunk: Fetched) -> None:
        """``chunk`` will be received later, in sending order."""

    def wants_more(self, held: int, held_bytes: int) -> bool:
        """Whether to fetch another chunk before storing the oldest one held."""
        return held == 0

    def receive(self, chunk: Fetched) -> list[Inbound | str]:
        """``chunk`` parsed: an ``Inbound`` per message, or its error when it is unparseable."""
        return [self._parse_one(raw, source) for _, raw, source in chunk.messages]

    def _parse_one(self, raw: bytes, source: str) -> Inbound | str:
        try:
            return parse_email(raw, limits=self.limits, source=source)
        except UnparseableEmail as exc:
            return exc.reason

    def close(self) -> None:
        pass


class ChildParser(Parser):
    """Parses in a second process, a few chunks ahead of the store.

    A spawned interpreter takes 0.15-1 s to start (longer on a busy box); meanwhile the poller
    parses the chunks it fetches here, keeping ``START_AHEAD`` fetched ahead for the process,
    so the start-up never stalls the sync. If the process fails, the chunks it held are parsed
    here instead: it is a speed-up, never a way to lose mail.
    """

    def __init__(self, limits: EmailLimits) -> None:
        super().__init__(limits)
        from sdesk.channels.files.pipeline import ChildProcess

        self._child: Any = ChildProcess(
            parse_many, (limits,), name="sdesk-imap-parser", takes_jobs=True
        )
        self._up = False
        self._waiting: deque[Fetched] = deque()  # handed over before the process was up
        self._sent: set[int] = set()  # id() of the chunks in the process, not received yet

    @property
    def pid(self) -> int | None:
        """The parser process (None once it is closed or failed)."""
        return self._child.pid if self._child is not None else None

    def up(self) -> bool:
        """Whether the parser process is running and new chunks go to it."""
        return self._is_up()

    def _is_up(self) -> bool:
        if not self._up and self._child is not None and self._child.ready():
            try:
                self._child.receive()  # the empty chunk parse_many yields once it is running
            except RuntimeError as exc:
                self._fail(exc)
                return False
            self._up = True
            while self._waiting and self._child is not None:
                self._dispatch(self._waiting.popleft())
        return self._up and self._child is not None

    def send(self, chunk: Fetched) -> None:
        if self._is_up():
            self._dispatch(chunk)
        elif self._child is not None:
            self._waiting.append(chunk)

    def _dispatch(self, chunk: Fetched) -> None:
        try:
            self._child.send([(raw, source) for _, raw, source in chunk.messages])
        except RuntimeError as exc:
            self._fail(exc)
            return
        self._sent.add(id(chunk))

    def wants_more(self, held: int, held_bytes: int) -> bool:
        if held >= AHEAD_CHUNKS or held_bytes >= AHEAD_BYTES:
            return False
        if not self._is_up():
            # While it starts, the oldest chunks are parsed here: the store gets to work at once
            # and this core is not left idle waiting for the process's imports.
            return held < START_AHEAD
        # Keep the process fed; beyond that, fetch only while the oldest is not parsed yet.
        return len(self._sent) < FEED or not self._child.ready()

    def receive(self, chunk: Fetched) -> list[Inbound | str]:
        if id(chunk) not in self._sent:  # never sent: parse it here
            if self._waiting and self._waiting[0] is chunk:
                self._waiting.popleft()
            return super().receive(chunk)
        self._sent.discard(id(chunk))
        if self._child is None:  # it failed after this chunk was sent
            return super().receive(chunk)
        try:
            parsed = self._child.receive()
        except RuntimeError as exc:
            self._fail(exc)
            return super().receive(chunk)
        if parsed is None or len(parsed) != len(chunk.messages):
            self._fail(RuntimeError("the parser process returned a short chunk"))
            return super().receive(chunk)
        return [
            p if isinstance(p, str) else from_wire(p, raw)
            for (_, raw, _), p in zip(chunk.messages, parsed, strict=True)
        ]

    def _fail(self, exc: BaseException) -> None:
        log.warning("IMAP parser process failed (%s); parsing in the poller instead", exc)
        self.close()

    def close(self) -> None:
        self._waiting.clear()
        if self._child is not None:
            child, self._child = self._child, None
            child.close()


def packed_later(parsed: list[Inbound | str]) -> list[Inbound | str]:
    """The parsed messages, their raw bytes to be kept as they came and packed after the sync
    (``Inbound.pack_later``, ``core/compact.py``)."""
    return [
        dataclasses.replace(p, pack_later=True) if isinstance(p, Inbound) else p for p in parsed
    ]


class StoreBehind:
    """Stores parsed chunks in order on a thread of its own, so the store's SQLite work (which
    releases the GIL) overlaps the next FETCH and parse hand-over. ``finish`` waits for the last
    one and raises the first failure; after a failure nothing more is stored.

    The raw messages are stored as they came and packed after the sync (``packed_later``):
    packing (~45 µs a message, plus finding the attachment bodies) made the store thread, the
    slowest stage of a large sync, slower still, and a packing thread beside it took the CPU the
    parser process and the store need on a 2-core host.

    Chunks that wait while the store is busy are stored together, in one transaction with the
    cursor of the last of them (up to ``GROUP_MESSAGES``): when the store is what a sync waits
    for, it commits, checkpoints and indexes (full text) once per few hundred messages instead
    of once per chunk. At most ``STORE_QUEUE`` chunks / ``STORE_BYTES`` wait (a bigger chunk
    waits alone), besides the group being stored.
    """

    def __init__(self, store: Callable[[list[tuple[Fetched, list[Inbound | str]]]], None]) -> None:
        self._store = store
        self._cond = threading.Condition()
        self._waiting: deque[tuple[Fetched, list[Inbound | str]]] = deque()
        self._bytes = 0
        self._closed = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sdesk-imap-store", daemon=True)
        self._thread.start()

    def put(self, chunk: Fetched, parsed: list[Inbound | str]) -> None:
        with self._cond:
            while (
                self._error is None
                and self._waiting
                and (len(self._waiting) >= STORE_QUEUE or self._bytes + chunk.size > STORE_BYTES)
            ):
                self._cond.wait(0.5)
            self._raise_failure()
            self._waiting.append((chunk, packed_later(parsed)))
            self._bytes += chunk.size
            self._cond.notify_all()

    def finish(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        self._raise_failure()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def _next_group(self) -> list[tuple[Fetched, list[Inbound | str]]]:
        """The chunks waiting (at least one, at most ``GROUP_MESSAGES`` messages, unless the
        first is bigger), in order; empty once finished and drained."""
        with self._cond:
            while not self._waiting and not self._closed:
                self._cond.wait()
            group: list[tuple[Fetched, list[Inbound | str]]] = []
            count = 0
            while self._waiting and (
                not group or count + len(self._waiting[0][0].messages) <= GROUP_MESSAGES
            ):
                item = self._waiting.popleft()
                group.append(item)
                count += len(item[0].messages)
                self._bytes -= item[0].size
            self._cond.notify_all()
            return group

    def _run(self) -> None:
        while group := self._next_group():
            try:
                self._store(group)
            except BaseException as exc:  # handed to the fetching thread, which re-raises it
                with self._cond:
                    self._error = exc
                    self._waiting.clear()
                    self._cond.notify_all()
                return


def parser_for(count: int, limits: EmailLimits) -> Parser:
    """A second process pays off for a large sync on a machine with a second core."""
    if count >= PARSE_AHEAD_FROM and (os.cpu_count() or 1) > 1:
        try:
            return ChildParser(limits)
        except (OSError, RuntimeError) as exc:  # no process to be had: parse here
            log.warning("cannot start the IMAP parser process (%s); parsing in the poller", exc)
    return Parser(limits)


__all__ = ["CHUNK", "ChildParser", "Fetched", "Parser", "fetch_chunks", "parser_for"]
