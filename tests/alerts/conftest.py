"""Alert fixtures: a desk with agents who can be reached every way, and the real servers that
reach them: aiosmtpd (email), a local ntfy-like endpoint (push, through apprise's ``ntfy://``)
and the local Twilio server (SMS, calls). The clock is a test clock; nothing sleeps."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sdesk.alerts.notifiers import notifiers
from sdesk.alerts.runtime import AlertRuntime
from sdesk.config import HttpSettings, Settings, TelephonySettings
from sdesk.config_alerts import AlertSettings
from sdesk.core.alerts import set_agent_reach
from sdesk.core.desk import Desk
from sdesk.core.enums import Priority
from sdesk.store.alertmodels import Alert, AlertNotice, AlertStep
from sdesk.store.engine import open_store
from tests.conftest import T0, FakeClock
from tests.factories import email as email_in
from tests.integration.mailservers import SmtpServer
from tests.integration.test_smtp_outbox import IMAP_ENV, mailbox_settings
from tests.twilio.twilioapi import AUTH_TOKEN, TwilioServer

TOKEN_ENV = "SDESK_TEST_ALERTS_TWILIO_TOKEN"
PHONES = {"alice": "+14155550101", "bob": "+14155550102", "carol": "+14155550103"}


class PushServer:
    """A local endpoint speaking ntfy's JSON publish API (``POST /`` with topic, title,
    message), as apprise's ``ntfy://`` plugin posts it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server._lock:
                    server.received.append(json.loads(body or b"{}"))
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"id":"m1","event":"message"}')

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, topic: str) -> str:
        return f"ntfy://127.0.0.1:{self.port}/{topic}"

    def topics(self) -> list[str]:
        with self._lock:
            return [m["topic"] for m in self.received]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


@pytest.fixture(scope="module")
def push_server() -> Iterator[PushServer]:
    server = PushServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def twilio() -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        yield server


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def servers(
    push_server: PushServer, twilio: TwilioServer, smtp: SmtpServer
) -> tuple[PushServer, TwilioServer, SmtpServer]:
    push_server.received.clear()
    push_server.status = 200
    twilio.reset()
    smtp.clear()
    return push_server, twilio, smtp


MakeDesk = Callable[..., Desk]


@pytest.fixture
def make_desk(
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    servers: tuple[PushServer, TwilioServer, SmtpServer],
) -> Iterator[MakeDesk]:
    """``make(**alerts)`` → a desk with agents alice, bob (group field) and carol, each with
    an email, phone and push URL; on call: alice this week, bob the next."""
    push, twilio, smtp = servers
    monkeypatch.setenv(IMAP_ENV, "imap-secret")
    monkeypatch.setenv(TOKEN_ENV, AUTH_TOKEN)
    desks: list[Desk] = []

    def make(*, http: HttpSettings | None = None, **alerts: Any) -> Desk:
        values: dict[str, Any] = {
            "rotations": [{"name": "primary", "agents": ["alice", "bob"], "start": T0.isoformat()}],
        }
        values.update(alerts)
        settings = Settings(
            desk_domain="desk.test",
            mailboxes=[mailbox_settings(smtp.host, smtp.port)],
            telephony=TelephonySettings(
                provider="twilio",
                account_sid=twilio.account_sid,
                auth_token_env=TOKEN_ENV,
                from_number="+14155550100",
                api_base_url=twilio.root_url,
            ),
            http=http or HttpSettings(public_url="https://desk.example.com"),
            alerts=AlertSettings(**values),
        )
        desk = Desk(open_store(tmp_path / "desk.db"), settings, clock=clock)
        desks.append(desk)
        if not desks[:-1]:  # the first desk on this file: its agents
            for login in ("alice", "bob", "carol"):
                desk.add_agent(login, email=f"{login}@desk.test")
                set_agent_reach(
                    desk,
                    login,
                    phone=PHONES[login],
                    push_target=push.url(login),
                    group="field" if login == "bob" else None,
                )
        return desk

    yield make
    for desk in desks:
        desk.close()


def runtime(desk: Desk) -> AlertRuntime:
    """The engine without its scheduler: ``tail`` and ``run_due`` driven by the test clock."""
    rt = AlertRuntime(desk, notifiers(desk.settings))
    rt.tail()  # starts the rules' cursor after what the desk already holds
    return rt


_n = iter(range(1, 100_000))


def ticket(desk: Desk, *, priority: Priority = Priority.NORMAL, subject: str = "Help") -> int:
    n = next(_n)
    inbound = email_in(f"<t{n}@example.org>", subject=subject)
    result = desk.intake(replace(inbound, priority=priority, received_at=desk.clock()))
    assert result.ticket_number is not None
    return result.ticket_number


def alerts_of(desk: Desk) -> list[Alert]:
    with desk.store.read() as s:
        return list(s.execute(select(Alert).order_by(Alert.id)).scalars())


def notices(desk: Desk, **where: Any) -> list[AlertNotice]:
    with desk.store.read() as s:
        q = select(AlertNotice).order_by(AlertNotice.id)
        for k, v in where.items():
            q = q.where(getattr(AlertNotice, k) == v)
        return list(s.execute(q).scalars())


def steps(desk: Desk) -> list[tuple[int, int, int]]:
    with desk.store.read() as s:
        rows = s.execute(select(AlertStep).order_by(AlertStep.id)).scalars()
        return [(r.alert_id, r.repeat, r.step) for r in rows]


def at(clock: FakeClock) -> datetime:
    return clock.now
