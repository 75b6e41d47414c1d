"""A batch reads at once what its updates would each ask (``ChatBatch.expect``,
``intake.Lookups``) and keeps those answers as it writes: the desk it makes must be exactly the
desk the same updates make one at a time (tickets, their numbers and states, messages,
customers, contacts, the bot's answers), whatever the batch boundaries."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from sdesk.channels.telegram.store import BotInfo, take
from sdesk.config import Settings, TelegramSettings
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from sdesk.store.rawsql import RawSql
from tests.telegram.updates import Updates, realistic_mix

SETTINGS = TelegramSettings(token_env="SDESK_UNUSED", base_url="http://127.0.0.1:9")


def _desk(path: Path) -> Desk:
    return Desk(open_store(path), Settings(desk_domain="desk.test", telegram=SETTINGS))


def _store(desk: Desk, raws: list[dict[str, Any]], size: int) -> None:
    info = BotInfo(None, 123, "sdesk_test_bot", SETTINGS, desk.settings.default_region)
    for start in range(0, len(raws), size):
        asyncio.run(take(desk, info, raws[start : start + size]))


def _picture(desk: Desk) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "tickets": "SELECT t.number, t.subject, t.status, c.name, t.chat_key FROM ticket t "
        "JOIN customer c ON c.id = t.customer_id ORDER BY t.number",
        "messages": "SELECT t.number, m.kind, m.text, m.notes, m.external_id FROM message m "
        "JOIN ticket t ON t.id = m.ticket_id ORDER BY m.id",
        "contacts": "SELECT k.kind, k.value, c.name FROM contact k JOIN customer c "
        "ON c.id = k.customer_id ORDER BY k.kind, k.value",
        "customers": "SELECT count(*) FROM customer",
        "outbox": "SELECT recipient, payload FROM outbox ORDER BY id",
        "updates": "SELECT update_id, kind, chat_id, media_group FROM telegram_update "
        "ORDER BY update_id",
    }
    with desk.store.read() as session:
        sql = RawSql(session)
        return {name: sql.all(query) for name, query in queries.items()}


@pytest.mark.parametrize("seed", [3, 11])
def test_batches_make_the_desk_one_update_at_a_time_makes(tmp_path: Path, seed: int) -> None:
    tg = Updates(seed=seed, now=lambda: 1_796_000_000.0)
    ann = tg.customer(5)
    extra = [
        tg.contact(ann, "+79161234567"),  # a shared phone joins ann's contacts...
        tg.text(ann, "and now by phone too"),
        tg.command(ann, "/new"),
    ]
    mix = [*realistic_mix(tg, 500, customers=25), *extra, *realistic_mix(tg, 100, customers=8)]
    raws = [json.loads(json.dumps({"update_id": 1000 + n, **u})) for n, u in enumerate(mix)]
    batched, single = _desk(tmp_path / "batched.db"), _desk(tmp_path / "single.db")
    try:
        _store(batched, raws, 100)
        _store(single, raws, 1)
        one, other = _picture(batched), _picture(single)
    finally:
        batched.close()
        single.close()
    assert len(one["messages"]) > 400 and len(one["tickets"]) >= 25
    for name in one:
        assert one[name] == other[name], name
