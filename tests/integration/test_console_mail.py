"""The console as one operator runs it, started the way the CLI starts it (``console_app``): it
fetches the mail and sends the outbox itself, through the services the CLI hands it.

A customer's mail delivered to a real Dovecot appears in the console; a reply typed there with
the keyboard reaches a real SMTP server (aiosmtpd) threaded to that mail; the customer's answer
to it, appended to Dovecot under a new subject, lands on the same ticket and shows in the open
thread. Nothing here is driven but by keys: the pollers and the dispatcher run in the console's
process, built by the CLI side (``sdesk.channels.services``), never imported by ``sdesk.tui``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from textual.pilot import Pilot

from sdesk.cli.console import console_app
from sdesk.config import MailboxSettings, Settings
from sdesk.core.desk import Desk
from sdesk.core.enums import Role
from sdesk.store.engine import open_store
from sdesk.store.models import Message, Ticket
from sdesk.store.queries import agent_row
from sdesk.tui.widgets.inbox import InboxList
from sdesk.tui.widgets.textpane import TextPane
from tests.factories import raw_mail
from tests.integration.mailservers import DovecotServer, SmtpServer

pytestmark = pytest.mark.timeout(120)

PASSWORD_ENV = "SDESK_TEST_CONSOLE_IMAP_PASSWORD"
DESK_ADDRESS = "support@desk.test"


async def until(pilot: Pilot[None], ready: Callable[[], bool], what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        await pilot.pause(0.05)


def ticket_count(desk: Desk) -> int:
    with desk.store.read() as s:
        return s.execute(select(func.count()).select_from(Ticket)).scalar_one()


async def test_a_reply_typed_in_the_console_goes_out_and_the_answer_threads_back(
    tmp_path: Path,
    dovecot: DovecotServer,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, dovecot.password)
    mailbox = MailboxSettings(
        name="support",
        host=dovecot.host,
        port=dovecot.port,
        security="none",  # plain IMAP is allowed on loopback only
        username=dovecot.user,
        password_env=PASSWORD_ENV,
        address=DESK_ADDRESS,
        display_name="Support",
        smtp={"host": smtp_server.host, "port": smtp_server.port, "security": "none"},
    )
    desk = Desk(
        open_store(tmp_path / "desk.db"),
        Settings(desk_domain="desk.test", mailboxes=[mailbox]),
    )
    desk.add_agent("dana", name="Dana Agent", role=Role.ENGINEER)
    with desk.store.read() as s:
        me = agent_row(s, "dana")
    assert me is not None
    dovecot.deliver(raw_mail("first@example.org", "Printer on fire", "It smokes."))

    app, services = console_app(desk, me)
    assert services is not None
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            inbox = app.screen.query_one(InboxList)
            # The console's own poller brings the mail in; the live poll shows it.
            await until(pilot, lambda: len(inbox.rows) == 1, "the customer's mail", 15)
            number = inbox.rows[0].number

            await pilot.press("enter")
            await until(pilot, lambda: app.screen.ticket_open, "the ticket", 5)  # type: ignore[attr-defined]
            await pilot.press("r")
            await pilot.press(*"Please unplug it.")
            await pilot.press("ctrl+s")

            # The console's own dispatcher sends it.
            [sent] = await asyncio.to_thread(smtp_server.wait_for, 1, 15.0)
            mail = sent.message
            assert sent.rcpt_tos == ("ann@example.org",)
            assert mail["Subject"] == f"Re: Printer on fire [#{number}]"
            assert mail["In-Reply-To"] == "<first@example.org>"
            assert "<first@example.org>" in mail["References"].split()
            assert mail.get_content().startswith("Please unplug it.")
            our_id = mail["Message-ID"]
            with desk.store.read() as s:
                stored = s.execute(
                    select(Message.message_id).where(Message.kind == "reply")
                ).scalar_one()
            assert our_id == f"<{stored}>"

            # The customer answers under a new subject: only In-Reply-To finds the ticket.
            dovecot.deliver(
                raw_mail(
                    "second@example.org",
                    "Still broken",
                    "Unplugged, still smoking.",
                    in_reply_to=our_id,
                )
            )
            thread = app.screen.query_one("#thread", TextPane)
            await until(
                pilot, lambda: "Unplugged, still smoking." in thread.plain, "the answer", 15
            )

        assert services.wait(10) == []  # closed: every service stopped
        assert ticket_count(desk) == 1
        with desk.store.read() as s:
            answer = s.execute(
                select(Message).where(Message.message_id == "second@example.org")
            ).scalar_one()
            ticket = s.execute(select(Ticket).where(Ticket.number == number)).scalar_one()
        assert answer.ticket_id == ticket.id
        assert len(smtp_server.messages) == 1  # sent once
    finally:
        services.wait(10)
        desk.close()
