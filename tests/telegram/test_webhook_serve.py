"""Webhook mode end to end, as ``sdesk serve`` runs it: the Telegram service tells the (local)
Bot API server where to post at its start — ``[http] public_url`` + ``/telegram/webhook``, the
secret, the kinds of update — only when what Telegram has differs; the HTTP service (real
uvicorn on a loopback port) takes the posts; ``sdesk doctor`` compares the webhook with the
mode."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sdesk.api.server import HttpService
from sdesk.channels.telegram.intake import stored_update_ids
from sdesk.channels.telegram.poller import ALLOWED
from sdesk.channels.telegram.service import TelegramService
from sdesk.cli import app as cli_app
from sdesk.config import HttpSettings
from sdesk.core.desk import Desk
from sdesk.core.health import service_key
from sdesk.store.models import MailboxHealth
from tests.telegram.botapi import BotApiServer
from tests.telegram.conftest import TOKEN_ENV, inbound, telegram_settings
from tests.telegram.updates import Updates

SECRET_ENV = "SDESK_TEST_TG_SECRET"
PUBLIC = "https://help.example.test/"
HOOK = "https://help.example.test/telegram/webhook"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _webhook_desk(desk: Desk, server: BotApiServer, public_url: str | None = PUBLIC) -> int:
    port = _port()
    desk.settings = desk.settings.model_copy(
        update={
            "telegram": telegram_settings(server, mode="webhook", secret_token_env=SECRET_ENV),
            "http": HttpSettings(listen=f"127.0.0.1:{port}", public_url=public_url),
        }
    )
    return port


@contextmanager
def serving(desk: Desk) -> Iterator[HttpService]:
    """The two services ``sdesk serve`` runs for a bot in webhook mode, each in its thread."""
    assert desk.settings.telegram is not None and desk.settings.http is not None
    bot = TelegramService(desk, desk.settings.telegram)
    http = HttpService(desk, desk.settings.http)
    stop = threading.Event()
    threads = [
        threading.Thread(target=service.run, args=(stop,), daemon=True) for service in (bot, http)
    ]
    for thread in threads:
        thread.start()
    try:
        assert http.started.wait(10), "the HTTP server did not start listening"
        yield http
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
    assert not any(t.is_alive() for t in threads), "a service did not stop"


def _set_calls(server: BotApiServer) -> int:
    return sum(1 for method, _ in server.calls if method == "setWebhook")


def _wait_for(predicate: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_serve_sets_the_webhook_once_and_takes_the_posts(
    desk: Desk, server: BotApiServer, tg: Updates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "hook-secret")
    port = _webhook_desk(desk, server)
    ann = tg.customer(1)
    first = server.push_many([tg.text(ann, "while the desk was down")])  # kept, not dropped
    with serving(desk):
        assert _wait_for(lambda: server.webhook_url == HOOK), server.webhook_url
        assert server.webhook_secret == "hook-secret"
        assert sorted(server.webhook_allowed_updates) == sorted(ALLOWED)
        later = server.push_many([tg.text(ann, "over the webhook"), tg.text(ann, "and again")])
        # Telegram posts to the public URL; here the server posts to the loopback port.
        delivered = server.deliver_webhook(url=f"http://127.0.0.1:{port}/telegram/webhook")
        assert delivered == first + later
    assert stored_update_ids(desk) == set(first + later)
    assert [m.text for m in inbound(desk)] == [
        "while the desk was down", "over the webhook", "and again",
    ]  # fmt: skip
    assert _set_calls(server) == 1
    # A second start finds the webhook as it should be: not set again.
    with serving(desk):
        assert _wait_for(lambda: sum(1 for m, _ in server.calls if m == "getWebhookInfo") >= 2)
    assert _set_calls(server) == 1
    # Someone pointed it elsewhere: the next start puts it back.
    server.webhook_url = "https://elsewhere.example.test/hook"
    with serving(desk):
        assert _wait_for(lambda: server.webhook_url == HOOK)
    assert _set_calls(server) == 2


def test_without_a_public_url_the_health_says_why_and_nothing_is_set(
    desk: Desk, server: BotApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "hook-secret")
    _webhook_desk(desk, server, public_url=None)
    key = service_key(f"telegram:{server.token.split(':')[0]}")

    def said() -> bool:
        with desk.store.read() as session:
            row = session.get(MailboxHealth, key)
            return row is not None and "public_url" in (row.last_error or "")

    with serving(desk):
        assert _wait_for(said), "the bot's health does not say what is missing"
    assert _set_calls(server) == 0 and server.webhook_url == ""


def _config(tmp_path: Path, server: BotApiServer, public_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[telegram]\ntoken_env = "{TOKEN_ENV}"\nbase_url = "{server.root_url}"\n'
        f'mode = "webhook"\nsecret_token_env = "{SECRET_ENV}"\n'
        f'[http]\nlisten = "127.0.0.1:{_port()}"\npublic_url = "{public_url}"\n',
        encoding="utf-8",
    )
    return path


def test_doctor_compares_the_webhook_with_the_mode(
    tmp_path: Path, server: BotApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, server.token)
    monkeypatch.setenv(SECRET_ENV, "hook-secret")
    args = ["--config", str(_config(tmp_path, server, PUBLIC)), "--db", str(tmp_path / "d.db")]
    unset = CliRunner().invoke(cli_app, [*args, "doctor"])
    assert unset.exit_code != 0
    assert "FAIL mode is webhook but no webhook is set at Telegram" in unset.output
    server.webhook_url = "https://elsewhere.example.test/hook"
    server.webhook_allowed_updates = list(ALLOWED)
    elsewhere = CliRunner().invoke(cli_app, [*args, "doctor"])
    assert f"the webhook is https://elsewhere.example.test/hook, not {HOOK}" in elsewhere.output
    server.webhook_url = HOOK
    right = CliRunner().invoke(cli_app, [*args, "doctor"])
    assert f"ok   webhook set: {HOOK}" in right.output, right.output
    assert "hook-secret" not in right.output and server.token not in right.output
