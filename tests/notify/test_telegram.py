"""The satisfaction request by Telegram carries five buttons; pressing one rates the ticket
(via "telegram"). The real bot service and PTB sender against the local Bot API server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.core.enums import Role, Status
from sdesk.store.engine import open_store
from sdesk.store.models import Event
from tests.conftest import FakeClock
from tests.telegram.botapi import BotApiServer
from tests.telegram.conftest import TOKEN_ENV, fetch, send, telegram_settings, tickets
from tests.telegram.updates import Updates

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    with BotApiServer() as s:
        yield s


@pytest.fixture
def desk(
    tmp_path: Path, server: BotApiServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Desk]:
    monkeypatch.setenv(TOKEN_ENV, server.token)
    settings = Settings(desk_domain="desk.test", telegram=telegram_settings(server))
    d = Desk(open_store(tmp_path / "desk.db"), settings, clock=clock)
    d.add_agent("eli", name="Eli", role=Role.ENGINEER)
    yield d
    d.close()


def test_closed_asks_with_buttons_and_a_press_rates(
    desk: Desk, server: BotApiServer, clock: FakeClock
) -> None:
    tg = Updates(server)
    ann = tg.customer(1, language_code="ru")
    server.push(tg.text(ann, "help"))
    fetch(desk)
    send(desk)
    server.wait_sent(1)  # the acknowledgement
    [ticket] = tickets(desk)
    desk.set_status(ticket.number, "eli", Status.RESOLVED)
    clock.advance(minutes=1)
    desk.set_status(ticket.number, "eli", Status.CLOSED)
    send(desk)
    _, resolved, closed = server.wait_sent(3)
    # In her language (Telegram's language_code), not the desk's English.
    assert resolved.params["chat_id"] == ann.id and "ответьте" in resolved.params["text"]
    assert "1 до 5" in closed.params["text"]
    keyboard = closed.params["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in keyboard[0]] == ["1", "2", "3", "4", "5"]

    server.push(tg.callback(ann, keyboard[0][3]["callback_data"], message=closed.answer))
    fetch(desk)
    send(desk)
    [thanks] = [c for c in server.wait_sent(4)[3:]]
    assert "4/5" in thanks.params["text"] and thanks.params["text"].startswith("Спасибо")
    [t] = tickets(desk)
    assert (t.status, t.rating) == ("closed", 4)
    with desk.store.read() as s:
        [rated] = s.execute(select(Event).where(Event.kind == "ticket.rated")).scalars()
    assert json.loads(rated.data or "{}")["via"] == "telegram"

    # A button naming a ticket this chat never wrote on is refused.
    server.push(tg.callback(ann, "rate:99999:1", message=closed.answer))
    fetch(desk)
    send(desk)
    assert server.wait_sent(5)[4].params["text"].startswith("Эта кнопка")
    assert tickets(desk)[0].rating == 4
