"""Files from Telegram: ``getFile`` and the download, into the attachment store.

Downloads are off the poll-and-store path (ARCHITECTURE.md, Telegram): a batch is stored with
its files as pending ``telegram_file`` rows (the message says "file ... arriving…"), and
``FileFetcher``, an asyncio task beside the poller in the same service, downloads them a few at
a time and attaches each in its own small transaction when it arrives
(``core/chats.file_fetched``). A failed download is retried with backoff and never holds the
queue; the rows outlive a restart, so the next run fetches what the last one did not. A file
over ``max_file_mb`` is not fetched: the message says so.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass

from telegram import Bot
from telegram.error import TelegramError

from sdesk.channels.telegram.intake import FileRef
from sdesk.core.chats import PendingFile, file_fetched, pending_files
from sdesk.core.desk import Desk
from sdesk.core.health import one_line
from sdesk.core.inbound import InboundAttachment
from sdesk.store.failures import StoreError

log = logging.getLogger(__name__)
# Downloads at once: each mostly waits on the network; past ~8 httpx's pool bookkeeping costs
# more than it hides (bench/telegram.py --profile).
PARALLEL = 8


@dataclass(frozen=True, slots=True)
class Fetched:
    ref: FileRef
    data: bytes | None  # None: not fetched (see ``note``)
    note: str = ""
    later: bool = False  # a failure worth trying again


async def fetch(bot: Bot, ref: FileRef, max_bytes: int) -> Fetched:
    if ref.size is not None and ref.size > max_bytes:
        mb = ref.size / 1024 / 1024
        return Fetched(ref, None, f"file {ref.filename} not fetched: {mb:.1f} MB is over the limit")
    try:
        file = await bot.get_file(ref.file_id)
        if file.file_size is not None and file.file_size > max_bytes:
            mb = file.file_size / 1024 / 1024
            note = f"file {ref.filename} not fetched: {mb:.1f} MB is over the limit"
            return Fetched(ref, None, note)
        data = bytes(await file.download_as_bytearray())
    except (TelegramError, OSError) as exc:
        return Fetched(ref, None, one_line(str(exc)) or type(exc).__name__, later=True)
    if len(data) > max_bytes:
        return Fetched(ref, None, f"file {ref.filename} not fetched: over the limit")
    return Fetched(ref, data)


def attachment(f: Fetched) -> InboundAttachment:
    assert f.data is not None
    return InboundAttachment(filename=f.ref.filename, content_type=f.ref.content_type, data=f.data)


Row = tuple[int, int, PendingFile]  # (telegram_file id, message id, the file)


class FileFetcher:
    """The pending files of one bot, fetched by ``PARALLEL`` workers.

    ``nudge`` after a batch commits feeds its new rows at once; every ``rescan`` seconds all
    due rows are read again (those a failure put off until later). The rows queued or being
    fetched are remembered, so none is fetched twice at once."""

    def __init__(
        self, desk: Desk, bot: Bot, bot_id: int, max_bytes: int, *, rescan: float = 15.0
    ) -> None:
        self.desk = desk
        self.bot = bot
        self.bot_id = bot_id
        self.max_bytes = max_bytes
        self.rescan = rescan
        self.fetched = 0  # attached since this fetcher started
        self._queue: asyncio.Queue[Row] = asyncio.Queue()
        self._taken: set[int] = set()
        self._after = 0  # rows above this id were never fed
        self._wake = asyncio.Event()
        self._go = asyncio.Event()  # cleared while the poller takes a backlog
        self._go.set()

    def nudge(self) -> None:
        """A batch was stored: its files are waiting."""
        self._wake.set()

    def hold(self, backlog: bool) -> None:
        """While the poller takes a backlog (its last batch was full, more are waiting), no new
        download starts: the queue comes first, as the files share this thread's CPU; the
        files wait as pending rows and go on once the backlog is taken."""
        if backlog:
            self._go.clear()
        else:
            self._go.set()

    def _feed(self, *, everything: bool) -> int:
        try:
            rows = pending_files(self.desk, self.bot_id, after=0 if everything else self._after)
        except StoreError as exc:  # the desk is busy: the next nudge or rescan reads again
            log.warning("telegram files: %s", one_line(str(exc)))
            return 0
        fed = 0
        for row in rows:
            self._after = max(self._after, row[0])
            if row[0] not in self._taken:
                self._taken.add(row[0])
                self._queue.put_nowait(row)
                fed += 1
        return fed

    async def _worker(self) -> None:
        while True:
            row_id, message_id, pending = await self._queue.get()
            try:
                await self._go.wait()
                await self._one(row_id, message_id, pending)
            except Exception as exc:  # the row stays pending: the next rescan tries again
                log.warning("telegram file %s: %s", row_id, one_line(str(exc)))
            finally:
                self._taken.discard(row_id)
                self._queue.task_done()

    async def _one(self, row_id: int, message_id: int, pending: PendingFile) -> None:
        ref = FileRef(pending.file_id, pending.filename, pending.content_type, pending.size)
        result = await fetch(self.bot, ref, self.max_bytes)
        if result.data is not None:
            file_fetched(self.desk, row_id, message_id, attachment(result))
            self.fetched += 1
        else:
            file_fetched(self.desk, row_id, message_id, None, result.note, final=not result.later)

    async def run(self, stop: asyncio.Event, *, then_drain: bool = False) -> int:
        """Until ``stop``; then, with ``then_drain``, every file due (``sdesk fetch``: see
        ``_drain``), else a download under way is cancelled (its row stays pending; an
        attachment being written is not, the write has no await). Returns how many files this
        fetcher attached."""
        workers = [asyncio.create_task(self._worker()) for _ in range(PARALLEL)]
        try:
            scanned = -math.inf
            while not stop.is_set():
                now = time.monotonic()
                everything = now - scanned >= self.rescan
                if everything:
                    scanned = now
                self._feed(everything=everything)
                self._wake.clear()
                waits = [asyncio.ensure_future(e.wait()) for e in (self._wake, stop)]
                _, left = await asyncio.wait(
                    waits, timeout=self.rescan, return_when=asyncio.FIRST_COMPLETED
                )
                for pending in left:
                    pending.cancel()
            self._go.set()
            if then_drain:
                await self._drain()
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return self.fetched

    async def drain(self) -> int:
        """Every file due now, then return; how many were attached."""
        stop = asyncio.Event()
        stop.set()
        return await self.run(stop, then_drain=True)

    async def _drain(self, rounds: int = 20) -> None:
        """Fetch every file due now and those the fetching makes due. A failure puts its row
        off until later, so the rounds end; ``rounds`` bounds them anyway."""
        for _ in range(rounds):
            fed = self._feed(everything=True)
            await self._queue.join()
            if not fed:
                break
