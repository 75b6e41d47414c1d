"""The local Twilio server against the real ``twilio.rest.Client`` made by sdesk's factory:
it speaks what the channel relies on (resources, errors with Twilio's codes, auth), counts
requests, and signs callbacks as Twilio does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from sdesk.channels.twilio.client import TwilioConfigError, make_client, rebase
from sdesk.config import TelephonySettings
from tests.twilio.twilioapi import AUTH_TOKEN, TwilioServer

TOKEN_ENV = "SDESK_TEST_TWILIO_TOKEN"


@pytest.fixture(scope="module")
def twilio() -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        yield server


@pytest.fixture
def settings(twilio: TwilioServer, monkeypatch: pytest.MonkeyPatch) -> TelephonySettings:
    twilio.reset()
    monkeypatch.setenv(TOKEN_ENV, AUTH_TOKEN)
    return TelephonySettings(
        provider="twilio",
        from_number="+493012345678",
        account_sid=twilio.account_sid,
        auth_token_env=TOKEN_ENV,
        api_base_url=twilio.root_url,
    )


def test_calls_create_fetch_update_through_the_real_client(
    twilio: TwilioServer, settings: TelephonySettings
) -> None:
    client = make_client(settings)
    call = client.calls.create(
        to="+491701234567",
        from_="+493012345678",
        twiml="<Response><Say>hi</Say></Response>",
        status_callback="http://127.0.0.1:1/twilio/call/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
    )
    assert call.sid.startswith("CA") and call.status == "queued"
    assert twilio.calls[call.sid].events == ["initiated", "ringing", "answered", "completed"]
    twilio.progress(call.sid, "in-progress", notify=False)
    assert client.calls(call.sid).fetch().status == "in-progress"
    ended = client.calls(call.sid).update(status="completed")
    assert ended.status == "completed" and ended.duration == "0"
    assert twilio.kinds() == {"calls.create": 1, "calls.fetch": 1, "calls.update": 1}


def test_messages_and_twilio_errors(twilio: TwilioServer, settings: TelephonySettings) -> None:
    client = make_client(settings)
    sent = client.messages.create(to="+491701234567", from_="+493012345678", body="x" * 161)
    assert sent.sid.startswith("SM") and sent.num_segments == "2"
    twilio.opted_out.add("+491709999999")
    with pytest.raises(TwilioRestException) as stopped:
        client.messages.create(to="+491709999999", from_="+493012345678", body="hello")
    assert (stopped.value.status, stopped.value.code) == (400, 21610)
    twilio.fail("messages.create", 503, 20500, "Internal Server Error")
    with pytest.raises(TwilioRestException) as down:
        client.messages.create(to="+491701234567", from_="+493012345678", body="hello")
    assert (down.value.status, down.value.code) == (503, 20500)
    assert twilio.count("messages.create") == 3 and len(twilio.texts) == 1


def test_a_wrong_token_is_refused(twilio: TwilioServer, settings: TelephonySettings) -> None:
    client = make_client(settings, token="wrong")
    with pytest.raises(TwilioRestException) as refused:
        client.calls("CA0").fetch()
    assert (refused.value.status, refused.value.code) == (401, 20003)


def test_the_factory_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(TwilioConfigError, match="provider"):
        make_client(TelephonySettings())
    with pytest.raises(TwilioConfigError, match="account_sid"):
        make_client(TelephonySettings(provider="twilio"))
    with pytest.raises(TwilioConfigError, match=TOKEN_ENV):
        make_client(
            TelephonySettings(provider="twilio", account_sid="AC1", auth_token_env=TOKEN_ENV)
        )
    assert rebase("https://api.twilio.com/2010-04-01/x.json", "http://h:1/") == (
        "http://h:1/2010-04-01/x.json"
    )
    assert rebase("https://example.com/a", "http://h:1") == "https://example.com/a"


def test_callbacks_are_signed_as_twilio_signs_them(twilio: TwilioServer) -> None:
    params = {"CallSid": "CA1", "CallStatus": "ringing"}
    url = "https://help.example.com/twilio/call/status"
    assert RequestValidator(AUTH_TOKEN).validate(url, params, twilio.signature(url, params))
    assert not RequestValidator("other").validate(url, params, twilio.signature(url, params))
