"""The webhook over HTTP: the FastAPI app around ``webhook.handle`` (403 without the right
secret header and nothing stored; 200 once stored), driven through Starlette's test client."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from sdesk.api.telegram import PATH, create_app
from sdesk.channels.telegram.intake import stored_update_ids
from sdesk.core.desk import Desk
from tests.telegram.botapi import BotApiServer
from tests.telegram.conftest import inbound, telegram_settings
from tests.telegram.updates import Updates


def test_the_app_checks_the_secret_and_stores_once(
    desk: Desk, server: BotApiServer, tg: Updates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDESK_TEST_TG_SECRET", "hook-secret")
    settings = telegram_settings(server, mode="webhook", secret_token_env="SDESK_TEST_TG_SECRET")
    update = json.dumps({**tg.text(tg.customer(1), "by webhook"), "update_id": 7})
    with TestClient(create_app(desk, settings)) as client:
        missing = client.post(PATH, content=update)
        wrong = client.post(
            PATH, content=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
        )
        assert (missing.status_code, wrong.status_code) == (403, 403)
        assert stored_update_ids(desk) == set()
        right = client.post(
            PATH, content=update, headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret"}
        )
        assert right.status_code == 200
    assert stored_update_ids(desk) == {7}
    assert [m.text for m in inbound(desk)] == ["by webhook"]


def test_the_desks_http_service_serves_the_webhook_on_a_real_socket(
    desk: Desk, server: BotApiServer, tg: Updates, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sdesk serve``'s HTTP service: uvicorn on a loopback port, the webhook mounted because
    the bot runs in webhook mode; stopping the service ends the server."""
    import socket
    import threading

    import httpx

    from sdesk.api.server import HttpService
    from sdesk.config import HttpSettings

    monkeypatch.setenv("SDESK_TEST_TG_SECRET", "hook-secret")
    settings = telegram_settings(server, mode="webhook", secret_token_env="SDESK_TEST_TG_SECRET")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    desk.settings = desk.settings.model_copy(
        update={"telegram": settings, "http": HttpSettings(listen=f"127.0.0.1:{port}")}
    )
    service = HttpService(desk, HttpSettings(listen=f"127.0.0.1:{port}"))
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert service.started.wait(10), "the HTTP server did not start listening"
        update = json.dumps({**tg.text(tg.customer(1), "over the socket"), "update_id": 9})
        answer = httpx.post(
            f"http://127.0.0.1:{port}{PATH}",
            content=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret"},
            timeout=10,
        )
        assert answer.status_code == 200
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive(), "the HTTP server did not stop"
    assert stored_update_ids(desk) == {9}
    assert [m.text for m in inbound(desk)] == ["over the socket"]
