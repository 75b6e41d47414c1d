"""A batch of raw updates into the desk: every update exactly once (ARCHITECTURE.md rules 1-3).

``take`` parses each update (a malformed one is quarantined raw, the rest flows), then stores
the whole batch in ONE transaction (``Desk.chat_batch``): each update raw in
``telegram_update`` (unique per bot and ``update_id``), what it means (a message, an edit, an
album's next photo, a command and its answer in the outbox), the files its messages carry as
pending ``telegram_file`` rows (fetched after the commit by ``files.FileFetcher``: the store
never waits on the network) and, for the poller, the cursor: the next ``getUpdates`` offset,
which confirms the batch to Telegram only after this commit. The webhook calls the same
function without a cursor and answers 200 only after it returned.

If the batch's transaction fails on one update's content, the batch is stored again update by
update (each with the cursor up to it), and the one that fails is quarantined instead of
blocking the queue forever.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from typing import Any

from telegram import Bot, Update

from sdesk.channels.telegram import commands
from sdesk.channels.telegram.intake import FileRef, Parsed, message_ref, parse_message, sender_of
from sdesk.channels.telegram.reading import ChatMessage, Person, Read, from_ptb, read_raw
from sdesk.config import TelegramSettings
from sdesk.core.chats import ChatBatch
from sdesk.core.cursors import Cursor
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel
from sdesk.core.health import one_line
from sdesk.core.inbound import Inbound, Sender
from sdesk.core.intake import Outcome
from sdesk.store.failures import StoreError

log = logging.getLogger(__name__)
CURSOR_FOLDER = "updates"
# A batch this full (getUpdates' limit) is one of a backlog's: committed as ``bulk``, the WAL
# checkpointed after the backlog rather than every 4 MiB (``Store.write``).
BACKLOG = 100
ACTOR = "telegram"


@dataclass(slots=True)
class TakeReport:
    received: int = 0
    stored: int = 0  # updates new to the desk
    duplicates: int = 0
    quarantined: int = 0
    ignored: int = 0  # group chats (when ignored), kinds the desk has no use for


@dataclass(slots=True)
class Item:
    """One update on its way to the store."""

    update_id: int | None
    raw: bytes
    read: Read | None = None
    error: str = ""
    parsed: Parsed | None = None


@dataclass(frozen=True, slots=True)
class BotInfo:
    """What ``take`` needs to know about the bot it stores for (``bot``: for PTB's objects; None
    when the desk reads updates it already has, ``requeue``)."""

    bot: Bot | None
    bot_id: int
    username: str | None
    settings: TelegramSettings
    region: str


def cursor_of(desk: Desk, bot_id: int) -> int | None:
    """The stored next offset, or None before the first batch."""
    from sdesk.core.cursors import get_cursor

    with desk.store.read() as session:
        cur = get_cursor(session, Channel.TELEGRAM.value, str(bot_id), CURSOR_FOLDER)
    return int(cur.position) if cur is not None and cur.position.lstrip("-").isdigit() else None


def _update_id(raw: Any) -> int | None:
    value = raw.get("update_id") if isinstance(raw, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse(info: BotInfo, raws: list[Any]) -> list[Item]:
    items = []
    for raw in raws:
        as_json = json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode()
        item = Item(_update_id(raw), as_json)
        if item.update_id is None:
            item.error = "an update without an update_id"
        else:
            try:
                # The common shapes straight from the JSON; the rest through PTB's de_json.
                read = read_raw(raw) or from_ptb(Update.de_json(raw, info.bot), raw)
                item.read = read
                if read.message is not None:
                    fields = raw.get("message") or raw.get("edited_message") or {}
                    item.parsed = parse_message(
                        read.message, fields, info.bot_id, item.update_id, info.region
                    )
            except Exception as exc:  # PTB's parsing errors vary: any of them quarantines
                item.error = f"unreadable update: {one_line(f'{type(exc).__name__}: {exc}')}"
                item.read, item.parsed = None, None
        items.append(item)
    items.sort(key=lambda i: (i.update_id is None, i.update_id or 0))
    return items


async def take(
    desk: Desk,
    info: BotInfo,
    raws: list[Any],
    *,
    move_cursor: bool = True,
) -> TakeReport:
    """Store a batch (see the module's docstring); returns what became of it."""
    items = parse(info, raws)
    report = TakeReport(received=len(items))
    if not items:
        return report
    try:
        _store(desk, info, items, report, move_cursor=move_cursor)
    except StoreError:
        raise  # the desk is busy or full: the batch is taken again, nothing confirmed
    except Exception as exc:
        log.warning("telegram batch failed (%s); storing it update by update", one_line(str(exc)))
        report = TakeReport(received=len(items))
        for item in items:
            one = _take_one(desk, info, item, move_cursor=move_cursor)
            for name in ("stored", "duplicates", "quarantined", "ignored"):
                setattr(report, name, getattr(report, name) + getattr(one, name))
    return report


def _take_one(desk: Desk, info: BotInfo, item: Item, *, move_cursor: bool) -> TakeReport:
    """One update alone; when even that fails, it is quarantined raw with the reason."""
    report = TakeReport(received=1)
    try:
        _store(desk, info, [item], report, move_cursor=move_cursor)
    except StoreError:
        raise
    except Exception as exc:
        log.warning("telegram update %s quarantined: %s", item.update_id, one_line(str(exc)))
        item.error = f"could not be stored: {one_line(f'{type(exc).__name__}: {exc}')}"
        item.parsed, item.read = None, None
        report = TakeReport(received=1)
        _store(desk, info, [item], report, move_cursor=move_cursor)
    return report


def _store(
    desk: Desk, info: BotInfo, items: list[Item], report: TakeReport, *, move_cursor: bool
) -> None:
    with desk.chat_batch(len(items), bulk=len(items) >= BACKLOG) as batch:
        ids = [i.update_id for i in items if i.update_id is not None]
        seen = batch.seen_among(info.bot_id, ids)
        _expect(batch, info, [i for i in items if i.update_id not in seen])
        for item in items:
            _one(batch, info, item, report, seen)
        if move_cursor and ids:
            # Never backwards: a batch taken again after a crash must not un-confirm later ones.
            nxt = max(ids) + 1
            current = batch_cursor(batch, info.bot_id)
            if current is None or nxt > current:
                batch.set_cursor(
                    Channel.TELEGRAM, str(info.bot_id), CURSOR_FOLDER, Cursor(None, str(nxt))
                )


def _expect(batch: ChatBatch, info: BotInfo, items: list[Item]) -> None:
    """What the batch's updates will ask the desk, read at once (``ChatBatch.expect``)."""
    inbounds: list[Inbound] = []
    chats: list[str] = []
    for item in items:
        if item.parsed is not None:
            inbounds.append(item.parsed.inbound)
        read = item.read
        if read is not None and read.message is not None:
            chats.append(str(read.message.chat_id))
        elif read is not None and read.callback is not None and read.callback.chat_id is not None:
            chats.append(str(read.callback.chat_id))
    batch.expect(inbounds, info.bot_id, chats)


def batch_cursor(batch: ChatBatch, bot_id: int) -> int | None:
    value = batch.sql.scalar(
        "SELECT position FROM channel_cursor WHERE channel = ? AND account = ? AND folder = ?",
        Channel.TELEGRAM.value,
        str(bot_id),
        CURSOR_FOLDER,
    )
    return int(value) if value is not None and str(value).lstrip("-").isdigit() else None


def _one(batch: ChatBatch, info: BotInfo, item: Item, report: TakeReport, seen: set[int]) -> None:
    uid = item.update_id
    if uid is None:
        batch.quarantine(Channel.TELEGRAM, item.raw, item.error, f"telegram:{info.bot_id}")
        report.quarantined += 1
        return
    if uid in seen:
        report.duplicates += 1
        return
    seen.add(uid)
    if item.read is None:
        batch.quarantine(Channel.TELEGRAM, item.raw, item.error, f"telegram:{info.bot_id}/{uid}")
        batch.record(info.bot_id, uid, item.raw, kind="quarantined")
        report.quarantined += 1
        return
    kind, chat_id, message_id, group = apply_update(batch, info, item)
    batch.record(
        info.bot_id, uid, item.raw, kind=kind, chat_id=chat_id, media_group=group,
        message_id=message_id,
    )  # fmt: skip
    if kind.startswith("ignored"):
        report.ignored += 1
    else:
        report.stored += 1


def apply_update(
    batch: ChatBatch, info: BotInfo, item: Item
) -> tuple[str, str | None, int | None, str | None]:
    """What the update means, written in ``batch``: (kind, chat, message row, media group)."""
    read = item.read
    assert read is not None and item.update_id is not None
    settings = info.settings
    query = read.callback
    if query is not None:
        chat = query.chat_id
        if chat is None or (query.chat_type != "private" and settings.group_chats == "ignore"):
            return "ignored:callback_query", None, None, None
        ctx = _context(batch, info, item.update_id, chat, query.user, None)
        batch.queue_bot_message(
            channel=Channel.TELEGRAM,
            kind="bot",
            recipient=str(chat),
            payload={"method": "answerCallbackQuery", "callback_query_id": query.id},
            key=f"telegram:{info.bot_id}:{item.update_id}:answer",
        )
        commands.callback(ctx, query.data or "")
        return "callback_query", str(chat), None, None
    message = read.message
    if message is None:
        return f"ignored:{read.kind}", None, None, None
    chat_id = str(message.chat_id)
    if message.chat_type != "private" and settings.group_chats == "ignore":
        return "ignored:group", chat_id, None, None
    parsed = item.parsed
    assert parsed is not None
    inbound = _with_files(parsed, info)
    if read.kind == "edited_message":
        return _edit(batch, info, item, message, inbound)
    ctx = _context(
        batch, info, item.update_id, message.chat_id, message.user,
        message_ref(message.chat_id, message.message_id),
        sender=None if parsed.shared else parsed.inbound.sender,  # the same, already made
    )  # fmt: skip
    name = commands.command_of(message.text, info.username)
    if name is not None and commands.run_command(ctx, name):
        return "command", chat_id, None, None
    pending = [f.pending() for f in parsed.files]
    if commands.dialogue_message(ctx, message.text or message.caption or "", pending):
        return "dialogue", chat_id, None, None
    group = message.media_group_id
    if group:
        first = batch.album_message(info.bot_id, group)
        if first is not None:
            batch.add_attachments(
                first, inbound.attachments, text=message.caption or "", notes=inbound.notes,
                actor=ACTOR,
            )  # fmt: skip
            _pending(batch, info, item, first)
            return "message", chat_id, first, group
    result = batch.intake(inbound)
    if parsed.shared:
        batch.add_contacts((*inbound.sender.contacts,), inbound.sender.name)
    if result.message_id is not None:
        _pending(batch, info, item, result.message_id)
    if result.outcome is Outcome.CREATED:
        commands.acknowledge(ctx, result.ticket_number)
    return "message", chat_id, result.message_id, group


def _edit(
    batch: ChatBatch, info: BotInfo, item: Item, message: ChatMessage, inbound: Inbound
) -> tuple[str, str | None, int | None, str | None]:
    chat_id = str(message.chat_id)
    found = batch.message_by_ref(Channel.TELEGRAM, message_ref(message.chat_id, message.message_id))
    if found is not None:
        at = message.edit_date or batch.at
        batch.edit(found[0], inbound.text, edited_at=at, actor=ACTOR)
        return "edited_message", chat_id, found[0], None
    group = message.media_group_id
    album = batch.album_message(info.bot_id, group) if group else None
    if album is not None:  # a later photo of an album: its caption changed
        note = f"a caption in the album edited to: {message.caption or ''}"
        batch.add_attachments(album, (), notes=(note,), actor=ACTOR)
        return "edited_message", chat_id, album, group
    # An edit of a message the desk never stored (sent before the bot was set up): kept new.
    new = replace(inbound, notes=(*inbound.notes, "edited before it came in"))
    result = batch.intake(new)
    if result.message_id is not None:
        _pending(batch, info, item, result.message_id)
    return "edited_message", chat_id, result.message_id, None


def _with_files(parsed: Parsed, info: BotInfo) -> Inbound:
    """The message with its files named in its notes: each arriving (fetched after the commit),
    or not fetched at all when Telegram says it is over ``max_file_mb``."""
    if not parsed.files:
        return parsed.inbound
    limit = info.settings.max_file_mb * 1024 * 1024
    notes = list(parsed.inbound.notes)
    for ref in parsed.files:
        if _too_big(ref, limit):
            mb = (ref.size or 0) / 1024 / 1024
            notes.append(f"file {ref.filename} not fetched: {mb:.1f} MB is over the limit")
        else:
            notes.append(f"file {ref.filename} arriving…")
    return replace(parsed.inbound, notes=tuple(notes))


def _too_big(ref: FileRef, limit: int) -> bool:
    return ref.size is not None and ref.size > limit


def _pending(batch: ChatBatch, info: BotInfo, item: Item, message_id: int) -> None:
    """The message's files, for ``files.FileFetcher`` once this batch commits."""
    parsed = item.parsed
    if parsed is None:
        return
    limit = info.settings.max_file_mb * 1024 * 1024
    for ref in parsed.files:
        if not _too_big(ref, limit):
            batch.pending_file(info.bot_id, message_id, ref.pending())


def _context(
    batch: ChatBatch,
    info: BotInfo,
    update_id: int,
    chat_id: int,
    user: Person | None,
    reply_to: str | None,
    *,
    sender: Sender | None = None,
) -> commands.Context:
    return commands.Context(
        batch=batch,
        settings=info.settings,
        bot_id=info.bot_id,
        update_id=update_id,
        chat_id=str(chat_id),
        user_id=user.id if user is not None else chat_id,
        sender=sender if sender is not None else sender_of(user, chat_id, info.region),
        language=user.language_code if user is not None else None,
        reply_to=reply_to,
    )
