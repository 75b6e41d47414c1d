"""The desk's tables. Schema changes go through Alembic (``sdesk/store/migrations``).

Enum-valued columns hold the enum's string value so the database stays readable without sdesk.
All times are UTC.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

from sdesk.store.rawcodec import Blobs, unpack_checked
from sdesk.store.types import UTCDateTime


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    created_at: datetime = Field(sa_type=UTCDateTime)
    note: str = ""


class Contact(SQLModel, table=True):
    """One way to reach a customer; (kind, value) finds the same person across channels."""

    __table_args__ = (UniqueConstraint("kind", "value", name="uq_contact_kind_value"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: str
    value: str
    display: str = ""
    created_at: datetime = Field(sa_type=UTCDateTime)


class Agent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True)
    name: str = ""
    role: str = "dispatcher"
    email: str | None = None
    phone: str | None = None
    telegram_chat: str | None = None
    push_target: str | None = None
    group_id: int | None = Field(default=None, foreign_key="agent_group.id")
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)


class AgentGroup(SQLModel, table=True):
    __tablename__ = "agent_group"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class Ticket(SQLModel, table=True):
    """``version`` rises with every change so a write made on stale data can be refused."""

    __table_args__ = (
        Index("ix_ticket_status_due", "status", "first_response_due"),
        Index("ix_ticket_chat", "chat_key", "status"),
        Index("ix_ticket_last_message", "last_message_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    subject: str = ""
    status: str = Field(default="new", index=True)
    priority: str = "normal"
    channel: str
    customer_id: int = Field(foreign_key="customer.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="agent.id", index=True)
    group_id: int | None = Field(default=None, foreign_key="agent_group.id")
    chat_key: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(index=True, sa_type=UTCDateTime)
    last_message_at: datetime = Field(sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_response_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    pending_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The SLA clock stops while pending (migration 0009): when it went pending, and how long
    # it has been paused in all, so due times recomputed from ``created_at`` keep the pauses.
    pending_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sla_paused_seconds: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    merged_into_id: int | None = Field(default=None, foreign_key="ticket.id")
    rating: int | None = None  # the customer's satisfaction, 1 (bad) to 5 (great)
    # When the field engineer on the way arrives (migration 0015; core/arrival.py).
    arrival_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1


class Message(SQLModel, table=True):
    """One entry of a ticket's thread; (channel, external_id) makes intake idempotent."""

    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_message_channel_external"),
        Index("ix_message_ticket_created", "ticket_id", "created_at"),
        Index("ix_message_id_ticket", "id", "ticket_id"),  # search: a message's ticket (0005)
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    kind: str
    channel: str
    external_id: str
    message_id: str | None = Field(default=None, index=True)  # RFC 5322 id, ours or theirs
    in_reply_to: str | None = Field(default=None, index=True)  # space-separated ids
    references: str | None = None
    subject: str = ""
    text: str = ""
    author_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    author_customer_id: int | None = Field(default=None, foreign_key="customer.id")
    author_name: str = ""
    author_address: str | None = None  # where a reply to this message goes
    auto: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)
    delivery_state: str | None = None
    delivery_error: str | None = None
    # Indexed: the packing after a sync (core/compact.py) finds a raw row's attachments by it.
    raw_id: int | None = Field(default=None, foreign_key="raw_inbound.id", index=True)
    notes: str = ""


class Draft(SQLModel, table=True):
    """An agent's unsent reply on a ticket, saved while typing so it survives quit and crash."""

    __table_args__ = (UniqueConstraint("agent_id", "ticket_id", name="uq_draft_agent_ticket"),)

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id")
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    text: str = ""
    kind: str = "reply"  # or "note": a draft keeps its kind (a note must not go out as a reply)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    filename: str
    content_type: str
    size: int
    sha256: str = Field(index=True)
    inline: bool = False
    content_id: str | None = None
    stored: bool = True  # False when only metadata came in (an export without blobs)


