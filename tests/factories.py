"""Small builders for Inbound records, so tests say only what matters to them."""

from __future__ import annotations

from datetime import datetime

from sdesk.core.enums import AutoKind, Channel, ContactKind
from sdesk.core.inbound import ContactRef, Inbound, Sender


def email(
    external_id: str | None,
    *,
    frm: str = "ann@example.org",
    name: str = "Ann Lee",
    subject: str = "Printer on fire",
    text: str = "Please help.",
    in_reply_to: tuple[str, ...] = (),
    references: tuple[str, ...] = (),
    auto: AutoKind | None = None,
    raw: bytes | None = None,
    sent_at: datetime | None = None,
) -> Inbound:
    return Inbound(
        channel=Channel.EMAIL,
        sender=Sender(name, (ContactRef(ContactKind.EMAIL, frm),)),
        text=text,
        subject=subject,
        external_id=external_id,
        message_id=external_id,
        in_reply_to=in_reply_to,
        references=references,
        auto=auto,
        raw=raw,
        sent_at=sent_at,
    )


def chat(
    channel: Channel,
    external_id: str,
    text: str,
    *contacts: ContactRef,
    name: str = "Ann Lee",
    chat_id: str | None = None,
) -> Inbound:
    return Inbound(
        channel=channel,
        sender=Sender(name, contacts),
        text=text,
        external_id=external_id,
        chat_id=chat_id,
    )


def raw_mail(
    mid: str,
    subject: str,
    text: str = "Still broken, sorry.",
    *,
    in_reply_to: str | None = None,
    to: str = "Northwind Support <support@desk.test>",
) -> bytes:
    """A customer's mail as it sits in an IMAP folder (Ann Lee writing to the test desk)."""
    headers = [
        "From: Ann Lee <ann@example.org>",
        f"To: {to}",
        f"Subject: {subject}",
        "Date: Mon, 02 Nov 2026 09:00:00 +0000",
        f"Message-ID: <{mid}>",
    ]
    if in_reply_to:
        headers += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    return ("\r\n".join(headers) + f"\r\n\r\n{text}\r\n").encode()
