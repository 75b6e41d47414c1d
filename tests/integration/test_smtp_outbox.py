"""Replies leave through the outbox and a real SMTP server (aiosmtpd), exactly once.

The desk, the outbox bookkeeping, the dispatcher and the SMTP sender are the real ones; only
the clock is a test clock, so retry times are exact.
"""

from __future__ import annotations

import email
import email.policy
import gc
import re
import warnings
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from sdesk.channels.dispatcher import Dispatcher, email_senders
from sdesk.channels.email.imap import MailboxPoller
from sdesk.channels.email.parse import parse_email
from sdesk.channels.email.smtp import SmtpSender, build_message
from sdesk.config import MailboxSettings, Settings
from sdesk.core.desk import Desk
from sdesk.core.enums import Role
from sdesk.core.outbox import MAX_ATTEMPTS, RETRY_AFTER
from sdesk.store.engine import open_store
from sdesk.store.models import Event, Message, Outbox, Ticket
from sdesk.store.queries import ticket_detail
from tests.conftest import FakeClock
from tests.factories import email as email_in
from tests.factories import raw_mail
from tests.integration.mailservers import DovecotServer, ReceivedMail, SmtpServer, free_port

pytestmark = pytest.mark.timeout(120)

IMAP_ENV = "SDESK_TEST_OUTBOX_IMAP_PASSWORD"
SMTP_ENV = "SDESK_TEST_OUTBOX_SMTP_PASSWORD"
DESK_ADDRESS = "support@desk.test"
DISPLAY_NAME = "Northwind Support"
INJECTION = "\r\nBcc: evil@x.example"


# --------------------------------------------------------------------------------------------
# Building desks


def mailbox_settings(
    smtp_host: str,
    smtp_port: int,
    *,
    display_name: str = DISPLAY_NAME,
    smtp: dict[str, Any] | None = None,
    **imap: Any,
) -> MailboxSettings:
    values: dict[str, Any] = {
        "name": "support",
        "host": "127.0.0.1",
        "port": 143,  # IMAP; not used unless a test polls
        "security": "none",
        "username": "support",
        "password_env": IMAP_ENV,
        "address": DESK_ADDRESS,
        "display_name": display_name,
        "smtp": {"host": smtp_host, "port": smtp_port, "security": "none", "timeout_seconds": 5}
        | (smtp or {}),
    }
    values.update(imap)
    return MailboxSettings(**values)


MakeDesk = Callable[..., Desk]


@pytest.fixture
def make_desk(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MakeDesk]:
    """``make(mailbox)`` → a Desk on tmp_path/desk.db with the test clock and that mailbox;
    several desks made in one test share the database (a restarted process)."""
    monkeypatch.setenv(IMAP_ENV, "imap-secret")
    desks: list[Desk] = []

    def make(mailbox: MailboxSettings) -> Desk:
        desk = Desk(
            open_store(tmp_path / "desk.db"),
            Settings(desk_domain="desk.test", mailboxes=[mailbox]),
            clock=clock,
        )
        desks.append(desk)
        return desk

    yield make
    for desk in desks:
        desk.close()


def desk_for(make_desk: MakeDesk, server: SmtpServer, **kwargs: Any) -> Desk:
    desk = make_desk(mailbox_settings(server.host, server.port, **kwargs))
    desk.add_agent("dana", name="Dana Agent", role=Role.ENGINEER)
    return desk


# --------------------------------------------------------------------------------------------
# Looking at the store


def dispatch(desk: Desk, *, cafile: str | None = None) -> int:
    return Dispatcher(desk, email_senders(desk, cafile=cafile)).run_once()


def message(desk: Desk, message_id: int) -> dict[str, Any]:
    with desk.store.read() as s:
        row = s.get(Message, message_id)
        assert row is not None
        return row.model_dump()


def outbox_row(desk: Desk, message_id: int) -> dict[str, Any]:
    with desk.store.read() as s:
        rows = s.execute(select(Outbox).where(Outbox.message_id == message_id)).scalars().all()
        assert len(rows) == 1
        return rows[0].model_dump()


def events(desk: Desk, kind: str) -> list[dict[str, Any]]:
    with desk.store.read() as s:
        rows = s.execute(select(Event).where(Event.kind == kind).order_by(Event.id)).scalars()
        return [r.model_dump() for r in rows]


def ticket_id(desk: Desk, number: int) -> int:
    with desk.store.read() as s:
        return s.execute(select(Ticket.id).where(Ticket.number == number)).scalar_one()


