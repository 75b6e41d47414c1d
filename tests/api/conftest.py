"""A real desk (SQLite in a temporary folder) served by the desk's ``HttpService`` (uvicorn) on
a loopback port, one per test module, with two customers, an agent and their tokens."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from sdesk.api.server import HttpService
from sdesk.config import HttpSettings, Settings
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind, Role
from sdesk.core.inbound import ContactRef, Inbound, Sender
from sdesk.core.tokens import TokenKind
from sdesk.store.engine import open_store


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Live:
    desk: Desk
    url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, who: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def serve(folder: Path, base: Settings | None = None, **http: object) -> Iterator[Live]:
    """``base``: the desk's settings but its ``[http]`` (e.g. with a mailbox that sends)."""
    port = free_port()
    settings = HttpSettings(
        listen=f"127.0.0.1:{port}", public_url=f"http://127.0.0.1:{port}", **http
    )  # type: ignore[arg-type]
    store = open_store(folder / "desk.db")
    desk = Desk(
        store,
        (base or Settings(desk_domain="desk.test")).model_copy(update={"http": settings}),
    )
    desk.add_agent("dana", name="Dana", role=Role.DISPATCHER)
    for n, email in enumerate(("ann@example.org", "bob@example.org"), 1):
        desk.intake(
            Inbound(
                channel=Channel.EMAIL,
                sender=Sender(email.split("@")[0].title(), (ContactRef(ContactKind.EMAIL, email),)),
                subject=f"first mail {n}",
                text="hello",
                external_id=f"<seed{n}@example.org>",
            )
        )
    live = Live(desk, f"http://127.0.0.1:{port}/api/v1")
    live.tokens["ann"] = desk.tokens.create("ann", TokenKind.CUSTOMER, customer="ann@example.org")
    live.tokens["bob"] = desk.tokens.create("bob", TokenKind.CUSTOMER, customer="bob@example.org")
    live.tokens["dana"] = desk.tokens.create("dana", TokenKind.AGENT, agent="dana")
    live.tokens["shop"] = desk.tokens.create("shop", TokenKind.INTEGRATION)
    service = HttpService(desk, settings)
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert service.started.wait(15), "the HTTP server did not start"
        yield live
    finally:
        stop.set()
        thread.join(15)
        desk.close()
    assert not thread.is_alive(), "the HTTP server did not stop"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from serve(tmp_path_factory.mktemp("api"))
