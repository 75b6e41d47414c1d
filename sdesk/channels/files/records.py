"""JSON Lines records → ``Inbound`` (one message) or ``ImportedTicket`` (an sdesk export line).

The schema is documented in the README ("JSON Lines schema"); every error names the field.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from sdesk.channels.email.parse import safe_filename
from sdesk.core.clock import as_utc
from sdesk.core.contacts import contact
from sdesk.core.enums import AutoKind, Channel, ContactKind, MessageKind, Priority, Status
from sdesk.core.imports import ImportedMessage, ImportedTicket
from sdesk.core.inbound import ContactRef, Inbound, InboundAttachment, Sender

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
E = TypeVar("E", bound=StrEnum)
_SHA = re.compile(r"^[0-9a-f]{64}$")
_FROM_KEYS = {
    "address": ContactKind.EMAIL,
    "email": ContactKind.EMAIL,
    "phone": ContactKind.PHONE,
    "telegram_id": ContactKind.TELEGRAM,
    "account": ContactKind.ACCOUNT,
}


class RecordError(ValueError):
    """A record that does not follow the schema; the message says which field and why."""


def _str(record: dict[str, Any], key: str, default: str = "") -> str:
    value = record.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str | int | float):
        raise RecordError(f"'{key}' must be a string")
    return str(value)


def _enum(record: dict[str, Any], key: str, enum: type[E], default: E | None = None) -> E:
    value = record.get(key)
    if value is None:
        if default is None:
            raise RecordError(f"'{key}' is required")
        return default
    try:
        return enum(str(value).lower())
    except ValueError:
        choices = ", ".join(e.value for e in enum)
        raise RecordError(f"'{key}' must be one of: {choices}") from None


def _date(record: dict[str, Any], key: str) -> datetime | None:
    value = record.get(key)
    if value in (None, ""):
        return None
    try:
        return as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        raise RecordError(f"'{key}' must be an ISO 8601 date, e.g. 2026-11-01T09:30:00Z") from None


def _ids(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else str(value).split()
    return tuple(str(v).strip().strip("<>") for v in items if str(v).strip())


def _sender(value: Any, region: str) -> Sender:
    if value is None:
        return Sender()
    if isinstance(value, str):
        value = {"address": value} if "@" in value else {"phone": value}
    if not isinstance(value, dict):
        raise RecordError('\'from\' must be an object like {"address": ..., "name": ...}')
    refs: list[ContactRef] = []
    for key, kind in _FROM_KEYS.items():
        raw = value.get(key)
        if raw in (None, ""):
            continue
        ref = contact(kind, raw, region)
        if ref is None:
            raise RecordError(f"'from.{key}' is not a valid {kind.value}: {str(raw)[:60]!r}")
        if ref not in refs:
            refs.append(ref)
    return Sender(name=_str(value, "name") or None, contacts=tuple(refs))


def _attachments(value: Any, base: Path) -> tuple[InboundAttachment, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RecordError("'attachments' must be a list")
    out = []
    for n, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise RecordError(f"attachment {n} must be an object")
        name = safe_filename(_str(item, "filename") or _str(item, "name"), f"attachment-{n}.bin")
        ctype = _str(item, "content_type", "application/octet-stream")
        data: bytes | None = None
        if item.get("data_base64") is not None:
            try:
                data = base64.b64decode(str(item["data_base64"]), validate=True)
            except (binascii.Error, ValueError):
                raise RecordError(f"attachment {n}: 'data_base64' is not base64") from None
        elif item.get("path"):
            path = (base / str(item["path"])).resolve()
            try:
                if path.stat().st_size > MAX_ATTACHMENT_BYTES:
                    raise RecordError(f"attachment {n}: {path} is over 25 MiB")
                data = path.read_bytes()
            except OSError as exc:
                raise RecordError(f"attachment {n}: cannot read {path}: {exc.strerror}") from None
        if data is not None:
            out.append(InboundAttachment(name, ctype, data, bool(item.get("inline", False))))
            continue
        sha, size = _str(item, "sha256").lower(), item.get("size")
        if not _SHA.match(sha) or not isinstance(size, int):
            raise RecordError(f"attachment {n}: give data_base64, path, or sha256 and size")
        out.append(
            InboundAttachment(name, ctype, None, bool(item.get("inline", False)), None, size, sha)
        )
    return tuple(out)


def to_inbound(record: dict[str, Any], *, source: str, base: Path, region: str) -> Inbound:
    """A generic message from any channel (chat logs, call logs, other systems' exports)."""
    channel = _enum(record, "channel", Channel)
    if channel is Channel.INTERNAL:
        raise RecordError("'channel' internal is for notes; use one of email, telegram, ...")
    text = _str(record, "text")
    html = _str(record, "html") or None
    if not text and html:
        from sdesk.channels.email.parse import html_to_text

        text = html_to_text(html)
    auto = record.get("auto")
    date = _date(record, "date")
    in_reply_to = _ids(record.get("in_reply_to"))
    external_id = _str(record, "external_id") or None
    return Inbound(
        channel=channel,
        sender=_sender(record.get("from"), region),
        text=text,
        external_id=external_id,
        subject=_str(record, "subject"),
        html=html,
        attachments=_attachments(record.get("attachments"), base),
        message_id=_str(record, "message_id").strip("<>")
        or (external_id if channel is Channel.EMAIL else None),
        in_reply_to=in_reply_to,
        references=_ids(record.get("references")),
        chat_id=_str(record, "chat_id") or None,
        sent_at=date,
        received_at=date,
        auto=_enum(record, "auto", AutoKind) if auto else None,
        priority=_enum(record, "priority", Priority) if record.get("priority") else None,
        source=source,
    )


def is_ticket(record: dict[str, Any]) -> bool:
    return record.get("type") == "ticket" or "messages" in record


def to_ticket(record: dict[str, Any], *, base: Path, region: str) -> ImportedTicket:
    """One line of ``sdesk export``."""
    customer = record.get("customer") or {}
    if not isinstance(customer, dict):
        raise RecordError("'customer' must be an object")
    refs: list[ContactRef] = []
    for n, item in enumerate(customer.get("contacts") or [], start=1):
        if not isinstance(item, dict):
            raise RecordError(f"customer contact {n} must be an object")
        kind = _enum(item, "kind", ContactKind)
        ref = contact(kind, _str(item, "value"), region)
        if ref is None:
            raise RecordError(f"customer contact {n}: not a valid {kind.value}")
        refs.append(ref)
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RecordError("'messages' must be a non-empty list")
    created = _date(record, "created_at")
    imported = []
    for n, m in enumerate(messages, start=1):
        if not isinstance(m, dict):
            raise RecordError(f"message {n} must be an object")
        try:
            imported.append(_imported_message(m, base))
        except RecordError as exc:
            raise RecordError(f"message {n}: {exc}") from None
    number = record.get("number")
    return ImportedTicket(
        number=number if isinstance(number, int) and number > 0 else None,
        subject=_str(record, "subject"),
        status=_enum(record, "status", Status, Status.NEW),
        priority=_enum(record, "priority", Priority, Priority.NORMAL),
        channel=_enum(record, "channel", Channel),
        customer=Sender(name=_str(customer, "name") or None, contacts=tuple(refs)),
        created_at=created or imported[0].created_at,
        messages=tuple(imported),
        assignee=_str(record, "assignee") or None,
        updated_at=_date(record, "updated_at"),
        chat_key=_str(record, "chat_key") or None,
    )


def _imported_message(m: dict[str, Any], base: Path) -> ImportedMessage:
    created = _date(m, "created_at")
    if created is None:
        raise RecordError("'created_at' is required")
    channel = _enum(m, "channel", Channel)
    text = _str(m, "text")
    external_id = _str(m, "external_id") or (
        "sha256:" + hashlib.sha256(f"{created.isoformat()}\0{text}".encode()).hexdigest()
    )
    return ImportedMessage(
        kind=_enum(m, "kind", MessageKind),
        channel=channel,
        external_id=external_id,
        text=text,
        created_at=created,
        subject=_str(m, "subject"),
        author_name=_str(m, "author"),
        author_agent=_str(m, "author_agent") or None,
        author_address=_str(m, "author_address") or None,
        message_id=_str(m, "message_id") or None,
        in_reply_to=" ".join(_ids(m.get("in_reply_to"))) or None,
        references=" ".join(_ids(m.get("references"))) or None,
        auto=_enum(m, "auto", AutoKind).value if m.get("auto") else None,
        delivery_state=_str(m, "delivery_state") or None,
        attachments=_attachments(m.get("attachments"), base),
    )