def ticket_count(desk: Desk) -> int:
    with desk.store.read() as s:
        return s.execute(select(func.count()).select_from(Ticket)).scalar_one()


def customer_writes(desk: Desk, mid: str = "m1@example.org", **kwargs: Any) -> int:
    result = desk.intake(email_in(mid, **kwargs))
    assert result.ticket_number is not None
    return result.ticket_number


def header_lines(raw: bytes) -> list[str]:
    """The raw header block's logical lines (continuations joined), as sent on the wire."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
    lines: list[str] = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += line
        else:
            lines.append(line)
    return lines


def header_names(raw: bytes) -> list[str]:
    return [line.split(":", 1)[0].strip().lower() for line in header_lines(raw)]


def assert_no_injection(mail: ReceivedMail, customer: str) -> None:
    assert mail.rcpt_tos == (customer,)
    assert mail.message["Bcc"] is None
    assert "bcc" not in header_names(mail.raw)
    assert b"\r\nBcc:" not in mail.raw.split(b"\r\n\r\n", 1)[0]
    for name in ("Subject", "To", "From", "Message-ID", "In-Reply-To", "References"):
        value = mail.message[name]
        if value is not None:
            assert "\r" not in str(value) and "\n" not in str(value), (name, str(value))


# --------------------------------------------------------------------------------------------
# 1. A human reply goes out once, threaded to the customer's message


@pytest.mark.parametrize("display_name", [DISPLAY_NAME, ""])
def test_reply_is_sent_once_with_threading_headers(
    make_desk: MakeDesk, smtp_server: SmtpServer, clock: FakeClock, display_name: str
) -> None:
    desk = desk_for(make_desk, smtp_server, display_name=display_name)
    number = customer_writes(desk, "m1@example.org", subject="Printer on fire")
    mid = desk.reply(number, "dana", "We are on it.").message_id
    stored_id = message(desk, mid)["message_id"]
    assert stored_id and "@desk.test" in stored_id

    assert dispatch(desk) == 1
    [mail] = smtp_server.wait_for(1)
    m = mail.message

    assert mail.mail_from == DESK_ADDRESS
    assert mail.rcpt_tos == ("ann@example.org",)
    [sender] = m["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (display_name, DESK_ADDRESS)
    [to] = m["To"].addresses
    assert to.addr_spec == "ann@example.org"
    assert m["Subject"] == f"Re: Printer on fire [#{number}]"
    assert m["Message-ID"] == f"<{stored_id}>"
    assert m["In-Reply-To"] == "<m1@example.org>"
    assert "<m1@example.org>" in m["References"].split()
    assert m["Auto-Submitted"] is None  # a person wrote this; robots may answer it
    assert m["Date"] is not None
    # The operator's text, then the customer's message quoted ([email] quote_history default).
    assert m.get_content().replace("\r\n", "\n").strip() == (
        "We are on it.\n\nOn Mon, 2 Nov 2026 09:00 UTC, Ann Lee wrote:\n> Please help."
    )

    msg = message(desk, mid)
    assert (msg["delivery_state"], msg["delivery_error"]) == ("sent", None)
    row = outbox_row(desk, mid)
    assert (row["state"], row["attempts"], row["last_error"]) == ("sent", 1, None)
    assert row["sent_at"] == clock.now
    sent = events(desk, "message.sent")
    assert len(sent) == 1 and sent[0]["ticket_id"] == ticket_id(desk, number)

    clock.advance(hours=3)
    assert dispatch(desk) == 0
    assert len(smtp_server.messages) == 1
    assert len(events(desk, "message.sent")) == 1


def test_second_reply_references_the_whole_thread(
    make_desk: MakeDesk, smtp_server: SmtpServer
) -> None:
    desk = desk_for(make_desk, smtp_server)
    number = customer_writes(desk, "m1@example.org")
    desk.intake(
        email_in(
            "m2@example.org",
            subject=f"Re: Printer on fire [#{number}]",
            in_reply_to=("m1@example.org",),
            references=("m1@example.org",),
        )
    )
    desk.reply(number, "dana", "Second answer.")
    assert dispatch(desk) == 1
    [mail] = smtp_server.wait_for(1)
    assert mail.message["In-Reply-To"] == "<m2@example.org>"
    assert mail.message["References"].split() == ["<m1@example.org>", "<m2@example.org>"]
    assert mail.message["Subject"] == f"Re: Printer on fire [#{number}]"


# --------------------------------------------------------------------------------------------
# 2. The customer's answer to our reply lands on the same ticket


def test_customer_answer_threads_back_through_imap(
    make_desk: MakeDesk,
    smtp_server: SmtpServer,
    dovecot: DovecotServer,
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
    desk.add_agent("dana", role=Role.ENGINEER)
    poller = MailboxPoller(desk, mailbox, cafile=str(dovecot.cafile))

    dovecot.deliver(raw_mail("first@example.org", "Printer on fire"))
    assert poller.fetch_once().stored == 1
    with desk.store.read() as s:
        number = s.execute(select(Ticket.number)).scalar_one()

    desk.reply(number, "dana", "Have you tried turning it off?")
    assert dispatch(desk) == 1
    [sent] = smtp_server.wait_for(1)
    our_id = sent.message["Message-ID"]

    # No [#N] tag, a new subject: only In-Reply-To can find the ticket.
    dovecot.deliver(raw_mail("second@example.org", "Still broken", in_reply_to=our_id))
    assert poller.fetch_once().stored == 1

    assert ticket_count(desk) == 1
    with desk.store.read() as s:
        answer = s.execute(
            select(Message).where(Message.message_id == "second@example.org")
        ).scalar_one()
        assert answer.ticket_id == ticket_id(desk, number)
        assert answer.in_reply_to == our_id.strip("<>")


def test_customer_answer_threads_back_by_references_alone(
    make_desk: MakeDesk, smtp_server: SmtpServer
) -> None:
    desk = desk_for(make_desk, smtp_server)
    number = customer_writes(desk, "m1@example.org")
    desk.reply(number, "dana", "Answer.")
    dispatch(desk)
    [sent] = smtp_server.wait_for(1)
    raw = (
        "From: Ann Lee <ann@example.org>\r\nTo: support@desk.test\r\nSubject: Something else\r\n"
        "Message-ID: <m3@example.org>\r\n"
        f"References: <m1@example.org> {sent.message['Message-ID']}\r\n\r\nThanks.\r\n"
    ).encode()
    result = desk.intake(parse_email(raw))
    assert result.ticket_number == number
    assert ticket_count(desk) == 1


# --------------------------------------------------------------------------------------------
# 3.-5. Temporary and permanent failures


def test_temporary_failure_is_retried_after_the_backoff(
    make_desk: MakeDesk, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    desk = desk_for(make_desk, smtp_server)
    number = customer_writes(desk)
    mid = desk.reply(number, "dana", "Answer.").message_id
    smtp_server.fail_next("451 4.3.0 try again later")

    assert dispatch(desk) == 1
    assert smtp_server.messages == []
    assert len(smtp_server.rejected) == 1
    row = outbox_row(desk, mid)
    assert (row["state"], row["attempts"], row["sent_at"]) == ("queued", 1, None)
    assert "451" in row["last_error"]
    assert row["next_attempt_at"] == clock.now + RETRY_AFTER[0]
    msg = message(desk, mid)
    assert msg["delivery_state"] == "queued"
    assert "451" in (msg["delivery_error"] or "")
    assert len(events(desk, "message.deferred")) == 1

    clock.advance(seconds=RETRY_AFTER[0].total_seconds() - 1)
    assert dispatch(desk) == 0  # not due yet
    assert smtp_server.messages == []

    clock.advance(seconds=2)
    assert dispatch(desk) == 1
    [mail] = smtp_server.wait_for(1)
    assert mail.message["Message-ID"] == f"<{msg['message_id']}>"
    row = outbox_row(desk, mid)
    assert (row["state"], row["attempts"], row["last_error"]) == ("sent", 2, None)
    assert row["sent_at"] == clock.now
    assert (message(desk, mid)["delivery_state"], message(desk, mid)["delivery_error"]) == (
        "sent",
        None,
    )
    clock.advance(hours=1)
    assert dispatch(desk) == 0
    assert len(smtp_server.messages) == 1


def test_permanent_failure_shows_on_the_ticket_and_can_be_retried(
    make_desk: MakeDesk, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    desk = desk_for(make_desk, smtp_server)
    number = customer_writes(desk)
    mid = desk.reply(number, "dana", "Answer.").message_id
    smtp_server.fail_next("550 5.1.1 mailbox unavailable")

    assert dispatch(desk) == 1
    assert smtp_server.messages == []
    msg = message(desk, mid)
    assert msg["delivery_state"] == "failed"
    assert "550 5.1.1 mailbox unavailable" in msg["delivery_error"]
    row = outbox_row(desk, mid)
    assert (row["state"], row["attempts"]) == ("failed", 1)
    assert "550 5.1.1 mailbox unavailable" in row["last_error"]
    failed = events(desk, "message.failed")
    assert len(failed) == 1 and failed[0]["ticket_id"] == ticket_id(desk, number)

    with desk.store.read() as s:
        detail = ticket_detail(s, number)
    assert detail is not None
    [shown] = [m for m in detail.messages if m.id == mid]
    assert shown.delivery_state == "failed"
    assert "550 5.1.1 mailbox unavailable" in (shown.delivery_error or "")

    clock.advance(days=1)
    assert dispatch(desk) == 0  # a permanent failure waits for a person

    desk.retry_delivery(mid, "dana")
    msg = message(desk, mid)
    assert (msg["delivery_state"], msg["delivery_error"]) == ("queued", None)
    assert len(events(desk, "message.retry")) == 1
    assert dispatch(desk) == 1
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ("ann@example.org",)
    assert message(desk, mid)["delivery_state"] == "sent"
    assert outbox_row(desk, mid)["state"] == "sent"
    assert dispatch(desk) == 0
    assert len(smtp_server.messages) == 1


def test_refused_recipient_is_a_permanent_failure(
    make_desk: MakeDesk, smtp_server: SmtpServer
) -> None:
    desk = desk_for(make_desk, smtp_server)
    mid = desk.reply(customer_writes(desk), "dana", "Answer.").message_id
    smtp_server.fail_next("550 5.1.1 no such user", stage="rcpt")
    assert dispatch(desk) == 1
    msg = message(desk, mid)
    assert msg["delivery_state"] == "failed"
    assert "550 5.1.1 no such user" in msg["delivery_error"]
    assert smtp_server.messages == []


def test_gives_up_after_max_attempts(
    make_desk: MakeDesk, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    desk = desk_for(make_desk, smtp_server)
    mid = desk.reply(customer_writes(desk), "dana", "Answer.").message_id
    smtp_server.fail_next("451 4.3.0 try again later", times=10)

    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert dispatch(desk) == 1, f"attempt {attempt}"
        row = outbox_row(desk, mid)
        assert row["attempts"] == attempt
        if attempt < MAX_ATTEMPTS:
            assert row["state"] == "queued"
            assert row["next_attempt_at"] == clock.now + RETRY_AFTER[attempt - 1]
            assert message(desk, mid)["delivery_state"] == "queued"
            assert dispatch(desk) == 0  # not before its time
            clock.now = row["next_attempt_at"] + timedelta(seconds=1)
    row = outbox_row(desk, mid)
    assert row["state"] == "failed"
    assert "451" in row["last_error"]
    msg = message(desk, mid)
    assert msg["delivery_state"] == "failed"
    assert "451 4.3.0 try again later" in msg["delivery_error"]
    assert len(events(desk, "message.deferred")) == MAX_ATTEMPTS - 1
    assert len(events(desk, "message.failed")) == 1

    clock.advance(days=2)
    assert dispatch(desk) == 0
    assert len(smtp_server.rejected) == MAX_ATTEMPTS
    assert smtp_server.messages == []


# --------------------------------------------------------------------------------------------
# 6. No header injection from a subject, a display name or an id


def test_crlf_in_subject_and_name_cannot_add_a_recipient(
    make_desk: MakeDesk, smtp_server: SmtpServer
) -> None:
    desk = desk_for(make_desk, smtp_server)
    number = customer_writes(
        desk,
        "eve1@example.org",
        frm="eve@example.org",
        name=f"Eve{INJECTION}",
        subject=f"Refund{INJECTION}",
    )
    mid = desk.reply(number, "dana", "No.").message_id
    assert dispatch(desk) == 1
    [mail] = smtp_server.wait_for(1)
    assert_no_injection(mail, "eve@example.org")
    assert mail.message["Subject"] == f"Re: Refund Bcc: evil@x.example [#{number}]"
    assert message(desk, mid)["delivery_state"] == "sent"


def test_encoded_crlf_in_a_parsed_mail_cannot_add_a_recipient(
    make_desk: MakeDesk, smtp_server: SmtpServer
) -> None:
    desk = desk_for(make_desk, smtp_server)
    raw = (
        b"From: =?utf-8?q?Eve=0D=0ABcc=3A_evil=40x=2Eexample?= <eve@example.org>\r\n"
        b"To: support@desk.test\r\n"
        b"Subject: =?utf-8?q?Refund=0D=0ABcc=3A_evil=40x=2Eexample?=\r\n"
        b"Message-ID: <eve2@example.org>\r\n"
        b"\r\nGive me money.\r\n"
    )
    number = desk.intake(parse_email(raw)).ticket_number
    assert number is not None
    desk.reply(number, "dana", "No.")
    assert dispatch(desk) == 1
    [mail] = smtp_server.wait_for(1)
    assert_no_injection(mail, "eve@example.org")


def test_build_message_flattens_every_header_value() -> None:
    mailbox = mailbox_settings("127.0.0.1", 2525, display_name=f"Northwind{INJECTION}")
    msg = build_message(
        mailbox,
        f'"Eve{INJECTION}" <eve@example.org>',
        {
            "subject": f"Hi{INJECTION}",
            "message_id": "ok1@desk.test",
            "in_reply_to": f"x{INJECTION}@example.org",
            "references": [f"r1{INJECTION}@example.org"],
            "text": "hello",
        },
    )
    for name in ("From", "To", "Subject", "Message-ID", "In-Reply-To", "References"):
        value = str(msg[name])
        assert "\r" not in value and "\n" not in value, (name, value)
    assert str(msg["Subject"]) == "Hi Bcc: evil@x.example"
    raw = msg.as_bytes()
    assert "bcc" not in header_names(raw)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None
    [to] = parsed["To"].addresses
    assert to.addr_spec == "eve@example.org"
    [frm] = parsed["From"].addresses
    assert frm.addr_spec == DESK_ADDRESS


def test_build_message_with_crlf_in_the_message_id_writes_one_whole_id() -> None:
    """A CRLF in the id must neither start a new header nor leave a broken ``Message-ID``:
    either the message is refused (the sender then reports "cannot build the message") or the
    header carries one complete ``<left@right>`` on one line."""
    mailbox = mailbox_settings("127.0.0.1", 2525)
    payload = {"subject": "s", "message_id": f"abc{INJECTION}@desk.test", "text": "t"}
    try:
        msg = build_message(mailbox, "eve@example.org", payload)
    except ValueError:
        return  # refused: acceptable
    raw = msg.as_bytes()
    assert "bcc" not in header_names(raw)
    lines = [line for line in header_lines(raw) if line.lower().startswith("message-id:")]
    assert len(lines) == 1
    value = lines[0].split(":", 1)[1].strip()
    assert re.fullmatch(r"<[^<>\s]+@[^<>\s]+>", value), f"broken Message-ID header: {value!r}"


def test_a_refused_login_closes_its_connection(
    smtp_server_factory: Callable[..., SmtpServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = smtp_server_factory(auth=("desk", "pw"))
    monkeypatch.setenv(SMTP_ENV, "wrong-secret")
    sender = SmtpSender(
        mailbox_settings(
            server.host, server.port, smtp={"username": "desk", "password_env": SMTP_ENV}
        )
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        result = sender.send("ann@example.org", {"message_id": "x1@desk.test", "text": "t"})
        gc.collect()
    assert not result.ok and "login refused" in result.error
    # Only our client's socket to this server counts (the server thread's warnings land here too).
    ours = f"raddr=('{server.host}', {server.port})"
    leaked = [
        str(w.message)
        for w in caught
        if issubclass(w.category, ResourceWarning) and ours in str(w.message)
    ]
    assert leaked == [], "the SMTP connection was left open after the refused login"


def test_sender_envelope_has_only_the_customer(smtp_server: SmtpServer) -> None:
    sender = SmtpSender(mailbox_settings(smtp_server.host, smtp_server.port))
    result = sender.send(
        f'"Eve{INJECTION}, <evil@x.example>" <eve@example.org>',
        {"subject": "s", "message_id": "direct1@desk.test", "text": "t"},
    )
    assert (result.ok, result.error) == (True, "")
    [mail] = smtp_server.wait_for(1)
    assert_no_injection(mail, "eve@example.org")
    assert mail.message["To"].addresses[0].addr_spec == "eve@example.org"


# --------------------------------------------------------------------------------------------
# 7. The server is down


def test_unreachable_server_queues_and_retries_later(
    make_desk: MakeDesk, smtp_server_factory: Callable[..., SmtpServer], clock: FakeClock
) -> None:
    dead_port = free_port()  # nothing listens there
    desk = make_desk(mailbox_settings("127.0.0.1", dead_port))
    desk.add_agent("dana", role=Role.ENGINEER)
    mid = desk.reply(customer_writes(desk), "dana", "Answer.").message_id

    assert dispatch(desk) == 1
    row = outbox_row(desk, mid)
    assert (row["state"], row["attempts"]) == ("queued", 1)
    assert "cannot reach" in row["last_error"]
    assert f"127.0.0.1:{dead_port}" in row["last_error"]
    assert row["next_attempt_at"] == clock.now + RETRY_AFTER[0]
    msg = message(desk, mid)
    assert msg["delivery_state"] == "queued"
    assert "cannot reach" in (msg["delivery_error"] or "")

    # The server comes up (at a new port; the desk is restarted with the new config).
    server = smtp_server_factory()
    desk2 = make_desk(mailbox_settings(server.host, server.port))
    assert dispatch(desk2) == 0  # still waiting for its retry time
    clock.advance(seconds=RETRY_AFTER[0].total_seconds())
    assert dispatch(desk2) == 1
    [mail] = server.wait_for(1)
    assert mail.rcpt_tos == ("ann@example.org",)
    row = outbox_row(desk2, mid)
    assert (row["state"], row["attempts"], row["last_error"]) == ("sent", 2, None)
    assert message(desk2, mid)["delivery_state"] == "sent"


# --------------------------------------------------------------------------------------------
# 8. AUTH and STARTTLS


def test_auth_with_the_right_password_sends(
    make_desk: MakeDesk,
    smtp_server_factory: Callable[..., SmtpServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = smtp_server_factory(auth=("desk", "pw"))
    monkeypatch.setenv(SMTP_ENV, "pw")
    desk = desk_for(make_desk, server, smtp={"username": "desk", "password_env": SMTP_ENV})
    mid = desk.reply(customer_writes(desk), "dana", "Answer.").message_id
    assert dispatch(desk) == 1
    [mail] = server.wait_for(1)
    assert mail.login == "desk"
    assert [(login, ok) for _mech, login, ok in server.auth_attempts] == [("desk", True)]
    assert message(desk, mid)["delivery_state"] == "sent"


def test_auth_with_a_wrong_password_is_refused_and_not_sent(
    make_desk: MakeDesk,
    smtp_server_factory: Callable[..., SmtpServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = smtp_server_factory(auth=("desk", "pw"))
    monkeypatch.setenv(SMTP_ENV, "wrong-secret")
    desk = desk_for(make_desk, server, smtp={"username": "desk", "password_env": SMTP_ENV})
    mid = desk.reply(customer_writes(desk), "dana", "Answer.").message_id
    assert dispatch(desk) == 1
    assert server.messages == []
    row = outbox_row(desk, mid)
    assert row["state"] == "queued"
    assert "login refused" in row["last_error"].lower()
    assert "535" in row["last_error"]
    assert "wrong-secret" not in row["last_error"]
    msg = message(desk, mid)
    assert msg["delivery_state"] == "queued"
    assert "login refused" in (msg["delivery_error"] or "").lower()


def test_auth_without_the_password_variable_says_which_one(
    make_desk: MakeDesk,
    smtp_server_factory: Callable[..., SmtpServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = smtp_server_factory(auth=("desk", "pw"))
    monkeypatch.delenv(SMTP_ENV, raising=False)
    desk = desk_for(make_desk, server, smtp={"username": "desk", "password_env": SMTP_ENV})
    mid = desk.reply(customer_writes(desk), "dana", "Answer.").message_id
    assert dispatch(desk) == 1
    assert server.messages == []
    row = outbox_row(desk, mid)
    assert row["state"] == "queued"
    assert SMTP_ENV in row["last_error"]


def test_starttls_is_used_and_verified(
    make_desk: MakeDesk, smtp_server_factory: Callable[..., SmtpServer]
) -> None:
    server = smtp_server_factory(require_starttls=True)
    desk = desk_for(make_desk, server, smtp={"security": "starttls"})
    mid = desk.reply(customer_writes(desk), "dana", "Answer.").message_id
    assert dispatch(desk, cafile=str(server.cafile)) == 1
    [mail] = server.wait_for(1)
    assert mail.tls is True
    assert message(desk, mid)["delivery_state"] == "sent"
