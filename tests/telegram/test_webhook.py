"""Webhook mode: the framework-free handler checks Telegram's secret header (a wrong or missing
one is 403 and nothing is stored), stores through the poller's path, answers 200 only after the
commit, and a re-delivered update is stored once."""

from __future__ import annotations

import json

import pytest

from sdesk.channels.telegram.intake import stored_update_ids
from sdesk.channels.telegram.webhook import handle
from sdesk.config import TelegramSettings
from sdesk.core.desk import Desk
from tests.telegram.botapi import BotApiServer
from tests.telegram.conftest import inbound, telegram_settings
from tests.telegram.updates import Updates

SECRET_ENV = "SDESK_TEST_TG_SECRET"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
def settings(server: BotApiServer, monkeypatch: pytest.MonkeyPatch) -> TelegramSettings:
    monkeypatch.setenv(SECRET_ENV, "s3cret-Value_1")
    return telegram_settings(server, mode="webhook", secret_token_env=SECRET_ENV)


def body(update: dict[str, object], update_id: int) -> bytes:
    return json.dumps({**update, "update_id": update_id}).encode()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {HEADER: "wrong"},
        {HEADER: ""},
        {HEADER: "s3cret-Value_1x"},
        {"X-Other": "s3cret-Value_1"},
    ],
)
def test_a_wrong_or_missing_secret_is_403_and_nothing_is_stored(
    desk: Desk, settings: TelegramSettings, tg: Updates, headers: dict[str, str]
) -> None:
    status, _ = handle(desk, settings, headers, body(tg.text(tg.customer(1), "hi"), 1))
    assert status == 403
    assert stored_update_ids(desk) == set() and inbound(desk) == []


def test_no_secret_configured_refuses_everything(
    desk: Desk, server: BotApiServer, tg: Updates
) -> None:
    settings = telegram_settings(server, mode="webhook")
    status, _ = handle(desk, settings, {HEADER: ""}, body(tg.text(tg.customer(1), "hi"), 1))
    assert status == 403 and inbound(desk) == []


def test_the_right_secret_stores_once_then_answers_200(
    desk: Desk, settings: TelegramSettings, tg: Updates
) -> None:
    update = body(tg.text(tg.customer(1), "hello by webhook"), 41)
    headers = {HEADER.lower(): "s3cret-Value_1"}
    assert handle(desk, settings, headers, update) == (200, b"ok")
    assert handle(desk, settings, headers, update) == (200, b"ok")  # Telegram re-delivers
    assert [m.text for m in inbound(desk)] == ["hello by webhook"]
    assert stored_update_ids(desk) == {41}


def test_a_body_that_is_not_json_is_quarantined_and_acknowledged(
    desk: Desk, settings: TelegramSettings
) -> None:
    status, _ = handle(desk, settings, {HEADER: "s3cret-Value_1"}, b"{not json")
    assert status == 200
    [row] = desk.quarantined()
    assert row.channel == "telegram"
