"""``sdesk serve`` as an admin runs it: a real process on a desk with a Dovecot mailbox and an
aiosmtpd server. Mail in becomes a ticket, a queued reply leaves by SMTP, SIGTERM stops it
cleanly (exit 0, leases released) within seconds, and a second ``serve`` on the same desk waits
for the lease instead of fetching too. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from sdesk.config import load_settings
from sdesk.core import health, leases
from sdesk.core.desk import Desk
from sdesk.store.engine import open_store
from sdesk.store.models import Event, Lease, Message, RawInbound, Ticket
from tests.integration.mailservers import DovecotServer, SmtpServer
from tests.integration.test_cli_mail import config, raw

pytestmark = pytest.mark.timeout(180)

STOP_WITHIN = 5.0  # seconds from SIGTERM to exit


class Serve:
    """One ``sdesk serve`` process; its output is collected by a thread so pipes never fill."""

    def __init__(self, tmp_path: Path, password: str) -> None:
        env = dict(os.environ)
        env.update(
            XDG_CONFIG_HOME=str(tmp_path / "config"),
            XDG_DATA_HOME=str(tmp_path / "data"),
            SDESK_TEST_PW=password,
            PYTHONUNBUFFERED="1",
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sdesk", "--db", str(tmp_path / "desk.db"), "serve"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    @property
    def text(self) -> str:
        return "".join(self.output)

    def wait_serving(self) -> None:
        wait_for(lambda: "serving" in self.text, what=f"serve to start: {self.text}")

    def terminate(self) -> tuple[int, float]:
        """SIGTERM; the exit code and how long it took (killed after a bounded wait)."""
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"serve ignored SIGTERM for 20 s: {self.text}") from None
        self._reader.join(5)
        return code, time.monotonic() - began

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def imap_connections(self, port: int) -> int:
        """TCP connections this process holds to the IMAP port."""
        try:
            conns = psutil.Process(self.proc.pid).net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            return 0
        return sum(1 for c in conns if c.raddr and c.raddr.port == port)


def wait_for(check: Callable[[], object], *, seconds: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"waited {seconds:g}s for {what}"
        time.sleep(0.1)


@pytest.fixture
def setup(
    tmp_path: Path, dovecot: DovecotServer, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Desk, Callable[[], Serve]]]:
    """The config file, and the desk opened in this process (as a console would) with an agent;
    ``start()`` runs one more ``sdesk serve`` on it. Every process is killed at teardown."""
    with serving(tmp_path, dovecot, config(dovecot, smtp_server), monkeypatch) as (desk, start):
        desk.add_agent("eli", name="Eli")
        yield desk, start


@contextlib.contextmanager
def serving(
    tmp_path: Path, dovecot: DovecotServer, config_text: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Desk, Callable[[], Serve]]]:
    """``config_text`` as the config file, the desk opened here, and ``start()`` for one more
    ``sdesk serve`` on it; every process it started is killed on the way out."""
    folder = tmp_path / "config" / "sdesk"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text(config_text, encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    desk = Desk(open_store(tmp_path / "desk.db"), load_settings())
    started: list[Serve] = []

    def start() -> Serve:
        started.append(Serve(tmp_path, dovecot.password))
        return started[-1]

    try:
        yield desk, start
    finally:
        for serve in started:
            serve.kill()
        desk.close()


def count(desk: Desk, model: type, *where: object) -> int:
    with desk.store.read() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def live_leases(desk: Desk) -> list[tuple[str, str]]:
    with desk.store.read() as s:
        return [
            (row.name, row.holder)
            for row in s.execute(select(Lease)).scalars()
            if row.expires_at > desk.clock()
        ]


def mailbox_state(desk: Desk) -> str:
    with desk.store.read() as s:
        return health.mailbox_status(s, desk.settings.mailboxes, desk.clock())[0].state


def test_serve_brings_mail_in_sends_replies_and_stops_on_sigterm(
    setup: tuple[Desk, Callable[[], Serve]], dovecot: DovecotServer, smtp_server: SmtpServer
) -> None:
    desk, start = setup
    serve = start()
    serve.wait_serving()
    dovecot.deliver(raw(1))
    wait_for(lambda: count(desk, Ticket), what="the delivered mail to become a ticket")
    with desk.store.read() as s:
        number, subject = s.execute(select(Ticket.number, Ticket.subject)).one()
    assert subject == "Case 1"
    wait_for(lambda: mailbox_state(desk) == "connected", what="health to say connected")

    desk.reply(number, "eli", "We are on it.")
    [sent] = smtp_server.wait_for(1, timeout=20)
    assert sent.rcpt_tos == ("c1@example.org",)
    assert f"[#{number}]" in sent.message["Subject"]
    wait_for(lambda: count(desk, Message, Message.delivery_state == "sent"), what="sent state")

    assert {name for name, _ in live_leases(desk)} == {"imap:support", "outbox", "scheduler"}
    code, took = serve.terminate()
    assert code == 0, serve.text
    assert took < STOP_WITHIN, f"took {took:.1f}s to stop"
    assert "stopped" in serve.text and "Traceback" not in serve.text
    assert live_leases(desk) == []  # released, not left to expire
    assert mailbox_state(desk) == "disconnected"  # stopped on purpose, no error


def test_a_second_serve_waits_for_the_lease_and_takes_over_when_the_first_stops(
    setup: tuple[Desk, Callable[[], Serve]], dovecot: DovecotServer
) -> None:
    desk, start = setup
    first = start()
    first.wait_serving()
    wait_for(lambda: first.imap_connections(dovecot.port) == 1, what="the first to connect")
    second = start()
    second.wait_serving()
    for n in range(1, 4):
        dovecot.deliver(raw(n))
    wait_for(lambda: count(desk, Ticket) == 3, what="three tickets")
    time.sleep(1.0)  # give a double fetch the chance to show
    assert second.imap_connections(dovecot.port) == 0  # never even connected
    assert first.imap_connections(dovecot.port) == 1
    holders = dict(live_leases(desk))
    assert holders["imap:support"].split(":")[1] == str(first.proc.pid)
    assert count(desk, RawInbound) == 3
    assert count(desk, Event, Event.kind == "message.received") == 3

    code, _ = first.terminate()
    assert code == 0, first.text
    # The released lease is taken on the second's next try (every TTL/4 = 15 s at most).
    dovecot.deliver(raw(4))
    wait_for(lambda: count(desk, Ticket) == 4, seconds=leases.DEFAULT_TTL.total_seconds() / 4 + 15,
             what="the second serve to fetch after the first stopped")  # fmt: skip
    holders = dict(live_leases(desk))
    assert holders["imap:support"].split(":")[1] == str(second.proc.pid)
    assert count(desk, RawInbound) == 4
    code, took = second.terminate()
    assert (code, took < STOP_WITHIN) == (0, True), second.text
    assert live_leases(desk) == []
