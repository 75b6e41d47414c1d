"""``sdesk quarantine retry`` for Telegram: a quarantined raw update read again (after a fix, an
upgrade) and, when it now reads, stored as the poller would have stored it (ARCHITECTURE.md
rule 3).

Each retry is one transaction (``Desk.chat_batch``): the update's meaning (a message, an edit,
a command and its answer...), its ``telegram_update`` record in place of the quarantined one,
and the raw row out of quarantine. An update the desk took meanwhile (Telegram delivered it
again, intact) only leaves quarantine: never twice. One that still cannot be read or stored
stays, with its new error.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sdesk.channels.telegram.store import BotInfo, Item, apply_update, parse
from sdesk.config import TelegramSettings
from sdesk.core.chats import ChatBatch
from sdesk.core.desk import Desk
from sdesk.core.health import one_line
from sdesk.store.failures import StoreError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Retried:
    raw_id: int
    stored: bool  # out of quarantine now
    line: str  # what became of it, or why it stays


def retry(desk: Desk, settings: TelegramSettings, raw_ids: list[int]) -> list[Retried]:
    """Retry each of ``raw_ids`` (quarantined Telegram updates), one transaction each."""
    done: list[Retried] = []
    for raw_id in raw_ids:
        try:
            with desk.chat_batch(1) as batch:
                outcome = _retry(batch, desk, settings, raw_id)
        except StoreError:
            raise  # the desk is busy or full: nothing changed, the operator tries again
        except Exception as exc:  # storing its meaning failed: rolled back, it stays
            error = f"could not be stored: {one_line(f'{type(exc).__name__}: {exc}')}"
            log.warning("telegram quarantine %s: %s", raw_id, error)
            with desk.chat_batch(1) as batch:
                batch.still_quarantined(raw_id, error)
            outcome = Retried(raw_id, False, error)
        if outcome is not None:
            done.append(outcome)
    return done


def _retry(batch: ChatBatch, desk: Desk, settings: TelegramSettings, raw_id: int) -> Retried | None:
    found = batch.quarantined(raw_id)
    if found is None:
        return None  # not quarantined (any more)
    data, source = found
    bot = _bot_of(source)
    if bot is None:
        return _stays(batch, raw_id, f"not a Telegram update's source: {source!r}")
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        return _stays(batch, raw_id, f"not JSON: {one_line(str(exc))}")
    info = BotInfo(None, bot, None, settings, desk.settings.default_region)
    [item] = parse(info, [raw])
    if item.update_id is None or item.read is None:
        return _stays(batch, raw_id, item.error)
    external = f"{bot}:{item.update_id}"
    before = batch.unrecord(bot, item.update_id)
    if before is not None and before != "quarantined":
        batch.requeued(raw_id, external)
        return Retried(raw_id, True, f"update {item.update_id} was stored meanwhile")
    kind = _store(batch, info, item)
    batch.requeued(raw_id, external)
    return Retried(raw_id, True, f"update {item.update_id}: {kind}")


def _store(batch: ChatBatch, info: BotInfo, item: Item) -> str:
    assert item.update_id is not None
    kind, chat_id, message_id, group = apply_update(batch, info, item)
    batch.record(
        info.bot_id, item.update_id, item.raw, kind=kind, chat_id=chat_id, media_group=group,
        message_id=message_id,
    )  # fmt: skip
    return kind


def _stays(batch: ChatBatch, raw_id: int, error: str) -> Retried:
    batch.still_quarantined(raw_id, error)
    return Retried(raw_id, False, error)


def _bot_of(source: str) -> int | None:
    """The bot of a quarantined update's source: "telegram:<bot>[/<update or webhook>]"."""
    head, _, rest = source.partition(":")
    bot = rest.split("/", 1)[0]
    return int(bot) if head == "telegram" and bot.isdigit() else None
