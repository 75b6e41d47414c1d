"""``TelegramService``: the bot as one of the desk's supervised services
(``channels/services.py``): ``run`` polls until stopped (``sdesk serve``, the lone console),
``run_once`` takes every pending update and returns (``sdesk fetch``). In webhook mode the HTTP
server takes the updates (``webhook.py``); the service then only fetches late files."""

from __future__ import annotations

import asyncio
import threading

from sdesk.channels.services import PassResult, Service
from sdesk.channels.telegram.files import FileFetcher
from sdesk.channels.telegram.poller import STOP_CHECK, PollerError, TelegramPoller, lease_name
from sdesk.channels.telegram.settings import TokenError, bot_id, make_bot, read_token
from sdesk.config import TelegramSettings
from sdesk.core import leases
from sdesk.core.desk import Desk
from sdesk.core.health import HealthRecorder, service_key


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
            files = FileFetcher(self.desk, bot, bot_id(token), max_bytes, rescan=STOP_CHECK * 5)
            done = asyncio.Event()
            fetching = asyncio.create_task(files.run(done))
            await asyncio.to_thread(stop.wait)
            done.set()
            await fetching
            await bot.shutdown()

        asyncio.run(loop())
