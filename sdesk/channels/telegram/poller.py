"""The Telegram poller: its own ``getUpdates`` loop, every update exactly once (ARCHITECTURE.md
rules 1-2, 5).

* It asks ``getUpdates(offset=cursor)`` itself, on PTB's ``Bot``: not PTB's ``Application``,
  whose updater confirms an update with its next poll whether or not it was handled, and whose
  graceful stop confirms what is still queued. The raw result is read (``DeskBot.raw_updates``), so
  one malformed update is quarantined while the rest flow.
* A batch is stored with the cursor (its last ``update_id`` + 1) in one transaction
  (``store.take``); only the next ``getUpdates`` with that offset confirms it to Telegram. A
  crash before the commit fetches the batch again; after it, the stored cursor asks past it,
  and ``telegram_update``'s unique (bot, update_id) absorbs any repeat.
* It starts from the stored cursor (the first run: from whatever Telegram holds), so pending
  updates are never dropped and a backlog after downtime is taken whole; a gap of more than
  ``GAP_WARNING`` since the last good poll (Telegram keeps updates 24 hours) is recorded in the
  bot's health for ``sdesk doctor`` and the console's mark.
* One poller per bot: a lease ``telegram:<bot id>``.
* PTB is async: ``run`` runs the loop with ``asyncio.run`` on the service's own thread. A stop
  cancels a waiting long poll at once (its updates are not confirmed, so none is lost) but lets a
  store under way commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import Bot
from telegram.error import (
    BadRequest,
    Conflict,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from sdesk.channels.telegram.files import FileFetcher
from sdesk.channels.telegram.settings import DeskBot, bot_id, make_bot
from sdesk.channels.telegram.store import BotInfo, TakeReport, cursor_of, take
from sdesk.config import TelegramSettings
from sdesk.core import leases
from sdesk.core.desk import Desk
from sdesk.core.health import HealthRecorder, one_line, service_key
from sdesk.store.failures import StoreError
from sdesk.store.models import MailboxHealth

log = logging.getLogger(__name__)

ALLOWED = ["message", "edited_message", "callback_query", "my_chat_member"]
LIMIT = 100  # updates one getUpdates returns at most (Telegram's cap)
GAP_WARNING = timedelta(hours=20)
BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
STOP_CHECK = 0.2  # seconds between looks at the stop event while a long poll waits
FILES_EVERY = 15.0  # seconds between looks for files whose retry is due
RENEW_EVERY = leases.DEFAULT_TTL.total_seconds() / 4  # seconds between lease renewals


class PollerError(Exception):
    """The bot cannot poll (a refused token, another poller); one line, no secret."""


@dataclass(slots=True)
class PollReport:
    batches: int = 0
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    ignored: int = 0
    files: int = 0

    def add(self, r: TakeReport) -> None:
        self.batches += 1
        self.received += r.received
        self.stored += r.stored
        self.duplicates += r.duplicates
        self.quarantined += r.quarantined
        self.ignored += r.ignored


def lease_name(bot: int) -> str:
    return f"telegram:{bot}"


class TelegramPoller:
    def __init__(
        self, desk: Desk, settings: TelegramSettings, token: str, *, holder: str | None = None
    ) -> None:
        self.desk = desk
        self.settings = settings
        self.token = token
        self.bot_id = bot_id(token)
        self.name = lease_name(self.bot_id)
        self.holder = holder or leases.holder_id(self.name)
        self.health = HealthRecorder(desk, service_key(self.name), self.holder)
        self.offset: int | None = None
        self._renewed = -float("inf")  # time.monotonic() of the last lease renewal

    def _hold(self) -> bool:
        """Take or renew the lease, at most every ``RENEW_EVERY`` while it is held: a write
        transaction of its own, which after every batch of a backlog cost ~5% of the take
        (bench/telegram.py). False when another process holds it."""
        now = time.monotonic()
        if now - self._renewed < RENEW_EVERY:
            return True
        if not leases.acquire(self.desk, self.name, self.holder):
            self._renewed = -float("inf")
            return False
        self._renewed = now
        return True

    # -- one pass: sdesk fetch -------------------------------------------------------------------

    def fetch_once(self) -> PollReport:
        """Take every pending update and return (``sdesk fetch``)."""
        return asyncio.run(self._fetch_once())

    async def _fetch_once(self) -> PollReport:
        if not self._hold():
            raise PollerError(f"bot {self.bot_id} is being polled by another process")
        report = PollReport()
        try:
            async with self._bot() as bot:
                info = await self._info(bot)
                self._check_gap()
                self.offset = cursor_of(self.desk, self.bot_id)
                # The files download beside the polling, then every file due is fetched.
                files = self._fetcher(bot)
                polled = asyncio.Event()
                fetching = asyncio.create_task(files.run(polled, then_drain=True))
                try:
                    while True:
                        raws = await self._get(bot, 0)
                        if not raws:
                            break
                        report.add(await self._take(info, raws))
                        files.hold(len(raws) >= LIMIT)
                        files.nudge()
                        self._hold()
                except BaseException:
                    fetching.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await fetching
                    raise
                self.health.polled()
                polled.set()
                report.files = await fetching
            self.health.stopped()
            return report
        except (TelegramError, PollerError) as exc:
            line = self._describe(exc)
            self.health.failed(line)
            raise PollerError(line) from None
        finally:
            self._renewed = -float("inf")
            with contextlib.suppress(StoreError):
                leases.release(self.desk, self.name, self.holder)

    # -- the long run: sdesk serve, the console ------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        asyncio.run(self._run(stop))

    async def _run(self, stop: threading.Event) -> None:
        failures = 0
        held = False
        bot: DeskBot | None = None
        info: BotInfo | None = None
        files: FileFetcher | None = None
        files_stop = asyncio.Event()
        fetching: asyncio.Task[int] | None = None
        try:
            while not stop.is_set():
                try:
                    if not self._hold():
                        held = False
                        await _wait(stop, leases.DEFAULT_TTL.total_seconds() / 4)
                        continue
                    if not held:
                        held = True
                        self.offset = cursor_of(self.desk, self.bot_id)
                        self._check_gap()
                    if info is None:
                        bot = bot or self._bot()
                        info = await self._info(bot)  # getMe: the token is good
                        self.health.connected()
                    assert bot is not None
                    if fetching is None:
                        files = self._fetcher(bot)
                        fetching = asyncio.create_task(files.run(files_stop))
                    raws = await self._poll(bot, stop)
                    if raws is None:
                        break  # stopped while waiting: nothing taken, nothing confirmed
                    if raws:
                        await self._take(info, raws)
                    if files is not None:
                        files.hold(len(raws) >= LIMIT)
                        files.nudge()
                    self.health.polled()
                    failures = 0
                except RetryAfter as exc:
                    await _wait(stop, _seconds(exc.retry_after))
                except InvalidToken as exc:
                    self.health.failed(_line(exc))
                    raise PollerError(_line(exc)) from None
                except Conflict as exc:
                    # A webhook is set (polling mode was chosen: it is removed, updates kept) or
                    # another program polls this bot: said in the health row, tried again.
                    self.health.failed(_line(exc))
                    if bot is not None and "webhook" in str(exc).lower():
                        with contextlib.suppress(TelegramError):
                            await bot.delete_webhook(drop_pending_updates=False)
                    failures += 1
                    await _wait(stop, BACKOFF[min(failures, len(BACKOFF)) - 1])
                except (TelegramError, StoreError, OSError) as exc:
                    line = self._describe(exc)
                    log.warning("telegram bot %s: %s", self.bot_id, line)
                    self.health.failed(line)
                    failures += 1
                    await _wait(stop, BACKOFF[min(failures, len(BACKOFF)) - 1])
        finally:
            if fetching is not None:
                files_stop.set()
                with contextlib.suppress(Exception):
                    await fetching
            if bot is not None:
                with contextlib.suppress(Exception):
                    await bot.shutdown()
            if held:
                self.health.stopped()
                self._renewed = -float("inf")
                with contextlib.suppress(StoreError):
                    leases.release(self.desk, self.name, self.holder)

    # -- parts ----------------------------------------------------------------------------------

    def _describe(self, exc: BaseException) -> str:
        """One line; a connection that failed or timed out names the server it tried."""
        if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
            return f"cannot reach {self.settings.base_url}: {_line(exc)}"
        return _line(exc)

    def _bot(self) -> DeskBot:
        return make_bot(self.settings, self.token)

    async def _info(self, bot: Bot) -> BotInfo:
        me = await bot.get_me()
        return BotInfo(
            bot, self.bot_id, me.username, self.settings, self.desk.settings.default_region
        )

    async def _get(self, bot: DeskBot, wait: int) -> list[Any]:
        """One ``getUpdates`` from the offset, waiting up to ``wait`` seconds for news."""
        params: dict[str, Any] = {"limit": LIMIT, "timeout": wait, "allowed_updates": ALLOWED}
        if self.offset is not None:
            params["offset"] = self.offset
        return await bot.raw_updates(params, read_timeout=wait + self.settings.timeout_seconds)

    async def _poll(self, bot: DeskBot, stop: threading.Event) -> list[Any] | None:
        """One long poll; None when ``stop`` was set while it waited (the call is cancelled:
        what it would have returned stays unconfirmed at Telegram)."""
        task = asyncio.ensure_future(self._get(bot, self.settings.poll_timeout_seconds))
        while not task.done():
            await asyncio.wait({task}, timeout=STOP_CHECK)
            if stop.is_set() and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, TelegramError):
                    await task
                return None
        return task.result()

    async def _take(self, info: BotInfo, raws: list[Any]) -> TakeReport:
        report = await take(self.desk, info, raws)
        ids = [r["update_id"] for r in raws if isinstance(r, dict) and _is_int(r.get("update_id"))]
        if ids:
            nxt = max(ids) + 1
            self.offset = nxt if self.offset is None else max(self.offset, nxt)
        return report

    def _fetcher(self, bot: Bot) -> FileFetcher:
        return FileFetcher(
            self.desk, bot, self.bot_id, self.settings.max_file_mb * 1024 * 1024,
            rescan=FILES_EVERY,
        )  # fmt: skip

    def _check_gap(self) -> None:
        """Warn when the last good poll is older than ``GAP_WARNING``: Telegram drops updates
        after 24 hours, so some may be gone."""
        with self.desk.store.read() as session:
            row = session.get(MailboxHealth, self.health.mailbox)
            last = row.last_poll_at if row is not None else None
        if last is None:
            return
        gap = self.desk.clock() - last
        if gap > GAP_WARNING:
            hours = gap.total_seconds() / 3600
            message = (
                f"no poll for {hours:.0f} hours: Telegram keeps updates 24 hours, "
                "older ones may be lost"
            )
            log.warning("telegram bot %s: %s", self.bot_id, message)
            self.health.failed(message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _seconds(value: Any) -> float:
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)


def _line(exc: BaseException) -> str:
    return one_line(str(exc) or type(exc).__name__)


async def _wait(stop: threading.Event, seconds: float) -> None:
    """Sleep up to ``seconds``, ending early (within ``STOP_CHECK``) once ``stop`` is set."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < deadline:  # noqa: ASYNC110 - a thread's Event
        await asyncio.sleep(min(STOP_CHECK, max(0.0, deadline - time.monotonic())))
