"""Closed vocabularies of the domain, stored as their string values.

A leaf module: it imports nothing from sdesk, so the store and the core can both use it without
the store depending on the core (the ``store-below-core`` contract in pyproject.toml).
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """Where a message travelled. ``internal`` is for notes and system entries."""

    EMAIL = "email"
    TELEGRAM = "telegram"
    PHONE = "phone"
    SMS = "sms"
    WEB = "web"
    APP = "app"
    API = "api"  # an integration (a shop, a monitoring system, a CRM) through the REST API
    INTERNAL = "internal"

    @property
    def label(self) -> str:
        """Short label for narrow columns."""
        return _LABELS[self]

    @property
    def is_chat(self) -> bool:
        """Chat channels thread by conversation, not headers (ARCHITECTURE.md threading rules)."""
        return self in (
            Channel.TELEGRAM,
            Channel.SMS,
            Channel.PHONE,
            Channel.WEB,
            Channel.APP,
            Channel.API,
        )


_LABELS = {
    Channel.EMAIL: "MAIL",
    Channel.TELEGRAM: "TG",
    Channel.PHONE: "CALL",
    Channel.SMS: "SMS",
    Channel.WEB: "WEB",
    Channel.APP: "APP",
    Channel.API: "API",
    Channel.INTERNAL: "INT",
}


class ContactKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    TELEGRAM = "telegram"
    ACCOUNT = "account"  # a web-cabinet / mobile-app user id


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_active(self) -> bool:
        return self in (Status.NEW, Status.OPEN, Status.PENDING)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """Higher is more urgent; used for ordering."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class MessageKind(StrEnum):
    INBOUND = "inbound"
    REPLY = "reply"
    NOTE = "note"
    CALL = "call"
    SYSTEM = "system"


class AutoKind(StrEnum):
    """Why a message must never trigger an automatic answer (RFC 3834 and friends)."""

    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    LIST = "list"
    BULK = "bulk"


class DeliveryState(StrEnum):
    QUEUED = "queued"
    # Stored and queued, but no sender is set up for its channel yet (no SMTP for the mailbox,
    # no bot): ``delivery_error`` says why; the dispatcher sends it once one is configured.
    WAITING = "waiting"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"  # the channel confirmed it reached the customer (SMS callbacks)
    FAILED = "failed"


class Role(StrEnum):
    DISPATCHER = "dispatcher"
    ENGINEER = "engineer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class RawState(StrEnum):
    """What became of a raw inbound record."""

    STORED = "stored"
    QUARANTINED = "quarantined"
