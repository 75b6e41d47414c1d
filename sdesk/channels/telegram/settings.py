"""The bot's token and client: read from the environment or a command, never logged.

python-telegram-bot puts the token in every URL (``/bot<token>/getUpdates``) and httpx logs each
request line at INFO, so a filter on the root handlers and on every logger on the way replaces
the token with ``<token>`` in every record (ARCHITECTURE.md rule 9).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from telegram import Bot
from telegram.request import HTTPXRequest

from sdesk.channels.secrets import SecretError, read_secret
from sdesk.config import Secret, TelegramSettings

REDACTED = "<token>"
# Loggers that may print a request's URL: httpx's request lines, PTB's own debug output.
_URL_LOGGERS = ("httpx", "httpcore", "telegram", "telegram.ext", "telegram.request")


class TokenError(Exception):
    """No usable token; the message says where it was looked for, never the value."""


def read_token(settings: TelegramSettings) -> str:
    try:
        token = read_secret(settings.token_secret(), "telegram token")
    except SecretError as exc:
        raise TokenError(str(exc)) from None
    if ":" not in token or not token.split(":", 1)[0].isdigit():
        raise TokenError("telegram token: not a bot token (expected 123456:ABC...)")
    protect(token)
    return token


def read_webhook_secret(settings: TelegramSettings) -> str | None:
    if not settings.secret_token_env:
        return None
    try:
        value = read_secret(Secret(password_env=settings.secret_token_env), "webhook secret")
    except SecretError as exc:
        raise TokenError(str(exc)) from None
    protect(value)
    return value


def bot_id(token: str) -> int:
    return int(token.split(":", 1)[0])


class RedactFilter(logging.Filter):
    """Replaces every known secret in a record's message (and its arguments) with
    ``<token>``; attached to the handlers and loggers that could print one."""

    def __init__(self) -> None:
        super().__init__("sdesk-redact")
        self.secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        with self._lock:
            self.secrets = {*self.secrets, secret}

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self.secrets
        if not secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record: leave it to logging's own error path
            return True
        if any(s in message for s in secrets):
            for secret in secrets:
                message = message.replace(secret, REDACTED)
            record.msg, record.args = message, None
        if record.exc_info and record.exc_info[1] is not None:
            text = str(record.exc_info[1])
            if any(s in text for s in secrets):
                record.exc_info = None  # the traceback would quote the URL: keep the line only
                record.exc_text = None
        return True


REDACT = RedactFilter()


def protect(secret: str) -> None:
    """From now on, no log record of this process shows ``secret``."""
    REDACT.add(secret)
    for name in ("", *_URL_LOGGERS):
        logger = logging.getLogger(name)
        if REDACT not in logger.filters:
            logger.addFilter(REDACT)
        for handler in logger.handlers:
            if REDACT not in handler.filters:
                handler.addFilter(REDACT)


class DeskBot(Bot):
    """PTB's ``Bot`` with ``getUpdates`` read raw: ``Bot.get_updates`` parses the whole batch at
    once, so one malformed update would fail every update with it; the desk parses each on its
    own and quarantines only the bad one (ARCHITECTURE.md rule 3)."""

    async def raw_updates(self, params: dict[str, Any], *, read_timeout: float) -> list[Any]:
        # ``_post`` is the call every Bot method makes (and PTB's own ExtBot overrides); it
        # routes getUpdates through the long-poll request with its own timeouts.
        result = await self._post("getUpdates", params, read_timeout=read_timeout)
        return list(result) if isinstance(result, list) else []


def make_bot(
    settings: TelegramSettings, token: str, *, poll_timeout: float | None = None
) -> DeskBot:
    """A ``Bot`` for ``settings.base_url`` (the server root; ``/bot`` and ``/file/bot`` are
    appended). Timeouts bound every call; the long poll's read timeout covers its wait."""
    root = settings.base_url.rstrip("/")
    timeout = settings.timeout_seconds
    wait = settings.poll_timeout_seconds if poll_timeout is None else poll_timeout
    return DeskBot(
        token,
        base_url=root + "/bot",
        base_file_url=root + "/file/bot",
        request=HTTPXRequest(
            connection_pool_size=16,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            pool_timeout=timeout,
        ),
        get_updates_request=HTTPXRequest(
            connection_pool_size=2,
            connect_timeout=timeout,
            read_timeout=wait + timeout,
            write_timeout=timeout,
            pool_timeout=timeout,
        ),
    )


def proxy_env_note() -> str | None:
    """httpx honours HTTPS_PROXY: said in ``sdesk doctor`` when set, as it changes the route."""
    proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    return "HTTPS_PROXY is set: the bot talks through it" if proxy else None
