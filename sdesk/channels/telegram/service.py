"""``TelegramService``: the bot as one of the desk's supervised services
(``channels/services.py``): ``run`` polls until stopped (``sdesk serve``, the lone console),
``run_once`` takes every pending update and returns (``sdesk fetch``). In webhook mode the HTTP
server takes the updates (``webhook.py``): the service tells Telegram where to post at its start
(``webhook.ensure``: ``[http] public_url``), then only fetches late files."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from telegram import Bot
from telegram.error import TelegramError

from sdesk.channels.services import PassResult, Service
from sdesk.channels.telegram.files import FileFetcher
from sdesk.channels.telegram.poller import STOP_CHECK, PollerError, TelegramPoller, lease_name
from sdesk.channels.telegram.settings import (
    TokenError,
    bot_id,
    make_bot,
    read_token,
    read_webhook_secret,
)
from sdesk.channels.telegram.webhook import ensure
from sdesk.config import TelegramSettings
from sdesk.core import leases
from sdesk.core.desk import Desk
from sdesk.core.health import HealthRecorder, one_line, service_key

log = logging.getLogger(__name__)


class TelegramService(Service):
    def __init__(self, desk: Desk, settings: TelegramSettings) -> None:
        self.desk = desk
        self.settings = settings
        self._token: str | None = None
        self._poller: TelegramPoller | None = None
        self.name = "telegram"

    @property
    def poller(self) -> TelegramPoller:
        """Built on first use: reading the token may run a command (``token_command``)."""
        if self._poller is None:
            self._token = read_token(self.settings)
            self._poller = TelegramPoller(self.desk, self.settings, self._token)
            self.name = lease_name(bot_id(self._token))
        return self._poller

    def run(self, stop: threading.Event) -> None:
        if self.settings.mode == "webhook":
            self._late_files(stop)
            return
        self.poller.run(stop)

    def run_once(self) -> PassResult:
        if self.settings.mode == "webhook":
            return PassResult("telegram: webhook mode, updates come to the HTTP server")
        try:
            poller = self.poller
        except TokenError as exc:
            return PassResult(f"telegram: {exc}", "failed")
        held = leases.current(self.desk, poller.name)
        if held is not None and held[0] != poller.holder and not leases.is_dead_here(held[0]):
            who = leases.describe(held[0])
            return PassResult(
                f"telegram: the bot is being polled by {who}; try again later", "busy"
            )
        try:
            r = poller.fetch_once()
        except PollerError as exc:
            return PassResult(f"telegram: {exc}", "failed")
        return PassResult(
            f"telegram: updates {r.received}, new {r.stored}, duplicates {r.duplicates}, "
            f"quarantined {r.quarantined}, ignored {r.ignored}, late files {r.files}"
        )

    def crashed(self, message: str) -> None:
        if self._poller is not None:
            self._poller.health.failed(message)
        else:
            HealthRecorder(self.desk, service_key("telegram")).failed(message)

    def _late_files(self, stop: threading.Event) -> None:
        token = read_token(self.settings)
        bot = make_bot(self.settings, token)
        max_bytes = self.settings.max_file_mb * 1024 * 1024

        async def loop() -> None:
            try:
                await self._webhook(bot, token)
                files = FileFetcher(self.desk, bot, bot_id(token), max_bytes, rescan=STOP_CHECK * 5)
                done = asyncio.Event()
                fetching = asyncio.create_task(files.run(done))
                await asyncio.to_thread(stop.wait)
                done.set()
                await fetching
            finally:
                with contextlib.suppress(Exception):  # a client that never opened
                    await bot.shutdown()

        asyncio.run(loop())

    async def _webhook(self, bot: Bot, token: str) -> None:
        """Tell Telegram where to post (``webhook.ensure``). Without ``[http] public_url`` or
        a secret it cannot work: said in the bot's health, and the late files still go on; a
        failed call raises, and the supervisor starts the service again later."""
        health = HealthRecorder(self.desk, service_key(lease_name(bot_id(token))))
        http = self.desk.settings.http
        public = http.public_url if http is not None else None
        try:
            secret = read_webhook_secret(self.settings)
            problem = "" if secret else "needs [telegram] secret_token_env"
        except TokenError as exc:
            secret, problem = None, str(exc)
        if not public:
            problem = "needs [http] public_url"
        if not public or not secret:
            line = f"webhook mode {problem}: Telegram is not told where to post"
            log.warning("telegram: %s", line)
            health.failed(line)
            return
        try:
            line = await ensure(bot, public, secret)
        except TelegramError as exc:
            health.failed(f"setWebhook: {one_line(str(exc))}")
            raise
        log.info("telegram: %s", line)
        health.connected()
