"""The outbox's Telegram sender: replies, acknowledgements and the bot's answers.

Plain text only (no ``parse_mode``, so no customer or operator text can break the message or
be taken for markup), split at 4,096 characters on line boundaries, the first part replying to
the customer's last message; attachments by ``sendPhoto`` (pictures) or ``sendDocument``.
Telegram's 429 makes that row wait ``retry_after`` while the others go on (``RetryLater``); a
user who blocked the bot fails the row for good, the reason on the ticket; network errors and
5xx are retried with the outbox's backoff (``core/outbox.py``). Each part Telegram took is
recorded on the outbox row at once (``outbox.progress``), so a try after a failure, a crash or
a restart goes on from the next part and the customer never gets a part twice.

The dispatcher calls senders from its own thread; PTB is async, so the sender keeps one event
loop of its own for that thread and runs each send to completion on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    ReplyParameters,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

from sdesk.channels.dispatcher import RetryLater, Sender, Sent
from sdesk.channels.telegram.settings import TokenError, bot_id, make_bot, read_token
from sdesk.config import TelegramSettings
from sdesk.core import outbox
from sdesk.core.desk import Desk
from sdesk.core.health import one_line

log = logging.getLogger(__name__)
MAX_TEXT = 4096  # Telegram's limit on one message's text
PHOTO_MAX_BYTES = 10 * 1024 * 1024  # sendPhoto's limit; bigger pictures go as documents


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Parts of at most ``limit`` characters, cut after a line where one fits, else hard (a
    single line longer than the limit); nothing lost, nothing added."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            parts.append(rest[:limit])
            rest = rest[limit:]
        else:
            parts.append(rest[:cut])
            rest = rest[cut + 1 :]
    if rest or not parts:
        parts.append(rest)
    return parts


def _reply_to(ref: Any) -> int | None:
    """ "tg:<chat>:<message>" → the message id."""
    if not isinstance(ref, str) or not ref.startswith("tg:"):
        return None
    tail = ref.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _keyboard(buttons: Any) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row] for row in buttons]
    )


class TelegramSender:
    def __init__(self, desk: Desk, settings: TelegramSettings, token: str) -> None:
        self.desk = desk
        self.settings = settings
        self.bot_id = bot_id(token)
        self.bot: Bot = make_bot(settings, token, poll_timeout=0)
        self.loop = asyncio.new_event_loop()

    def __call__(self, recipient: str, payload: dict[str, Any]) -> tuple[str, bool]:
        """Send from the first part, nothing recorded (a payload with no outbox row)."""
        return self._deliver(recipient, payload, 0, None, None)

    def send_claimed(self, item: outbox.Claimed) -> tuple[str, bool]:
        """The dispatcher's call (``dispatcher.PartsSender``): from the part after those an
        earlier try delivered, each part recorded on the row as Telegram takes it."""

        def record(parts: int, ref: str | None) -> None:
            outbox.progress(self.desk, item, parts, ref)

        return self._deliver(item.recipient, item.payload, item.parts_sent, item.sent_ref, record)

    def _deliver(
        self,
        recipient: str,
        payload: dict[str, Any],
        done: int,
        done_ref: str | None,
        record: Callable[[int, str | None], None] | None,
    ) -> tuple[str, bool]:
        try:
            ref = self.loop.run_until_complete(
                self._send(recipient, payload, done, done_ref, record)
            )
        except RetryAfter as exc:
            seconds = exc.retry_after
            wait = seconds.total_seconds() if hasattr(seconds, "total_seconds") else float(seconds)
            raise RetryLater(f"Telegram asked to wait {wait:g}s (429)", wait) from None
        except Forbidden as exc:
            return f"not delivered: {one_line(exc.message)}", True
        except BadRequest as exc:
            return f"refused by Telegram: {one_line(exc.message)}", True
        except InvalidToken as exc:
            return f"the bot's token was refused: {one_line(exc.message)}", False
        except TelegramError as exc:  # network errors, timeouts, 5xx: retried with backoff
            return f"Telegram: {one_line(exc.message or type(exc).__name__)}", False
        if ref:
            raise Sent(ref)
        return "", False

    async def _send(
        self,
        recipient: str,
        payload: dict[str, Any],
        done: int = 0,
        done_ref: str | None = None,
        record: Callable[[int, str | None], None] | None = None,
    ) -> str | None:
        """Steps ``done`` and on (the text's parts, then the files); the sent message's name
        (the last part's), or ``done_ref`` when every step went on an earlier try."""
        chat = int(recipient) if recipient.lstrip("-").isdigit() else recipient
        if payload.get("method") == "answerCallbackQuery":
            # Too old to answer (BadRequest): the button's spinner just stops by itself.
            with contextlib.suppress(BadRequest):
                await self.bot.answer_callback_query(str(payload["callback_query_id"]))
            return None
        reply = _reply_to(payload.get("in_reply_to"))
        params = ReplyParameters(reply, allow_sending_without_reply=True) if reply else None
        last = done_ref
        files = list(payload.get("attachments") or [])
        parts = split_text(str(payload.get("text", "")))
        step = 0
        for n, part in enumerate(parts):
            if step >= done:  # else delivered by an earlier try of this row
                sent = await self._text(chat, part, n, len(parts), bool(files), params, payload)
                last = f"tg:{recipient}:{sent}" if sent is not None else last
                self._progress(record, step + 1, last, parts=len(parts) + len(files))
            step += 1
        for f in files:
            if step >= done:
                last = f"tg:{recipient}:{await self._file(chat, f)}"
                self._progress(record, step + 1, last, parts=len(parts) + len(files))
            step += 1
        return last

    @staticmethod
    def _progress(
        record: Callable[[int, str | None], None] | None, steps: int, ref: str | None, *, parts: int
    ) -> None:
        """Keep how far the send got, unless this was its only step (``settle`` records that
        one with the result)."""
        if record is not None and parts > 1:
            record(steps, ref)

    async def _text(
        self,
        chat: int | str,
        part: str,
        n: int,
        count: int,
        files: bool,
        params: ReplyParameters | None,
        payload: dict[str, Any],
    ) -> int | None:
        if not part.strip() and (files or n):
            return None  # an empty text before files: the files are the message
        sent = await self.bot.send_message(
            chat,
            part,
            reply_parameters=params if n == 0 else None,
            reply_markup=_keyboard(payload.get("buttons")) if n == count - 1 else None,
        )
        return sent.message_id

    async def _file(self, chat: int | str, f: dict[str, Any]) -> int:
        data = self.desk.store.blobs.get(str(f["sha256"]))
        if data is None:
            raise BadRequest(f"attachment {f.get('filename')} is missing from the desk")
        upload = InputFile(data, filename=str(f.get("filename") or "file"))
        picture = str(f.get("content_type", "")).startswith("image/")
        if picture and len(data) <= PHOTO_MAX_BYTES:
            return (await self.bot.send_photo(chat, upload)).message_id
        return (await self.bot.send_document(chat, upload)).message_id

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self.bot.shutdown())
        except Exception:  # closing a client that never opened
            log.debug("telegram sender: shutdown", exc_info=True)
        self.loop.close()


def telegram_senders(desk: Desk) -> dict[str, Sender]:
    """The Telegram sender when ``[telegram]`` is configured and its token can be read."""
    settings = desk.settings.telegram
    if settings is None:
        return {}
    try:
        token = read_token(settings)
    except TokenError as exc:
        log.error("telegram replies cannot be sent: %s", exc)
        return {}
    return {"telegram": TelegramSender(desk, settings, token)}
