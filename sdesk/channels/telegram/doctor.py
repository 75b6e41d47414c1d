"""``sdesk doctor`` for the bot: the token (``getMe``), the webhook against the mode (in webhook
mode: the URL ``sdesk serve`` sets, from ``[http] public_url``, and the kinds of update), and how
many updates wait at Telegram. Each line says what is wrong; the token is never shown."""

from __future__ import annotations

import asyncio
import contextlib

from telegram.error import InvalidToken, TelegramError

from sdesk.channels.telegram.poller import ALLOWED
from sdesk.channels.telegram.settings import TokenError, make_bot, read_token
from sdesk.channels.telegram.webhook import webhook_url
from sdesk.config import TelegramSettings
from sdesk.core.health import one_line

Check = tuple[bool, str]


def check(settings: TelegramSettings, public_url: str | None = None) -> list[Check]:
    """``public_url``: ``[http] public_url``, where the webhook must point in webhook mode."""
    try:
        token = read_token(settings)
    except TokenError as exc:
        return [(False, str(exc))]
    return asyncio.run(_check(settings, token, public_url))


async def _check(settings: TelegramSettings, token: str, public_url: str | None) -> list[Check]:
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
        else:
            results += _webhook(settings, info.url, info.allowed_updates, public_url)
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


def _webhook(
    settings: TelegramSettings, url: str, allowed: tuple[str, ...] | None, public_url: str | None
) -> list[Check]:
    """Webhook mode: what Telegram has against what ``sdesk serve`` sets."""
    found: list[Check] = []
    if not public_url:
        found.append((False, "mode is webhook but [http] public_url is not set: sdesk serve "
                             "cannot tell Telegram where to post"))  # fmt: skip
    if not settings.secret_token_env:
        found.append((False, "mode is webhook but secret_token_env is not set: every post "
                             "is refused (403)"))  # fmt: skip
    want = webhook_url(public_url) if public_url else None
    if not url:
        found.append((False, "mode is webhook but no webhook is set at Telegram"
                             + (" (sdesk serve sets it at start)" if want else "")))  # fmt: skip
    elif want is not None and url != want:
        found.append((False, f"the webhook is {url}, not {want} (sdesk serve sets it at start)"))
    elif sorted(allowed or ()) != sorted(ALLOWED):
        found.append((False, f"the webhook {url} takes other kinds of update than the desk "
                             "(sdesk serve sets it at start)"))  # fmt: skip
    else:
        found.append((True, f"webhook set: {url}"))
    return found
