"""Fixtures for telephony: the local Twilio server (``twilioapi.py``), a real SQLite desk set up
for Twilio (its token in the environment), and the desk's real HTTP server (uvicorn on a
loopback port) where Twilio's callbacks land."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from sdesk.api.server import HttpService
from sdesk.channels.services import OutboxService, PassResult
from sdesk.config import HttpSettings, Settings, TelephonySettings
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind, Role
from sdesk.core.inbound import ContactRef, Inbound, Sender
from sdesk.store.engine import open_store
from sdesk.store.models import Event, Message, Outbox, PhoneCall
from tests.conftest import FakeClock
from tests.twilio.twilioapi import AUTH_TOKEN, TwilioServer

TOKEN_ENV = "SDESK_TEST_TWILIO_TOKEN"
DESK_NUMBER = "+4930123456"  # the desk's caller id (Berlin)
ELI_PHONE = "+4915123456789"  # the agent's own mobile, rung first
ANN_PHONE = "+4915212345678"  # the customer's mobile
ANN_MAIL = "ann@example.org"


@pytest.fixture(scope="module")
def twilio_server() -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        yield server


@pytest.fixture
def twilio(twilio_server: TwilioServer) -> TwilioServer:
    twilio_server.reset()
    return twilio_server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def telephony(twilio: TwilioServer, **over: Any) -> TelephonySettings:
    values: dict[str, Any] = {
        "provider": "twilio",
        "from_number": DESK_NUMBER,
        "account_sid": twilio.account_sid,
        "auth_token_env": TOKEN_ENV,
        "api_base_url": twilio.root_url,
        "allowed_countries": ["DE", "AT"],
    }
    values.update(over)
    return TelephonySettings(**values)


def make_desk(
    folder: Path, twilio: TwilioServer, clock: FakeClock, *, public: bool = True, **over: Any
) -> Desk:
    port = free_port()
    http = HttpSettings(
        listen=f"127.0.0.1:{port}", public_url=f"http://127.0.0.1:{port}" if public else None
    )
    settings = Settings(
        desk_domain="desk.test",
        default_region="DE",
        telephony=telephony(twilio, **over),
        http=http,
    )
    desk = Desk(open_store(folder / "desk.db"), settings, clock=clock)
    desk.add_agent("eli", name="Eli", role=Role.ENGINEER, phone=ELI_PHONE)
    desk.add_agent("dana", name="Dana", role=Role.DISPATCHER, phone="+4915123456780")
    # Ann wrote by mail and gave her mobile too: one customer, two contacts.
    contacts = (ContactRef(ContactKind.EMAIL, ANN_MAIL), ContactRef(ContactKind.PHONE, ANN_PHONE))
    desk.intake(
        Inbound(
            channel=Channel.EMAIL,
            sender=Sender("Ann Lee", contacts),
            text="My router is down, please call me.",
            subject="Router down",
            external_id="mail-1@example.org",
            message_id="mail-1@example.org",
        )
    )
    return desk


@pytest.fixture
def desk(
    tmp_path: Path, twilio: TwilioServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Desk]:
    monkeypatch.setenv(TOKEN_ENV, AUTH_TOKEN)
    d = make_desk(tmp_path, twilio, clock)
    yield d
    d.close()


class Served:
    """The desk's HTTP service running on its loopback port; ``url(path)`` of a webhook."""

    def __init__(self, desk: Desk) -> None:
        assert desk.settings.http is not None
        self.settings = desk.settings.http
        self.service = HttpService(desk, self.settings)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.service.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        assert self.service.started.wait(10), "the HTTP server did not start listening"
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the HTTP server did not stop"

    def url(self, path: str) -> str:
        return f"http://{self.settings.listen}/twilio/{path}"


@pytest.fixture
def served(desk: Desk) -> Iterator[Served]:
    with Served(desk) as running:
        yield running


def send(desk: Desk) -> PassResult | None:
    """One pass of the outbox dispatcher (calls, hang-ups, texts)."""
    return OutboxService(desk).run_once()


def calls(desk: Desk) -> list[PhoneCall]:
    with desk.store.read() as s:
        rows = list(s.execute(select(PhoneCall).order_by(PhoneCall.id)).scalars())
        s.expunge_all()
        return rows


def messages(desk: Desk) -> list[Message]:
    with desk.store.read() as s:
        rows = list(s.execute(select(Message).order_by(Message.id)).scalars())
        s.expunge_all()
        return rows


def outbox_rows(desk: Desk) -> list[Outbox]:
    with desk.store.read() as s:
        rows = list(s.execute(select(Outbox).order_by(Outbox.id)).scalars())
        s.expunge_all()
        return rows


def written(desk: Desk) -> tuple[int, int, int, int]:
    """(messages, events, calls, outbox rows): what a refused request must leave as it was."""
    with desk.store.read() as s:
        return tuple(  # type: ignore[return-value]  # four counts, as the docstring says
            s.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (Message, Event, PhoneCall, Outbox)
        )
