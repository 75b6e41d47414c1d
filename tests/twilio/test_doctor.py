"""``sdesk doctor``'s telephony lines against the local Twilio server, and what happens when
the auth token cannot be read."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sdesk.api.app import create_app
from sdesk.channels.twilio.doctor import check
from sdesk.core.desk import Desk
from tests.twilio.conftest import TOKEN_ENV
from tests.twilio.twilioapi import TwilioServer


def test_doctor_says_the_account_works(desk: Desk, twilio: TwilioServer) -> None:
    lines = check(desk.settings)
    assert all(ok for ok, _ in lines), lines
    text = "\n".join(line for _, line in lines)
    assert "caller ID +4930123456" in text and "account sdesk test account is active" in text
    assert "webhooks: http://127.0.0.1:" in text
    assert twilio.kinds() == {"accounts.fetch": 1}


def test_doctor_names_a_refused_token_and_a_missing_one(
    desk: Desk, twilio: TwilioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "wrong")
    ok, line = check(desk.settings)[-1]
    assert not ok and "auth token was refused (error 20003)" in line
    monkeypatch.delenv(TOKEN_ENV)
    ok, line = check(desk.settings)[-1]
    assert not ok and TOKEN_ENV in line and "wrong" not in line


def test_without_a_token_the_webhooks_say_so_and_store_nothing(
    desk: Desk, twilio: TwilioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.twilio.conftest import written

    monkeypatch.delenv(TOKEN_ENV)
    before = written(desk)
    with TestClient(create_app(desk)) as client:
        answer = client.post("/twilio/sms", data={"MessageSid": "SM1", "From": "+4915212345678"})
    assert answer.status_code == 503 and TOKEN_ENV in answer.json()["error"]
    assert written(desk) == before


def test_the_desks_services_include_twilio(desk: Desk) -> None:
    """``sdesk serve``, ``sdesk fetch`` and the lone console build them: the dispatcher sends
    calls and texts through Twilio, the call watcher follows calls under way."""
    from sdesk.channels.services import OutboxService, build_services

    services = build_services(desk, [], http=False)
    names = [s.name for s in services]
    assert "twilio:calls" in names
    (outbox,) = [s for s in services if isinstance(s, OutboxService)]
    assert {"phone", "sms"} <= set(outbox.dispatcher.senders)
    assert "twilio:calls" not in [s.name for s in build_services(desk, [], telephony=False)]
