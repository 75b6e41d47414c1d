"""The automatic acknowledgement of a new email ticket (ARCHITECTURE.md rule 9), with a real
aiosmtpd server (and Dovecot for the end-to-end case): exactly once, never to a robot, capped per
recipient, visible on the ticket.

Mail comes in through the real parser (and the real poller where it says so); the dispatcher,
the autoreply module and the SMTP sender are the real ones. Only the clock is a test clock.
"""

from __future__ import annotations

import dataclasses
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sdesk.channels.dispatcher import Dispatcher, email_senders
from sdesk.channels.email.imap import MailboxPoller
from sdesk.channels.email.parse import parse_email
from sdesk.config import AutoreplySettings, MailboxSettings, Settings
from sdesk.core.autoreply import robot_address
from sdesk.core.cursors import get_cursor
from sdesk.core.desk import Desk
from sdesk.core.enums import Role
from sdesk.store.engine import open_store
from sdesk.store.models import Message, Outbox, Ticket
from sdesk.store.queries import ticket_detail
from sdesk.tui.widgets.ticket import event_line
from tests.conftest import FakeClock
from tests.factories import email as email_in
from tests.integration.mailservers import DovecotServer, SmtpServer
from tests.integration.test_smtp_outbox import (
    DESK_ADDRESS,
    IMAP_ENV,
    dispatch,
    events,
    mailbox_settings,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def make_desk(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch):
    """``make(mailbox, **autoreply)`` → a desk on tmp_path/desk.db (several share it, like a
    restarted process) with the acknowledgement switched on unless ``enabled=False``."""
    monkeypatch.setenv(IMAP_ENV, "imap-secret")
    desks: list[Desk] = []

    def make(mailbox: MailboxSettings, **autoreply: Any) -> Desk:
        desk = Desk(
            open_store(tmp_path / "desk.db"),
            Settings(
                desk_domain="desk.test",
                mailboxes=[mailbox],
                autoreply=AutoreplySettings(**({"enabled": True} | autoreply)),
            ),
            clock=clock,
        )
        desks.append(desk)
        return desk

    yield make
    for desk in desks:
        desk.close()


_uid = iter(range(1, 10_000))


def live_mail(
    clock: FakeClock,
    mid: str,
    *,
    frm: str = "Ann Lee <ann@example.org>",
    subject: str = "Printer on fire",
    headers: tuple[str, ...] = (),
    date: str | None = None,
) -> bytes:
    lines = [
        f"From: {frm}",
        f"To: Northwind Support <{DESK_ADDRESS}>",
        f"Subject: {subject}",
        f"Date: {date or format_datetime(clock.now)}",
        f"Message-ID: <{mid}>",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\nPlease help.\r\n").encode()


def arrives(desk: Desk, raw: bytes) -> int:
    """The mail as the IMAP poller stores it (the same parser, an ``imap:`` source)."""
    source = f"imap:support/INBOX/1/{next(_uid)}"
    result = desk.intake(parse_email(raw, source=source, received_at=desk.clock()))
    assert result.ticket_number is not None
    return result.ticket_number


def acks(desk: Desk) -> list[dict[str, Any]]:
    with desk.store.read() as s:
        rows = s.execute(select(Outbox).where(Outbox.kind == "autoreply").order_by(Outbox.id))
        return [r.model_dump() for r in rows.scalars()]


def skipped(desk: Desk) -> list[str]:
    return [_data(e)["reason"] for e in events(desk, "autoreply.skipped")]


def _data(event: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(event["data"])


# --------------------------------------------------------------------------------------------
# Once


def test_a_new_email_ticket_is_acknowledged_once(
    make_desk, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    mailbox = mailbox_settings(smtp_server.host, smtp_server.port)
    desk = make_desk(mailbox)
    number = arrives(desk, live_mail(clock, "m1@example.org"))

    assert dispatch(desk) == 1
    [mail] = smtp_server.wait_for(1)
    m = mail.message
    assert mail.rcpt_tos == ("ann@example.org",)
    assert m["Auto-Submitted"] == "auto-replied"
    assert m["X-Auto-Response-Suppress"] == "All"
    assert m["Subject"] == f"Re: Printer on fire [#{number}]"
    assert m["In-Reply-To"] == "<m1@example.org>"
    body = m.get_content()
    assert body.startswith("Hello Ann,") and f"#{number}" in body

    # Visible on the ticket as an outgoing system message, delivered.
    with desk.store.read() as s:
        detail = ticket_detail(s, number)
        ticket = s.execute(select(Ticket).where(Ticket.number == number)).scalar_one()
    assert detail is not None
    [ack] = [x for x in detail.messages if x.kind == "system"]
    assert (ack.channel, ack.delivery_state, ack.text) == ("email", "sent", body.rstrip("\n"))
    assert ack.author == "Automatic acknowledgement"
    # An acknowledgement is not the first response the SLA waits for; the ticket stays new.
    assert (ticket.status, ticket.first_response_at) == ("new", None)
    assert len(events(desk, "autoreply.queued")) == 1

    # Again, later, and after a restart: still one.
    clock.advance(minutes=5)
    assert dispatch(desk) == 0
    desk.close()
    desk2 = make_desk(mailbox)
    assert dispatch(desk2) == 0
    clock.advance(hours=2)
    assert Dispatcher(desk2, email_senders(desk2)).run_once() == 0
    assert len(smtp_server.messages) == 1
    assert len(acks(desk2)) == 1

    # The customer writes again on the same ticket: no second acknowledgement.
    arrives(
        desk2,
        live_mail(clock, "m2@example.org", subject=f"Re: Printer on fire [#{number}]"),
    )
    assert dispatch(desk2) == 0
    assert len(smtp_server.messages) == 1


def test_the_customers_answer_to_the_acknowledgement_joins_the_ticket(
    make_desk, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    desk = make_desk(mailbox_settings(smtp_server.host, smtp_server.port))
    number = arrives(desk, live_mail(clock, "m1@example.org"))
    dispatch(desk)
    [mail] = smtp_server.wait_for(1)
    answer = live_mail(
        clock,
        "m2@example.org",
        subject="thanks",
        headers=(f"In-Reply-To: {mail.message['Message-ID']}",),
    )
    assert arrives(desk, answer) == number


def test_end_to_end_through_dovecot(
    make_desk,
    smtp_server: SmtpServer,
    dovecot: DovecotServer,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(IMAP_ENV, dovecot.password)
    mailbox = mailbox_settings(
        smtp_server.host,
        smtp_server.port,
        host=dovecot.host,
        port=dovecot.port,
        security="starttls",
        username=dovecot.user,
    )
    desk = make_desk(mailbox)
    poller = MailboxPoller(desk, mailbox, cafile=str(dovecot.cafile))
    dovecot.deliver(live_mail(clock, "human@example.org"))
    dovecot.deliver(
        live_mail(
            clock,
            "robot@example.org",
            frm="Monitor <alerts@example.net>",
            subject="Disk full",
            headers=("Auto-Submitted: auto-generated",),
        )
    )
    assert poller.fetch_once().stored == 2
    assert dispatch(desk) == 1
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ("ann@example.org",)
    assert skipped(desk) == ["automated mail (auto reply)"]

    # The poller runs again (nothing new), the dispatcher too: nothing more is sent.
    poller.fetch_once()
    assert dispatch(desk) == 0
    assert len(smtp_server.messages) == 1


# --------------------------------------------------------------------------------------------
# Never to a robot


ROBOTS = {
    "auto-generated": ("Auto-Submitted: auto-generated",),
    "auto-replied": ("Auto-Submitted: auto-replied",),
    "list-id": ("List-Id: Printers <printers.lists.example.org>",),
    "precedence-bulk": ("Precedence: bulk",),
    "precedence-junk": ("Precedence: junk",),
    "precedence-list": ("Precedence: list",),
    "x-autoreply": ("X-Autoreply: yes",),
    "x-auto-response-suppress": ("X-Auto-Response-Suppress: All",),
    "empty-return-path": ("Return-Path: <>",),
}


@pytest.mark.parametrize("headers", list(ROBOTS.values()), ids=list(ROBOTS))
def test_no_acknowledgement_to_automated_mail(
    make_desk, smtp_server: SmtpServer, clock: FakeClock, headers: tuple[str, ...]
) -> None:
    desk = make_desk(mailbox_settings(smtp_server.host, smtp_server.port))
    number = arrives(desk, live_mail(clock, "robot1@example.org", headers=headers))
    assert dispatch(desk) == 0
    assert smtp_server.messages == []
    assert acks(desk) == []
    [event] = events(desk, "autoreply.skipped")
    assert _data(event)["reason"].startswith("automated mail")
    with desk.store.read() as s:
        tid = s.execute(select(Ticket.id).where(Ticket.number == number)).scalar_one()
    assert event["ticket_id"] == tid
    # The operator sees why on the ticket's timeline.
    with desk.store.read() as s:
        detail = ticket_detail(s, number)
    assert detail is not None
    lines = [event_line(e) for e in detail.events if e.kind == "autoreply.skipped"]
    data = _data(event)
    assert data["to"] == "ann@example.org"
    assert lines == [f"no acknowledgement sent to ann@example.org: {data['reason']}"]


@pytest.mark.parametrize(
    "frm",
    [
        "MAILER-DAEMON@mx.example.org",
        "Mail Delivery System <postmaster@example.org>",
        "GitHub <noreply@github.com>",
        "Shop <no-reply@shop.example>",
        "Bank <do_not_reply@bank.example>",
        "printers-request@lists.example.org",
        "owner-printers@lists.example.org",
    ],
)
def test_no_acknowledgement_to_robot_addresses(
    make_desk, smtp_server: SmtpServer, clock: FakeClock, frm: str
) -> None:
    desk = make_desk(mailbox_settings(smtp_server.host, smtp_server.port))
    arrives(desk, live_mail(clock, "r@example.org", frm=frm))
    assert dispatch(desk) == 0
    assert smtp_server.messages == []
    [reason] = skipped(desk)
    assert "address" in reason or reason.startswith("automated mail"), reason


def test_raw_headers_are_checked_again_at_answer_time(
    make_desk, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    """Intake's flag is not the only guard: a stored mail whose raw headers name a list is
    not answered even when it came in unflagged (an older parser, another adapter)."""
    desk = make_desk(mailbox_settings(smtp_server.host, smtp_server.port))
    raw = live_mail(clock, "list1@example.org", headers=("List-Id: <printers.example.org>",))
    unflagged = dataclasses.replace(
        email_in("list1@example.org", raw=raw), source="imap:support/INBOX/1/900"
    )
    assert unflagged.auto is None
    desk.intake(unflagged)
    assert dispatch(desk) == 0
    assert smtp_server.messages == []
    assert skipped(desk) == ["automated mail (list)"]


def test_no_acknowledgement_to_the_desks_own_address(
    make_desk, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    desk = make_desk(mailbox_settings(smtp_server.host, smtp_server.port))
    arrives(desk, live_mail(clock, "self@desk.test", frm=f"Support <{DESK_ADDRESS.upper()}>"))
    assert dispatch(desk) == 0
    assert smtp_server.messages == []
    assert skipped(desk) == ["the desk's own address"]


def test_robot_address_rules() -> None:
    assert robot_address("ann@example.org") is None
    assert robot_address("noreply.billing@example.org")
    assert robot_address("bounces+123@example.org")
    assert robot_address("replies@example.org") is None
    assert robot_address("reynolds@example.org") is None


# --------------------------------------------------------------------------------------------
# The per-recipient cap, age, imports, switched off


def test_per_recipient_cap(make_desk, smtp_server: SmtpServer, clock: FakeClock) -> None:
    desk = make_desk(
        mailbox_settings(smtp_server.host, smtp_server.port),
        per_recipient_limit=2,
        per_recipient_hours=24,
    )
    for i in range(3):  # three new tickets from one address, before the dispatcher runs
        arrives(desk, live_mail(clock, f"c{i}@example.org", subject=f"Problem {i}"))
    arrives(desk, live_mail(clock, "b1@example.org", frm="Bob <BOB@example.org>"))
    assert dispatch(desk) == 3
    sent = smtp_server.wait_for(3)
    assert sorted(m.rcpt_tos[0] for m in sent) == [
        "ann@example.org",
        "ann@example.org",
        "bob@example.org",
    ]
    [reason] = skipped(desk)
    assert reason.startswith("cap: 2 automatic mails to ann@example.org")

    clock.advance(hours=23)
    arrives(desk, live_mail(clock, "c3@example.org", subject="Problem 3"))
    assert dispatch(desk) == 0
    assert len(skipped(desk)) == 2

    clock.advance(hours=1, seconds=1)  # the first two left the window
    arrives(desk, live_mail(clock, "c4@example.org", subject="Problem 4"))
    assert dispatch(desk) == 1
    assert len(smtp_server.wait_for(4)) == 4


def test_old_mail_from_a_first_sync_is_not_acknowledged(
    make_desk, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    desk = make_desk(mailbox_settings(smtp_server.host, smtp_server.port), max_age_hours=24)
    arrives(desk, live_mail(clock, "old@example.org", date="Mon, 05 Oct 2026 10:00:00 +0000"))
    assert dispatch(desk) == 0
    assert skipped(desk) == ["the mail is older than 24 h"]


def test_imported_mail_and_other_channels_are_not_acknowledged(
    make_desk, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    desk = make_desk(mailbox_settings(smtp_server.host, smtp_server.port))
    desk.intake(parse_email(live_mail(clock, "i1@example.org"), source="/archive/old.mbox"))
    desk.intake(email_in("j1@example.org"))  # no raw mail at all (JSON Lines)
    assert dispatch(desk) == 0
    assert smtp_server.messages == [] and skipped(desk) == []
    with desk.store.read() as s:
        cursor = get_cursor(s, "autoreply", "acknowledgement")
    assert cursor is not None and int(cursor.position) > 0  # looked at, passed over


def test_an_agent_reply_first_means_no_acknowledgement(
    make_desk, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    desk = make_desk(mailbox_settings(smtp_server.host, smtp_server.port))
    desk.add_agent("dana", role=Role.ENGINEER)
    number = arrives(desk, live_mail(clock, "m1@example.org"))
    desk.reply(number, "dana", "Already on it.")
    assert dispatch(desk) == 1
    [mail] = smtp_server.wait_for(1)
    assert mail.message["Auto-Submitted"] is None
    assert skipped(desk) == ["an agent already answered"]


def test_switched_off_nothing_is_sent_and_switching_on_skips_the_past(
    make_desk, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    mailbox = mailbox_settings(smtp_server.host, smtp_server.port)
    off = make_desk(mailbox, enabled=False)
    arrives(off, live_mail(clock, "past@example.org"))
    assert dispatch(off) == 0
    with off.store.read() as s:
        assert get_cursor(s, "autoreply", "acknowledgement") is None

    clock.advance(days=3)  # switched on later: the old ticket is history, not acknowledged
    on = make_desk(mailbox)
    number = arrives(on, live_mail(clock, "new@example.org", subject="New problem"))
    assert dispatch(on) == 1
    [mail] = smtp_server.wait_for(1)
    assert f"[#{number}]" in mail.message["Subject"]
    assert skipped(on) == []


def test_a_failed_acknowledgement_is_retried_not_requeued(
    make_desk, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    desk = make_desk(mailbox_settings(smtp_server.host, smtp_server.port))
    arrives(desk, live_mail(clock, "m1@example.org"))
    smtp_server.fail_next("451 4.3.0 try again later")
    assert dispatch(desk) == 1
    assert smtp_server.messages == []
    clock.advance(minutes=1)
    assert dispatch(desk) == 1
    [mail] = smtp_server.wait_for(1)
    assert mail.message["Auto-Submitted"] == "auto-replied"
    [row] = acks(desk)
    assert (row["state"], row["attempts"]) == ("sent", 2)
    with desk.store.read() as s:
        n = s.execute(select(Message).where(Message.kind == "system")).scalars().all()
    assert len(n) == 1
