"""Replies with attachments and quoted history, through the real outbox and an aiosmtpd server.

The files are copied into the desk when the reply is queued, so they still go out after the
operator's copy is gone; names are made safe, types guessed, a cap refuses what is too big.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from sdesk.config import EmailSettings, Settings
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind, Role
from sdesk.core.errors import DeskError, NoRoute
from sdesk.core.inbound import ContactRef
from sdesk.store.engine import open_store
from sdesk.store.models import Attachment
from tests.conftest import FakeClock
from tests.factories import chat
from tests.factories import email as email_in
from tests.integration.mailservers import SmtpServer
from tests.integration.test_smtp_outbox import (
    IMAP_ENV,
    dispatch,
    mailbox_settings,
    message,
    outbox_row,
)

pytestmark = pytest.mark.timeout(120)

CUSTOMER_TEXT = "My printer is on fire.\nIt started this morning.\r\n\r\nAnn"


@pytest.fixture
def desk_with(
    tmp_path: Path, clock: FakeClock, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
):
    """``make(**email_settings)`` → a desk on tmp_path with the test SMTP server and agent dana."""
    monkeypatch.setenv(IMAP_ENV, "imap-secret")
    desks: list[Desk] = []

    def make(**email: object) -> Desk:
        desk = Desk(
            open_store(tmp_path / "desk.db"),
            Settings(
                desk_domain="desk.test",
                mailboxes=[mailbox_settings(smtp_server.host, smtp_server.port)],
                email=EmailSettings(**email),  # type: ignore[arg-type]
            ),
            clock=clock,
        )
        desks.append(desk)
        if len(desks) == 1:
            desk.add_agent("dana", name="Dana Agent", role=Role.ENGINEER)
        return desk

    yield make
    for desk in desks:
        desk.close()


def customer_writes(desk: Desk) -> int:
    result = desk.intake(email_in("m1@example.org", text=CUSTOMER_TEXT))
    assert result.ticket_number is not None
    return result.ticket_number


def sent_mail(smtp_server: SmtpServer) -> email.message.EmailMessage:
    [mail] = smtp_server.wait_for(1)
    parsed = email.message_from_bytes(mail.raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


# --------------------------------------------------------------------------------------------
# Attachments


def test_attachments_arrive_intact_with_safe_names(
    desk_with, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    desk = desk_with()
    number = customer_writes(desk)
    folder = tmp_path / "operator"
    folder.mkdir()
    pdf = folder / "line test.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 400)
    hostile = folder / "invoice\u202egpj.exe"  # a bidi override hides the real extension
    hostile.write_bytes(b"MZ\x00\x00not really")
    text = folder / "Протокол.txt"
    text.write_text("строка 1\nline 2\n", encoding="utf-8")

    mid = desk.reply(
        number, "dana", "The test report is attached.", files=[pdf, str(hostile), text]
    ).message_id
    # The outbox does not depend on the operator's files any more.
    for path in (pdf, hostile, text):
        path.unlink()

    with desk.store.read() as s:
        stored = s.execute(select(Attachment).where(Attachment.message_id == mid)).scalars().all()
    assert [(a.filename, a.content_type) for a in stored] == [
        ("line test.pdf", "application/pdf"),
        ("invoicegpj.exe", "application/x-msdos-program"),
        ("Протокол.txt", "text/plain"),
    ]
    assert all(a.stored and desk.store.blobs.has(a.sha256) for a in stored)

    assert dispatch(desk) == 1
    m = sent_mail(smtp_server)
    assert m.is_multipart()
    body = m.get_body(("plain",))
    assert body is not None and body.get_content().startswith("The test report is attached.")
    parts = list(m.iter_attachments())
    assert [p.get_filename() for p in parts] == ["line test.pdf", "invoicegpj.exe", "Протокол.txt"]
    assert [p.get_content_type() for p in parts] == [
        "application/pdf",
        "application/x-msdos-program",
        "text/plain",
    ]
    payloads = [p.get_payload(decode=True) for p in parts]
    assert payloads[0] == b"%PDF-1.4\n" + bytes(range(256)) * 400
    assert payloads[1] == b"MZ\x00\x00not really"
    assert payloads[2] == "строка 1\nline 2\n".encode()
    for part in parts:
        assert part["Content-Disposition"].startswith("attachment")
        assert "\u202e" not in str(part.get_filename())
    assert message(desk, mid)["delivery_state"] == "sent"


def test_an_attachment_name_cannot_inject_headers(
    desk_with, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    desk = desk_with()
    number = customer_writes(desk)
    evil = tmp_path / 'a"\r\nBcc: evil@x.example\r\n.txt'
    evil.write_bytes(b"x")
    desk.reply(number, "dana", "File.", files=[evil])
    assert dispatch(desk) == 1
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ("ann@example.org",)
    assert b"\r\nBcc:" not in mail.raw
    [part] = sent_mail(smtp_server).iter_attachments()
    name = part.get_filename()
    assert name is not None and "\r" not in name and "\n" not in name
    assert part.get_payload(decode=True) == b"x"


def test_the_size_cap_refuses_with_a_clear_message(desk_with, tmp_path: Path) -> None:
    desk = desk_with(max_attachments_mb=1)
    number = customer_writes(desk)
    small, big = tmp_path / "small.bin", tmp_path / "big.bin"
    small.write_bytes(b"s" * 600_000)
    big.write_bytes(b"b" * 600_000)
    with pytest.raises(DeskError, match=r"big\.bin.*over the 1\.0 MB cap.*max_attachments_mb"):
        desk.reply(number, "dana", "Two files.", files=[small, big])
    with pytest.raises(DeskError, match=r"cannot attach .*missing\.pdf"):
        desk.reply(number, "dana", "A file.", files=[tmp_path / "missing.pdf"])
    with pytest.raises(DeskError, match="not a regular file"):
        desk.reply(number, "dana", "A folder.", files=[tmp_path])
    # Nothing was queued by the refusals; one file under the cap goes.
    mid = desk.reply(number, "dana", "One file.", files=[small]).message_id
    assert outbox_row(desk, mid)["state"] == "queued"


def test_a_blob_that_vanished_fails_the_send_visibly(
    desk_with, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    desk = desk_with()
    number = customer_writes(desk)
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n1,2\n")
    mid = desk.reply(number, "dana", "Report.", files=[path]).message_id
    desk.store.blobs.path(hashlib.sha256(b"a,b\n1,2\n").hexdigest()).unlink()
    assert dispatch(desk) == 1
    assert smtp_server.messages == []
    msg = message(desk, mid)
    assert msg["delivery_state"] == "failed"
    assert "report.csv" in msg["delivery_error"] and "not in the desk" in msg["delivery_error"]


def test_files_only_go_by_email(desk_with, tmp_path: Path) -> None:
    desk = desk_with()
    result = desk.intake(
        chat(Channel.SMS, "sms-1", "Hi", ContactRef(ContactKind.PHONE, "+15550100123"))
    )
    assert result.ticket_number is not None
    path = tmp_path / "a.txt"
    path.write_text("x")
    with pytest.raises(NoRoute, match="only email, Telegram and the web cabinet carry attachments"):
        desk.reply(result.ticket_number, "dana", "See file.", files=[path])


# --------------------------------------------------------------------------------------------
# Quoted history


def test_quoted_history_by_default(desk_with, smtp_server: SmtpServer) -> None:
    desk = desk_with()
    number = customer_writes(desk)
    mid = desk.reply(number, "dana", "We are on it.").message_id
    assert dispatch(desk) == 1
    body = sent_mail(smtp_server).get_content()
    assert body.replace("\r\n", "\n").rstrip("\n") == (
        "We are on it.\n\n"
        "On Mon, 2 Nov 2026 09:00 UTC, Ann Lee wrote:\n"
        "> My printer is on fire.\n"
        "> It started this morning.\n"
        ">\n"
        "> Ann"
    )
    # The thread shows what the operator wrote; the quote is the mail's business.
    assert message(desk, mid)["text"] == "We are on it."


def test_quoting_off_per_reply_and_by_config(desk_with, smtp_server: SmtpServer) -> None:
    desk = desk_with()
    number = customer_writes(desk)
    desk.reply(number, "dana", "No quote here.", quote=False)
    assert dispatch(desk) == 1
    body = sent_mail(smtp_server).get_content()
    assert "wrote:" not in body and ">" not in body
    smtp_server.clear()

    desk2 = desk_with(quote_history=False)
    desk2.reply(number, "dana", "Nor here.")
    desk2.reply(number, "dana", "But here.", quote=True)
    assert dispatch(desk2) == 2
    bodies = [m.message.get_content() for m in smtp_server.wait_for(2)]
    assert "wrote:" not in bodies[0]
    assert "Ann Lee wrote:\n> My printer is on fire." in bodies[1].replace("\r\n", "\n")


def test_a_long_message_is_quoted_shortened(desk_with, smtp_server: SmtpServer) -> None:
    desk = desk_with(quote_max_chars=500)
    long_text = "\n".join(f"line {i:04d} " + "x" * 40 for i in range(2000))
    result = desk.intake(email_in("long@example.org", text=long_text))
    assert result.ticket_number is not None
    desk.reply(result.ticket_number, "dana", "Short answer.")
    assert dispatch(desk) == 1
    body = sent_mail(smtp_server).get_content().replace("\r\n", "\n")
    quoted = [line for line in body.splitlines() if line.startswith(">")]
    assert quoted[0] == "> line 0000 " + "x" * 40
    assert quoted[-1] == "> [… shortened]"
    assert len("\n".join(quoted)) < 700
