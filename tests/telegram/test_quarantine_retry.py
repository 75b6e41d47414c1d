"""``sdesk quarantine retry`` for Telegram: a quarantined raw update that reads now (an older
sdesk could not read it) is stored as the poller would have stored it, once; one that still
cannot be read stays quarantined with its error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sdesk.cli import app as cli_app
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel
from sdesk.store.models import RawInbound, TelegramUpdate
from tests.telegram.botapi import BotApiServer
from tests.telegram.conftest import TOKEN_ENV, fetch, inbound, tickets
from tests.telegram.updates import Updates


def _config(tmp_path: Path, server: BotApiServer) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[telegram]\ntoken_env = "{TOKEN_ENV}"\nbase_url = "{server.root_url}"\n'
        "acknowledge = false\n",
        encoding="utf-8",
    )
    return path


def _quarantined_by_an_older_sdesk(desk: Desk, bot: int, update: dict[str, Any]) -> None:
    """What the poller writes for an update it cannot read (``store._one``), here for one this
    sdesk reads: the raw JSON quarantined with the error, its id recorded as taken."""
    raw = json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode()
    uid = int(update["update_id"])
    with desk.chat_batch(1) as batch:
        batch.quarantine(
            Channel.TELEGRAM, raw, "unreadable update: KeyError: 'chat'", f"telegram:{bot}/{uid}"
        )
        batch.record(bot, uid, raw, kind="quarantined")


def _raws(desk: Desk) -> list[RawInbound]:
    with desk.store.read() as s:
        rows = list(s.execute(select(RawInbound).order_by(RawInbound.id)).scalars())
        s.expunge_all()
        return rows


def _records(desk: Desk) -> dict[int, TelegramUpdate]:
    with desk.store.read() as s:
        rows = list(s.execute(select(TelegramUpdate)).scalars())
        s.expunge_all()
        return {r.update_id: r for r in rows}


def test_a_quarantined_update_that_reads_now_is_stored_once(
    desk: Desk,
    server: BotApiServer,
    tg: Updates,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TOKEN_ENV, server.token)
    bot = int(server.token.split(":")[0])
    ann = tg.customer(1)
    # A malformed update through the real poller: quarantined, and it stays so.
    server.push_many([tg.text(ann, "the first"), tg.malformed()])
    assert "quarantined 1" in fetch(desk).line
    later = {"update_id": 500, **tg.text(ann, "the printer again, read after an upgrade")}
    _quarantined_by_an_older_sdesk(desk, bot, later)
    db = desk.store.database
    assert db is not None
    args = ["--config", str(_config(tmp_path, server)), "--db", db, "quarantine", "retry"]

    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 1, result.output  # the malformed one stays
    malformed, readable = _raws(desk)
    assert f"{readable.id}: update 500: message" in result.output
    assert f"{malformed.id}: still quarantined: unreadable update" in result.output
    assert "retried 2: 1 stored, 1 still quarantined" in result.output
    assert (readable.state, readable.error) == ("stored", None)
    assert malformed.state == "quarantined"
    texts = [m.text for m in inbound(desk)]
    assert texts == ["the first", "the printer again, read after an upgrade"]
    [ticket] = tickets(desk)  # joined the chat's open ticket, as the poller would have
    record = _records(desk)[500]
    assert record.kind == "message" and record.message_id is not None
    assert record.chat_id == str(ann.id)

    again = CliRunner().invoke(cli_app, args)  # only the malformed one is left to try
    assert "retried 1: 0 stored, 1 still quarantined" in again.output
    assert len(inbound(desk)) == 2  # never twice
    assert ticket.number == tickets(desk)[0].number
