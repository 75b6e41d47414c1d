"""The channel's store path on both databases: a batch mixing messages, an edit, an album, a
shared contact, a /new dialogue and a malformed update, taken twice, gives the same desk on
SQLite and PostgreSQL (``core/chats.py`` writes through ``RawSql``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sdesk.channels.telegram.intake import stored_update_ids
from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from tests.conftest import new_desk_url
from tests.telegram.botapi import BotApiServer
from tests.telegram.conftest import (
    TOKEN_ENV,
    attachments,
    fetch,
    inbound,
    telegram_settings,
    tickets,
)
from tests.telegram.updates import Updates


@pytest.fixture(params=["sqlite", "postgresql"])
def any_desk(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    server: BotApiServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Desk]:
    monkeypatch.setenv(TOKEN_ENV, server.token)
    url = new_desk_url(request.param, request, tmp_path)
    store = open_store(url, attachments=tmp_path / "files")
    desk = Desk(store, Settings(desk_domain="desk.test", telegram=telegram_settings(server)))
    yield desk
    desk.close()


def test_a_mixed_batch_is_stored_alike_on_both_databases(
    any_desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    desk = any_desk
    ann, bob = tg.customer(1), tg.customer(2)
    first = tg.text(ann, "Printer jammed")
    question = tg.bot_message(bob.id, "What is your request about?")
    ids = server.push_many(
        [
            first,
            tg.edited(first, "Printer on floor 2 jammed"),
            *tg.album(ann, photos=2, caption="photos"),
            tg.contact(ann, "+14155550123", own=True),
            tg.malformed(),
            tg.command(bob, "/new"),
            tg.callback(bob, "sdesk:cat:2", message=question),
            tg.text(bob, "Need a new badge"),
            tg.callback(bob, "sdesk:send", message=question),
        ]
    )
    result = fetch(desk)
    assert result.outcome == "done", result.line
    assert "quarantined 1" in result.line
    got = inbound(desk)
    assert [m.text for m in got] == [
        "Printer on floor 2 jammed",
        "photos",
        f"[contact {_name(tg, 1)} 14155550123]",
        "Need a new badge",
    ]
    assert len(attachments(desk, got[1].id)) == 2
    assert [t.subject for t in tickets(desk)] == ["Printer jammed", "Request: Need a new badge"]
    assert stored_update_ids(desk) == set(ids)
    fetch(desk)  # a second pass takes nothing again
    assert len(inbound(desk)) == 4


def _name(tg: Updates, n: int) -> str:
    who = tg.customer(n)
    return " ".join(x for x in (who.first_name, who.last_name) if x)
