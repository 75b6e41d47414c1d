"""The cabinet served for real: ``HttpService`` (uvicorn on a free 127.0.0.1 port, in a thread)
on a desk in a temporary folder, and small helpers to use it with httpx like a browser would
(cookies, the forms' CSRF tokens). Sign-in links are read from the outbox row the desk queued
(the browser test reads them from the mail an SMTP server received instead)."""

from __future__ import annotations

import json
import re
import socket
import threading
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select

from sdesk.api.server import HttpService
from sdesk.config import HttpSettings, MailboxSettings, Settings, SmtpSettings
from sdesk.core.desk import Desk
from sdesk.store.models import Outbox

SMTP_ENV = "SDESK_TEST_CABINET_SMTP"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_KEY = re.compile(r'name="key" value="([^"]+)"')
_LINK = re.compile(r"(https?://\S+/signin/\S+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cabinet_settings(port: int, smtp_port: int, *, public_url: str | None = None) -> Settings:
    box = MailboxSettings(
        name="support",
        host="127.0.0.1",
        security="none",
        username="support",
        password_env=SMTP_ENV,
        address="support@desk.test",
        display_name="Northwind Support",
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, security="none", timeout_seconds=5),
    )
    http = HttpSettings(
        listen=f"127.0.0.1:{port}", public_url=public_url or f"http://127.0.0.1:{port}"
    )
    return Settings(desk_domain="desk.test", mailboxes=[box], http=http)


@dataclass
class Site:
    """A running cabinet: ``url`` to reach it, ``desk`` behind it."""

    desk: Desk
    url: str
    service: HttpService
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> Site:
        self.thread = threading.Thread(target=self.service.run, args=(self.stop,), daemon=True)
        self.thread.start()
        assert self.service.started.wait(10), "the HTTP server did not start listening"
        return self

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(10)
            assert not self.thread.is_alive(), "the HTTP server did not stop"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, follow_redirects=False)

    def last_link(self) -> str:
        """The link in the newest sign-in mail the desk queued."""
        with self.desk.store.read() as s:
            row = (
                s.execute(select(Outbox).where(Outbox.kind == "signin").order_by(Outbox.id.desc()))
                .scalars()
                .first()
            )
        assert row is not None, "no sign-in mail was queued"
        found = _LINK.search(json.loads(row.payload)["text"])
        assert found is not None
        return found.group(1)

    def ask_link(self, client: httpx.Client, email: str) -> httpx.Response:
        page = client.get("/")
        return client.post("/signin", data={"email": email, "csrf": csrf(page)})

    def open_link(self, client: httpx.Client, link: str) -> httpx.Response:
        path = link.removeprefix(self.url)
        confirm = client.get(path)
        assert confirm.status_code == 200, confirm.text
        return client.post(path, data={"csrf": csrf(confirm)})

    def sign_in(self, client: httpx.Client, email: str) -> None:
        assert self.ask_link(client, email).status_code == 200
        answer = self.open_link(client, self.last_link())
        assert answer.status_code == 303 and answer.headers["location"] == "/", answer.text


def csrf(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found is not None, f"no CSRF token on {page.url}"
    return found.group(1)


def form_key(page: httpx.Response) -> str:
    found = _KEY.search(page.text)
    assert found is not None, f"no form key on {page.url}"
    return found.group(1)