class Event(SQLModel, table=True):
    """The audit log: one row per thing that happened."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    kind: str = Field(index=True)
    actor: str = ""
    data: str = "{}"  # JSON
    created_at: datetime = Field(index=True, sa_type=UTCDateTime)


class Outbox(SQLModel, table=True):
    """An outbound effect written with the act that caused it; a dispatcher sends it."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    channel: str
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id")
    recipient: str
    payload: str = "{}"  # JSON
    state: str = Field(default="queued", index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    last_error: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    idempotency_key: str = Field(unique=True)
    # A send in several parts (a long Telegram reply, its files): how many went, and the last
    # one's channel id, so a send cut short goes on from the next part (migration 0014).
    parts_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    sent_ref: str | None = None


class ChannelCursor(SQLModel, table=True):
    """A channel's position (IMAP UIDVALIDITY + last UID, Telegram offset), moved with intake."""

    __tablename__ = "channel_cursor"
    __table_args__ = (UniqueConstraint("channel", "account", "folder", name="uq_cursor"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    account: str
    folder: str = ""
    validity: str | None = None
    position: str = ""
    updated_at: datetime = Field(sa_type=UTCDateTime)


class RawInbound(SQLModel, table=True):
    """The raw bytes of what came in, kept so a parse failure never loses a message.

    ``raw`` is stored as ``raw_codec`` says (``sdesk.store.rawcodec``: NULL on rows older than
    migration 0007 means as they came); ``original()`` gives the exact bytes back.
    """

    __tablename__ = "raw_inbound"
    # The rows a large sync kept as they came, found by the packing after it (core/compact.py)
    # without reading every packed row.
    __table_args__ = (
        Index(
            "ix_raw_inbound_unpacked",
            "id",
            sqlite_where=sql_text("raw_codec IS NULL"),
            postgresql_where=sql_text("raw_codec IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    sha256: str = Field(index=True)
    external_id: str | None = None
    source: str = ""
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: str = Field(default="stored", index=True)
    error: str | None = None
    received_at: datetime = Field(sa_type=UTCDateTime)
    raw_codec: str | None = None
    raw_size: int | None = None  # bytes of the original message (NULL on old rows: len(raw))

    def original(self, blobs: Blobs | None = None) -> bytes:
        """The exact bytes that came in, checked against ``sha256``; ``blobs`` (the store's
        ``BlobStore.get``) reads the attachment bodies a row shares with the blob store."""
        return unpack_checked(self.raw, self.raw_codec, self.sha256, blobs)


class Lease(SQLModel, table=True):
    """One holder per poller or scheduler, with an expiry so a dead holder is replaced."""

    name: str = Field(primary_key=True)
    holder: str
    expires_at: datetime = Field(sa_type=UTCDateTime)


class Presence(SQLModel, table=True):
    """Who is looking at or answering which ticket right now (collision detection).

    One row per agent, refreshed by the console's heartbeat; a row past ``expires_at`` is stale.
    """

    agent: str = Field(primary_key=True)
    ticket_number: int = Field(index=True)
    activity: str = "viewing"  # or "replying"
    expires_at: datetime = Field(sa_type=UTCDateTime)


class MailboxHealth(SQLModel, table=True):
    """How a mailbox's poller is doing, written by whichever process holds its lease, so every
    console can show it. State changes are written at once, good polls at most every few seconds.
    """

    __tablename__ = "mailbox_health"

    mailbox: str = Field(primary_key=True)  # the mailbox's name in config
    connected: bool = False
    since: datetime = Field(sa_type=UTCDateTime)  # when ``connected`` last changed
    last_poll_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None  # one line, never a secret
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    holder: str = ""  # the process that wrote it (lease holder id)


class TelegramUpdate(SQLModel, table=True):
    """Every Telegram update the desk took, raw, once per bot and ``update_id`` (ARCHITECTURE.md
    rules 1-2): stored with the poller's cursor in one transaction, so a crash or a webhook's
    re-delivery can never take one twice. ``message_id`` is the message it made or changed;
    ``media_group`` joins an album's later photos to its first one."""

    __tablename__ = "telegram_update"
    __table_args__ = (
        UniqueConstraint("bot_id", "update_id", name="uq_telegram_update"),
        Index("ix_telegram_update_group", "bot_id", "media_group"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(sa_type=BigInteger)
    update_id: int = Field(sa_type=BigInteger)
    kind: str = ""  # message, edited_message, callback_query, ... or "quarantined"
    chat_id: str | None = None
    media_group: str | None = None
    message_id: int | None = Field(default=None, foreign_key="message.id")
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # the update's JSON
    received_at: datetime = Field(sa_type=UTCDateTime)


class TelegramFile(SQLModel, table=True):
    """A file a stored Telegram message names but whose download failed or is still due: the
    message is stored with a note, the file fetched in a later pass (never holding the queue)."""

    __tablename__ = "telegram_file"

    id: int | None = Field(default=None, primary_key=True)
    bot_id: int = Field(sa_type=BigInteger)
    message_id: int = Field(foreign_key="message.id", index=True)
    file_id: str
    filename: str
    content_type: str
    size: int | None = None
    state: str = Field(default="pending", index=True)  # pending | done | failed
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)


class TelegramDialogue(SQLModel, table=True):
    """Where a chat stands in the bot's /new dialogue (JSON), so a restart resumes it."""

    __tablename__ = "telegram_dialogue"

    bot_id: int = Field(sa_type=BigInteger, primary_key=True)
    chat_id: str = Field(primary_key=True)
    state: str = "{}"
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A bearer token for the REST API (``core/tokens.py``): only its sha256 is kept, so a copy
    of the database gives no one a usable token. ``kind`` says whose: a customer's (sees only
    their own tickets), an agent's (acts with the agent's role) or an integration's."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    kind: str  # customer | agent | integration
    token_hash: str = Field(unique=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiRequest(SQLModel, table=True):
    """A POST made with an ``Idempotency-Key`` (``core/idempotency.py``): claimed before the act,
    its first answer kept, so a retry — from any process, after a restart — gets that answer."""

    __tablename__ = "api_request"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_api_request_key"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="api_token.id")
    key: str
    request_hash: str  # sha256 of method, path and body: the same key with another body is refused
    state: str = "pending"  # pending | done
    status_code: int | None = None
    response: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(sa_type=UTCDateTime)


class SigninLink(SQLModel, table=True):
    """A one-time sign-in link asked for by email (``core/signin.py``), or only the request when
    the address names no customer: every request counts toward the per-address and per-client
    limits, so the answer is the same whether or not the address is known. The code itself is
    never stored, only its sha256; the address and the client (an IP) only as sha256 hashes."""

    __tablename__ = "signin_link"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str | None = Field(default=None, unique=True)  # NULL: no customer, no link
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    purpose: str = "cabinet"  # cabinet | app
    address_hash: str = Field(index=True)
    client_hash: str = Field(default="", index=True)
    created_at: datetime = Field(index=True, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A customer signed in to the web cabinet (``core/websession.py``): the cookie's token is
    never stored, only its sha256, so a copy of the database opens no one's cabinet."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(index=True, sa_type=UTCDateTime)


class PhoneCall(SQLModel, table=True):
    """A call through Twilio: an agent's click-to-call or a customer's call to the desk's
    number, with its state as Twilio reports it (status callbacks, or polling without a public
    URL). ``message_id`` is its call-log entry in the thread. ``active_ticket`` holds the
    ticket's id while an outbound call is under way and NULL after: its unique index makes
    "one call at a time per ticket" hold on every database, whatever a held key sends."""

    __tablename__ = "phone_call"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", unique=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    direction: str  # outbound | inbound
    agent_id: int | None = Field(default=None, foreign_key="agent.id", index=True)
    customer_number: str
    agent_number: str | None = None
    sid: str | None = Field(default=None, unique=True)  # Twilio's CallSid, once placed
    state: str = "requested"  # requested, then Twilio's: queued, ringing, in-progress, ...
    active_ticket: int | None = Field(default=None, unique=True)
    error: str | None = None
    created_at: datetime = Field(index=True, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duration: int | None = None  # seconds, as Twilio counts them
    hangup_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # asked by the agent
    recording_sid: str | None = Field(default=None, unique=True)
    recording_url: str | None = None
    recording_duration: int | None = None
    transcription: str | None = None
