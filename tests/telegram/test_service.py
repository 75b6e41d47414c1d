"""The bot as a service: the token never reaches a log line (httpx logs every request URL,
which holds it), a stop ends a waiting long poll within a second or two, ``sdesk fetch`` and
``sdesk doctor`` report the bot, and a long gap since the last poll is a health warning."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sdesk.channels.telegram.poller import GAP_WARNING, TelegramPoller
from sdesk.channels.telegram.service import TelegramService
from sdesk.cli import app as cli_app
from sdesk.core.desk import Desk
from sdesk.core.health import service_key
from sdesk.store.models import MailboxHealth
from tests.telegram.botapi import BotApiServer
from tests.telegram.conftest import TOKEN_ENV, fetch, inbound
from tests.telegram.updates import Updates


def test_the_token_never_reaches_a_log_line(
    desk: Desk, server: BotApiServer, tg: Updates, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.push(tg.text(tg.customer(1), "hi"))
    fetch(desk)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "getUpdates" in text  # httpx's request lines were logged...
    assert server.token not in text  # ...without the token
    assert "<token>" in text


def test_a_stop_ends_a_waiting_long_poll_promptly(desk: Desk, server: BotApiServer) -> None:
    assert desk.settings.telegram is not None
    desk.settings.telegram.poll_timeout_seconds = 30
    service = TelegramService(desk, desk.settings.telegram)
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not any(c == "getUpdates" for c, _ in server.calls):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    began = time.monotonic()
    stop.set()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - began < 2.0


def test_a_gap_of_more_than_twenty_hours_is_a_health_warning(
    desk: Desk, server: BotApiServer
) -> None:
    poller = TelegramPoller(desk, desk.settings.telegram, server.token)  # type: ignore[arg-type]
    with desk.store.write() as s:
        s.add(
            MailboxHealth(
                mailbox=service_key(f"telegram:{server.bot_id}"),
                connected=False,
                since=desk.clock() - GAP_WARNING - timedelta(hours=2),
                last_poll_at=desk.clock() - GAP_WARNING - timedelta(hours=2),
            )
        )
    poller.fetch_once()
    with desk.store.read() as s:
        row = s.get(MailboxHealth, service_key(f"telegram:{server.bot_id}"))
        assert row is not None and row.last_error is not None
        assert "no poll for 22 hours" in row.last_error


def _config(tmp_path: Path, server: BotApiServer) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[telegram]\ntoken_env = "{TOKEN_ENV}"\nbase_url = "{server.root_url}"\n',
        encoding="utf-8",
    )
    return path


def test_sdesk_fetch_takes_the_pending_updates(
    tmp_path: Path, server: BotApiServer, tg: Updates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, server.token)
    server.push_many([tg.text(tg.customer(1), "one"), tg.text(tg.customer(2), "two")])
    db = tmp_path / "desk.db"
    result = CliRunner().invoke(
        cli_app, ["--config", str(_config(tmp_path, server)), "--db", str(db), "fetch"]
    )
    assert result.exit_code == 0, result.output
    assert "telegram: updates 2, new 2" in result.output
    assert server.token not in result.output
    desk = Desk.open(db)
    try:
        assert sorted(m.text for m in inbound(desk)) == ["one", "two"]
    finally:
        desk.close()


def test_sdesk_doctor_checks_the_bot(
    tmp_path: Path, server: BotApiServer, tg: Updates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, server.token)
    server.push(tg.text(tg.customer(1), "waiting"))
    args = ["--config", str(_config(tmp_path, server)), "--db", str(tmp_path / "d.db"), "doctor"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    assert "ok   getMe: the bot is @sdesk_test_bot" in result.output
    assert "ok   no webhook set: polling works" in result.output
    assert "1 update(s) waiting at Telegram" in result.output
    monkeypatch.setenv(TOKEN_ENV, "999:wrong-token-zzzzzzzzzzzzzzzzzzzzzzzz")
    bad = CliRunner().invoke(cli_app, args)
    assert bad.exit_code != 0
    assert "FAIL getMe" in bad.output and "wrong-token" not in bad.output
