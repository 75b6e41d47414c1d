"""``sdesk doctor`` for the bot: the token (``getMe``), the webhook against the mode, and how
many updates wait at Telegram. Each line says what is wrong; the token is never shown."""

from __future__ import annotations

import asyncio
import contextlib

from telegram.error import InvalidToken, TelegramError

from sdesk.channels.telegram.settings import TokenError, make_bot, read_token
from sdesk.config import TelegramSettings
from sdesk.core.health import one_line

Check = tuple[bool, str]


def check(settings: TelegramSettings) -> list[Check]:
    try:
        token = read_token(settings)
    except TokenError as exc:
        return [(False, str(exc))]
    return asyncio.run(_check(settings, token))


async def _check(settings: TelegramSettings, token: str) -> list[Check]:
    results: list[Check] = [(True, "token read")]
    bot = make_bot(settings, token, poll_timeout=0)
    try:
        try:
            me = await bot.get_me()
        except InvalidToken:
            return [*results, (False, f"getMe: {settings.base_url} refused the token")]
        results.append((True, f"getMe: the bot is @{me.username} (id {me.id})"))
        info = await bot.get_webhook_info()
        if settings.mode == "polling":
            if info.url:
                results.append(
                    (False, f"a webhook is set ({info.url}) while mode is polling: getUpdates is "
                            "refused until it is removed (sdesk serve removes it, keeping updates)")
                )  # fmt: skip
            else:
                results.append((True, "no webhook set: polling works"))
        elif info.url:
            results.append((True, f"webhook set: {info.url}"))
        else:
            results.append((False, "mode is webhook but no webhook is set at Telegram"))
        if info.last_error_message:
            results.append(
                (False, f"Telegram's last webhook error: {one_line(info.last_error_message)}")
            )
        results.append((True, f"{info.pending_update_count} update(s) waiting at Telegram"))
    except TelegramError as exc:
        results.append((False, f"{settings.base_url}: {one_line(exc.message)}"))
    finally:
        with contextlib.suppress(Exception):  # a client that never opened
            await bot.shutdown()
    return results
