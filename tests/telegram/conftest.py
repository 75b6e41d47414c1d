"""Fixtures for the Telegram channel: the local Bot API server (``botapi.py``), update builders
(``updates.py``) and a real SQLite desk configured for the bot, its token in the environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sdesk.channels.services import OutboxService, PassResult
from sdesk.channels.telegram.service import TelegramService
from sdesk.config import Settings, TelegramSettings
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from sdesk.store.models import Attachment, Message, Ticket
from tests.telegram.botapi import BotApiServer
from tests.telegram.updates import Updates

TOKEN_ENV = "SDESK_TEST_TG_TOKEN"


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    with BotApiServer() as s:
        yield s


@pytest.fixture
def tg(server: BotApiServer) -> Updates:
    return Updates(server)


def telegram_settings(server: BotApiServer, **over: Any) -> TelegramSettings:
    values: dict[str, Any] = {
        "token_env": TOKEN_ENV,
        "base_url": server.root_url,
        "poll_timeout_seconds": 1,
        "timeout_seconds": 5,
    }
    values.update(over)
    return TelegramSettings(**values)


@pytest.fixture
def desk(tmp_path: Path, server: BotApiServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setenv(TOKEN_ENV, server.token)
    settings = Settings(desk_domain="desk.test", telegram=telegram_settings(server))
    d = Desk(open_store(tmp_path / "desk.db"), settings)
    d.add_agent("eli", name="Eli")
    yield d
    d.close()


def fetch(desk: Desk) -> PassResult:
    """``sdesk fetch``'s Telegram pass: every pending update stored."""
    assert desk.settings.telegram is not None
    return TelegramService(desk, desk.settings.telegram).run_once()


def send(desk: Desk) -> PassResult | None:
    """One pass of the outbox dispatcher (replies and the bot's answers)."""
    return OutboxService(desk).run_once()


def messages(desk: Desk) -> list[Message]:
    with desk.store.read() as s:
        rows = list(s.execute(select(Message).order_by(Message.id)).scalars())
        s.expunge_all()
        return rows


def inbound(desk: Desk) -> list[Message]:
    return [m for m in messages(desk) if m.kind == "inbound"]


def tickets(desk: Desk) -> list[Ticket]:
    with desk.store.read() as s:
        rows = list(s.execute(select(Ticket).order_by(Ticket.id)).scalars())
        s.expunge_all()
        return rows


def attachments(desk: Desk, message_id: int | None) -> list[Attachment]:
    with desk.store.read() as s:
        rows = list(
            s.execute(
                select(Attachment)
                .where(Attachment.message_id == message_id)
                .order_by(Attachment.id)
            ).scalars()
        )
        s.expunge_all()
        return rows
