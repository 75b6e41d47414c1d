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
