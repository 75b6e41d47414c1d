"""``sdesk serve`` stopped by SIGTERM while a reply is on the wire: the send under way finishes
and is recorded ``sent``, the replies claimed with it but not yet handed to the server go back
to ``queued``, none is left ``sending`` (where only a ten-minute staleness rule would free it),
and the next ``serve`` sends each of them exactly once. The SMTP server is a real aiosmtpd that
takes its time over DATA."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sdesk.core import health
from sdesk.core.desk import Desk
from sdesk.store.models import Message, Outbox
from tests.factories import email
from tests.integration.mailservers import LOCALHOST, DovecotServer, free_port
from tests.integration.test_cli_mail import config
from tests.integration.test_cli_serve import Serve, live_leases, serving, wait_for

pytestmark = pytest.mark.timeout(180)

DATA_SECONDS = 2.0  # how long the server takes to answer DATA


class SlowSmtp:
    """aiosmtpd that answers each DATA after ``DATA_SECONDS``; ``receiving`` is set when the
    first DATA arrives, ``received`` lists the recipients of what it accepted."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.host = LOCALHOST
        self.port = free_port()
        self.receiving = threading.Event()
        self.received: list[tuple[str, ...]] = []
        self._controller = Controller(
            self, hostname=self.host, port=self.port, server_hostname="localhost"
        )
        self._controller.start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.receiving.set()
        await asyncio.sleep(DATA_SECONDS)
        self.received.append(tuple(envelope.rcpt_tos))
        return "250 OK"

    def stop(self) -> None:
        self._controller.stop()


@pytest.fixture
def slow_smtp() -> Iterator[SlowSmtp]:
    server = SlowSmtp()
    yield server
    server.stop()


@pytest.fixture
def desk_and_serve(
    tmp_path: Path, dovecot: DovecotServer, slow_smtp: SlowSmtp, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Desk, Callable[[], Serve]]]:
    text = config(dovecot, slow_smtp)  # type: ignore[arg-type]
    with serving(tmp_path, dovecot, text, monkeypatch) as (desk, start):
        yield desk, start


def states(desk: Desk) -> tuple[list[str], list[str]]:
    """The replies' outbox rows and messages, in order."""
    with desk.store.read() as s:
        rows = s.execute(select(Outbox.state).order_by(Outbox.id)).scalars().all()
        messages = s.execute(
            select(Message.delivery_state).where(Message.kind == "reply").order_by(Message.id)
        ).scalars()
        return list(rows), list(messages)


def outbox_health(desk: Desk) -> str:
    with desk.store.read() as s:
        statuses = health.mailbox_status(s, desk.settings.mailboxes, desk.clock())
    return {st.name: st.state for st in statuses}.get("service:outbox", "none")


def test_sigterm_during_a_send_leaves_nothing_sending_and_loses_nothing(
    desk_and_serve: tuple[Desk, Callable[[], Serve]],
    slow_smtp: SlowSmtp,
    dovecot: DovecotServer,
    tmp_path: Path,
) -> None:
    desk, start = desk_and_serve
    desk.add_agent("eli", name="Eli")
    for n in range(3):
        desk.intake(email(f"case{n}@example.org", frm=f"c{n}@example.org", subject=f"Case {n}"))
        desk.reply(1001 + n, "eli", "We are on it.")
    assert states(desk) == (["queued"] * 3, ["queued"] * 3)

    serve = start()
    serve.wait_serving()
    assert slow_smtp.receiving.wait(30), f"no DATA came: {serve.text}"
    assert outbox_health(desk) == "connected"  # the holder records it, as a poller does
    assert states(desk) == (["sending"] * 3, ["sending"] * 3)  # all three claimed together
    code, took = serve.terminate()  # while the first is on the wire
    assert code == 0, serve.text
    assert took >= DATA_SECONDS / 2, "it did not wait for the send under way"
    assert "stopped" in serve.text and "Traceback" not in serve.text, serve.text
    assert slow_smtp.received == [("c0@example.org",)]
    assert states(desk) == (["sent", "queued", "queued"], ["sent", "queued", "queued"])
    assert live_leases(desk) == []
    assert outbox_health(desk) == "disconnected"  # stopped on purpose: no error
    doctor = subprocess.run(
        [sys.executable, "-m", "sdesk", "--db", str(tmp_path / "desk.db"), "doctor"],
        env=dict(os.environ, SDESK_TEST_PW=dovecot.password),
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert "\nservice outbox\n  info service: disconnected since " in doctor.stdout, doctor.stdout

    again = start()
    wait_for(lambda: states(desk)[0] == ["sent"] * 3, seconds=30, what="the other two sent")
    code, _ = again.terminate()
    assert code == 0, again.text
    assert sorted(slow_smtp.received) == [(f"c{n}@example.org",) for n in range(3)]  # once each
