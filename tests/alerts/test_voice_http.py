"""The voice call's key press over HTTP: the desk's HTTP service (uvicorn on loopback) takes
Twilio's signed post to ``/twilio/alerts/{notice}/gather``; a wrong signature is refused with
a JSON 403 and acknowledges nothing, the right one acknowledges as the agent called."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sdesk.api.server import HttpService
from sdesk.config import HttpSettings
from sdesk.core.alerts import signal
from sdesk.core.desk import Desk
from tests.alerts.conftest import MakeDesk, alerts_of, notices, runtime
from tests.alerts.test_escalation import PAGE_RULE, POLICY
from tests.conftest import FakeClock
from tests.twilio.twilioapi import TwilioServer

PUBLIC = "https://desk.example.com"


def paging_http_desk(make_desk: MakeDesk) -> tuple[Desk, HttpSettings]:
    """A paging desk whose ``[http]`` listens on a free loopback port behind ``PUBLIC``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http = HttpSettings(listen=f"127.0.0.1:{port}", public_url=PUBLIC)
    return make_desk(http=http, rules=[PAGE_RULE], policies=[POLICY]), http


@contextmanager
def serving(desk: Desk, http: HttpSettings) -> Iterator[str]:
    """The desk's HTTP service running; yields its local root URL."""
    service = HttpService(desk, http)
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert service.started.wait(10), "the HTTP server did not start listening"
        yield f"http://{http.listen}"
    finally:
        stop.set()
        thread.join(10)


def test_the_key_press_reaches_the_desk_signed_and_acknowledges(
    make_desk: MakeDesk, twilio: TwilioServer, clock: FakeClock
) -> None:
    desk, http = paging_http_desk(make_desk)
    rt = runtime(desk)
    signal(desk, "channel.down", key="k", text="down")
    rt.tail()
    clock.advance(minutes=5)
    rt.run_due()  # step 2: the call
    [voice] = notices(desk, medium="voice")
    call = twilio.last_call()
    path = f"/twilio/alerts/{voice.id}/gather"

    with serving(desk, http) as root:
        local = root + path
        pressed = twilio.call_params(call, Digits="1")
        forged = twilio.post(PUBLIC + path, pressed, signature="AAAA", send_to=local)
        assert forged.status_code == 403 and forged.json() == {"error": "bad Twilio signature"}
        unsigned = twilio.post(PUBLIC + path, pressed, signed=False, send_to=local)
        assert unsigned.status_code == 403
        assert alerts_of(desk)[0].state == "active"

        answer = twilio.post(PUBLIC + path, pressed, send_to=local)
        assert answer.status_code == 200
        assert "<Say>Acknowledged. Thank you.</Say>" in answer.text
    [alert] = alerts_of(desk)
    assert (alert.state, alert.acked_by, alert.acked_how) == ("acknowledged", "alice", "voice")


def test_an_agents_sms_ack_through_the_twilio_webhook_acknowledges_and_is_no_message(
    make_desk: MakeDesk, twilio: TwilioServer, clock: FakeClock
) -> None:
    """``ACK N`` texted from an agent's phone to the desk's number arrives on ``/twilio/sms``
    like any text: it acknowledges the alert, is answered by text and opens no ticket; the same
    words from a customer's phone are the customer's message."""
    from sqlalchemy import func, select

    from sdesk.store.models import Message
    from tests.alerts.conftest import PHONES

    desk, http = paging_http_desk(make_desk)
    rt = runtime(desk)
    signal(desk, "channel.down", key="k", text="down")
    rt.tail()
    [alert] = alerts_of(desk)

    def stored() -> int:
        with desk.store.read() as s:
            return int(s.execute(select(func.count()).select_from(Message)).scalar_one())

    with serving(desk, http) as root:
        local = root + "/twilio/sms"
        url = PUBLIC + "/twilio/sms"

        def text(sid: str, sender: str) -> dict[str, str]:
            return {
                "AccountSid": twilio.account_sid,
                "MessageSid": sid,
                "From": sender,
                "To": "+14155550100",
                "Body": f"ACK {alert.id}",
                "NumMedia": "0",
            }

        before = stored()
        customer = twilio.post(url, text("SM" + "c" * 32, "+14155559999"), send_to=local)
        assert customer.status_code == 200 and stored() == before + 1
        assert alerts_of(desk)[0].state == "active"
        params = text("SM" + "a" * 32, PHONES["bob"])
        answer = twilio.post(url, params, send_to=local)
        assert answer.status_code == 200
        assert f"<Message>Alert {alert.id} acknowledged. Thank you.</Message>" in answer.text
        assert stored() == before + 1
    [acked] = alerts_of(desk)
    assert (acked.state, acked.acked_by, acked.acked_how) == ("acknowledged", "bob", "sms")
