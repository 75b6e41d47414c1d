"""Customer notices by email (ARCHITECTURE.md rule 9): resolved, closed with a satisfaction
request, a rating by replying with a digit; never to a robot's address; capped per recipient.
The real intake, dispatcher and SMTP sender against aiosmtpd; only the clock is a test clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sdesk.config import HttpSettings, Settings
from sdesk.config_notify import NotifySettings
from sdesk.core.desk import Desk
from sdesk.core.enums import Role, Status
from sdesk.store.engine import open_store
from sdesk.store.models import Event, Ticket
from tests.conftest import FakeClock
from tests.factories import email as email_in
from tests.integration.mailservers import SmtpServer
from tests.integration.test_smtp_outbox import IMAP_ENV, dispatch, mailbox_settings

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def make_desk(
    tmp_path: Path, clock: FakeClock, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    monkeypatch.setenv(IMAP_ENV, "imap-secret")
    desks: list[Desk] = []

    def make(**notify: Any) -> Desk:
        desk = Desk(
            open_store(tmp_path / "desk.db"),
            Settings(
                desk_domain="desk.test",
                mailboxes=[mailbox_settings(smtp_server.host, smtp_server.port)],
                http=HttpSettings(public_url="https://help.example.org"),
                notify=NotifySettings(**notify),
            ),
            clock=clock,
        )
        desk.add_agent("dana", name="Dana Agent", role=Role.ENGINEER)
        desks.append(desk)
        return desk

    yield make
    for desk in desks:
        desk.close()


def events(desk: Desk, kind: str) -> list[dict[str, Any]]:
    with desk.store.read() as s:
        rows = s.execute(select(Event).where(Event.kind == kind).order_by(Event.id)).scalars()
        return [json.loads(e.data or "{}") | {"actor": e.actor} for e in rows]


def ticket(desk: Desk, number: int) -> Ticket:
    with desk.store.read() as s:
        return s.execute(select(Ticket).where(Ticket.number == number)).scalar_one()


def test_resolved_then_closed_tell_the_customer(
    make_desk: Any, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    desk = make_desk()
    number = desk.intake(email_in("m1@example.org", frm="ann@example.org")).ticket_number
    assert number is not None
    desk.set_status(number, "dana", Status.RESOLVED)
    assert dispatch(desk) == 1
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ("ann@example.org",)
    body = mail.message.get_content()
    assert "resolved" in body and "reply" in body and f"#{number}" in body

    clock.advance(minutes=1)
    desk.set_status(number, "dana", Status.CLOSED)
    assert dispatch(desk) == 1
    [_, mail] = smtp_server.wait_for(2)
    body = mail.message.get_content()
    assert "1 to 5" in body
    assert f"https://help.example.org/tickets/{number}" in body
    assert [e["notice"] for e in events(desk, "notify.queued")] == ["resolved", "closed"]


def test_a_digit_reply_after_the_request_rates_instead_of_reopening(
    make_desk: Any, clock: FakeClock
) -> None:
    desk = make_desk()
    number = desk.intake(email_in("m1@example.org", frm="ann@example.org")).ticket_number
    assert number is not None
    desk.set_status(number, "dana", Status.RESOLVED)
    desk.set_status(number, "dana", Status.CLOSED)
    clock.advance(minutes=5)
    result = desk.intake(
        email_in(
            "m2@example.org",
            frm="ann@example.org",
            subject=f"Re: help [#{number}]",
            text="5! thanks",
        )
    )
    assert result.ticket_number == number
    t = ticket(desk, number)
    assert (t.status, t.rating) == ("closed", 5)
    [rated] = events(desk, "ticket.rated")
    assert (rated["score"], rated["via"]) == (5, "reply")


def test_never_to_a_robot_and_capped_per_recipient(make_desk: Any, smtp_server: SmtpServer) -> None:
    desk = make_desk(per_recipient_limit=1)
    robot = desk.intake(email_in("r1@example.org", frm="noreply@example.org")).ticket_number
    assert robot is not None
    desk.set_status(robot, "dana", Status.RESOLVED)
    [skip] = events(desk, "notify.skipped")
    assert "no-reply" in skip["why"]

    first = desk.intake(
        email_in("c1@example.org", frm="bob@example.org", subject="Fax")
    ).ticket_number
    second = desk.intake(
        email_in("c2@example.org", frm="bob@example.org", subject="Scanner")
    ).ticket_number
    assert first is not None and second is not None
    desk.set_status(first, "dana", Status.RESOLVED)
    desk.set_status(second, "dana", Status.RESOLVED)
    assert dispatch(desk) == 1
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [("bob@example.org",)]
    assert "cap: 1 notices" in events(desk, "notify.skipped")[-1]["why"]
