"""Webhook mode: Telegram pushes each update in an HTTPS POST; this is the framework-free part.

``handle`` checks ``X-Telegram-Bot-Api-Secret-Token`` against ``[telegram] secret_token_env``
(constant-time; a wrong or missing header, or no secret configured at all, is 403 and nothing
is stored), stores the update through the same path as the poller (``store.take``, no cursor:
Telegram's re-delivery is absorbed by the unique bot + update_id) and answers 200 only after the
commit (ARCHITECTURE.md rule 1). A busy or failing store answers 503, so Telegram delivers the
update again; a body that is not JSON is quarantined raw and answered 200 (re-delivering it
could never succeed). Files are not fetched while Telegram waits: they are queued for the
service's file fetcher (``files.FileFetcher``).

``ensure`` is what ``sdesk serve`` does at the service's start in webhook mode: it tells
Telegram where to post (``[http] public_url`` + ``PATH``), with the secret and the kinds of
update the desk takes, when what Telegram has differs.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from telegram import Bot

from sdesk.channels.telegram.poller import ALLOWED
from sdesk.channels.telegram.settings import (
    TokenError,
    bot_id,
    make_bot,
    read_token,
    read_webhook_secret,
)
from sdesk.channels.telegram.store import BotInfo, take
from sdesk.config import TelegramSettings
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel
from sdesk.core.health import one_line
from sdesk.store.failures import StoreError

log = logging.getLogger(__name__)
HEADER = "x-telegram-bot-api-secret-token"
PATH = "/telegram/webhook"  # where the desk's HTTP server takes the updates (``sdesk.api``)
MAX_BODY = 1024 * 1024  # an update is a few KB; anything this big is not one


@dataclass(frozen=True, slots=True)
class Secrets:
    """The bot's token and the webhook's secret, read once (``token_command`` may be slow)."""

    token: str
    secret: str | None


def read_secrets(settings: TelegramSettings) -> Secrets:
    return Secrets(read_token(settings), read_webhook_secret(settings))


def handle(
    desk: Desk,
    settings: TelegramSettings,
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Secrets | None = None,
) -> tuple[int, bytes]:
    """(HTTP status, body) for one webhook POST; ``secrets`` as read at the server's start
    (else read now)."""
    try:
        known = secrets or read_secrets(settings)
    except TokenError as exc:
        log.error("telegram webhook: %s", exc)
        return 503, b"not configured"
    expected, token = known.secret, known.token
    given = next((v for k, v in headers.items() if k.lower() == HEADER), None)
    if (
        expected is None
        or given is None
        or not hmac.compare_digest(given.encode(), expected.encode())
    ):
        return 403, b"forbidden"
    if len(body) > MAX_BODY:
        return 413, b"too large"
    bot = bot_id(token)
    try:
        update = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        try:
            desk.quarantine(
                channel=Channel.TELEGRAM, raw=body, error=f"webhook body is not JSON: {exc}",
                source=f"telegram:{bot}/webhook",
            )  # fmt: skip
        except StoreError:
            return 503, b"busy"
        return 200, b"ok"
    try:
        asyncio.run(_take(desk, settings, token, update))
    except StoreError as exc:
        log.warning("telegram webhook: not stored (%s); Telegram delivers it again", exc)
        return 503, b"busy"
    except Exception as exc:
        log.error("telegram webhook: %s", one_line(f"{type(exc).__name__}: {exc}"))
        return 500, b"error"
    return 200, b"ok"


async def _take(desk: Desk, settings: TelegramSettings, token: str, update: object) -> None:
    bot = make_bot(settings, token, poll_timeout=0)
    try:
        info = BotInfo(bot, bot_id(token), None, settings, desk.settings.default_region)
        await take(desk, info, [update], move_cursor=False)
    finally:
        try:
            await bot.shutdown()
        except Exception:  # a client that never opened
            log.debug("telegram webhook: shutdown", exc_info=True)


def webhook_url(public_url: str) -> str:
    return public_url.rstrip("/") + PATH


async def ensure(bot: Bot, public_url: str, secret: str) -> str:
    """Set the webhook unless Telegram has it already: this URL and these kinds of update, and
    no delivery error. The secret cannot be read back, so a changed secret shows only as
    Telegram's last error (our 403s), which sets it again too. Pending updates are kept.
    Returns one line saying what was done."""
    want = webhook_url(public_url)
    info = await bot.get_webhook_info()
    same = info.url == want and sorted(info.allowed_updates or ()) == sorted(ALLOWED)
    if same and not info.last_error_message:
        return f"webhook set: {want}"
    await bot.set_webhook(
        want, secret_token=secret, allowed_updates=ALLOWED, drop_pending_updates=False
    )
    why = f" (was {info.url or 'none'})" if info.url != want else ""
    return f"webhook set to {want}{why}"
