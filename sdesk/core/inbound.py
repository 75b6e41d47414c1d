"""What a channel adapter hands to ``Desk.intake``: plain data, no business rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sdesk.core.enums import AutoKind, Channel, ContactKind, Priority


@dataclass(frozen=True, slots=True)
class ContactRef:
    """One way to reach a person, normalised by ``sdesk.core.contacts.normalise``."""

    kind: ContactKind
    value: str


@dataclass(frozen=True, slots=True)
class Sender:
    """Who wrote; several contacts link them to ONE customer (email + Telegram + phone)."""

    name: str | None = None
    contacts: tuple[ContactRef, ...] = ()


@dataclass(frozen=True, slots=True)
class InboundAttachment:
    filename: str  # already sanitised for display; never used as a storage path
    content_type: str
    data: bytes | None  # None when only metadata is known (e.g. an export without blobs)
    inline: bool = False
    content_id: str | None = None
    size: int | None = None  # required when data is None
    sha256: str | None = None  # required when data is None


@dataclass(frozen=True, slots=True)
class Inbound:
    """One inbound message from any channel.

    ``external_id`` is the idempotency key within the channel (normalised Message-ID, Telegram
    update id, API Idempotency-Key...). ``message_id`` / ``in_reply_to`` / ``references`` are
    RFC 5322 ids used for threading; ``chat_id`` keys chat channels' conversations.
    """

    channel: Channel
    sender: Sender
    text: str
    external_id: str | None = None
    subject: str = ""
    html: str | None = None
    attachments: tuple[InboundAttachment, ...] = ()
    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    reply_to: str | None = None
    chat_id: str | None = None
    sent_at: datetime | None = None
    received_at: datetime | None = None
    auto: AutoKind | None = None
    priority: Priority | None = None  # a hint from the channel (API, import); else normal
    raw: bytes | None = None
    source: str | None = None  # where it came from, for the audit log (file path, mailbox...)
    notes: tuple[str, ...] = ()  # parser remarks shown to operators (truncated part, cap hit...)
    meta: dict[str, str] = field(default_factory=dict)
    # The customer asked for a new ticket (a chat bot's /new): the open chat is not joined.
    new_ticket: bool = False
    # A signed-in customer (the web cabinet, the app): who wrote is known, contacts are not
    # looked up; and the ticket they wrote on (its owner checked by the caller, in the same
    # transaction), joined before any other threading rule.
    customer_id: int | None = None
    ticket_number: int | None = None
    # ``raw`` kept as it came (``raw_codec`` NULL) and packed after the sync that stored it
    # (``core/compact.py``): a large IMAP sync does not pay for compression while it fills the
    # inbox (``store/rawcodec.py``).
    pack_later: bool = False
