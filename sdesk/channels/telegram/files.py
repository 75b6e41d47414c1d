"""Files from Telegram: ``getFile`` and the download, into the attachment store.

Downloads happen before a batch's transaction (the store never waits on the network), a few at
a time. A file over ``max_file_mb`` is not fetched: the message says so. A download that fails
never holds the queue: the message is stored with a note and the file waits in
``telegram_file`` for a later pass (``fetch_pending``), retried with backoff
(``core/chats.file_fetched``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from telegram import Bot
from telegram.error import TelegramError

from sdesk.channels.telegram.intake import FileRef
from sdesk.core.chats import file_fetched, pending_files
from sdesk.core.desk import Desk
from sdesk.core.health import one_line
from sdesk.core.inbound import InboundAttachment

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
        return Fetched(
            ref, None, f"file {ref.filename} is being fetched ({one_line(str(exc))})", later=True
        )
    if len(data) > max_bytes:
        return Fetched(ref, None, f"file {ref.filename} not fetched: over the limit")
    return Fetched(ref, data)


async def fetch_all(bot: Bot, refs: list[FileRef], max_bytes: int) -> dict[str, Fetched]:
    """By file id; at most ``PARALLEL`` downloads at once."""
    gate = asyncio.Semaphore(PARALLEL)

    async def one(ref: FileRef) -> Fetched:
        async with gate:
            return await fetch(bot, ref, max_bytes)

    done = await asyncio.gather(*(one(r) for r in dict.fromkeys(refs)))
    return {f.ref.file_id: f for f in done}


def attachment(f: Fetched) -> InboundAttachment:
    assert f.data is not None
    return InboundAttachment(filename=f.ref.filename, content_type=f.ref.content_type, data=f.data)


async def fetch_pending(desk: Desk, bot: Bot, bot_id: int, max_bytes: int) -> int:
    """One pass over the files that failed before; returns how many were fetched."""
    got = 0
    for row_id, message_id, pending in pending_files(desk, bot_id):
        ref = FileRef(pending.file_id, pending.filename, pending.content_type, pending.size)
        result = await fetch(bot, ref, max_bytes)
        if result.data is not None:
            file_fetched(desk, row_id, message_id, attachment(result))
            got += 1
        else:
            file_fetched(desk, row_id, message_id, None, result.note, final=not result.later)
    return got
