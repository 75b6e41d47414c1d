"""A Telegram update → an ``Inbound`` (and the files it names), no business rules.

Every message type the bot may get is kept readable: text and captions as they are, photos
(the largest size), documents, voice, audio, video and video notes as attachments, stickers as
``[sticker 😀]``, locations and venues as text with their coordinates, a shared contact as text
(its phone joining the customer's contacts when it is the sender's own). Replies name the
message they answer, so they thread onto its ticket; edits and album parts are told apart by
``store``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sdesk.channels.telegram.reading import ChatMessage, Person
from sdesk.core.chats import PendingFile, stored_update_ids
from sdesk.core.contacts import contact
from sdesk.core.enums import Channel, ContactKind
from sdesk.core.filenames import safe_filename
from sdesk.core.inbound import ContactRef, Inbound, Sender

__all__ = ["FileRef", "Parsed", "message_ref", "parse_message", "stored_update_ids"]


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file a message carries: fetched by ``files`` before the batch is stored."""

    file_id: str
    filename: str
    content_type: str
    size: int | None

    def pending(self) -> PendingFile:
        return PendingFile(self.file_id, self.filename, self.content_type, self.size)


@dataclass(slots=True)
class Parsed:
    """What one message says, before its files are fetched."""

    inbound: Inbound
    files: list[FileRef] = field(default_factory=list)
    shared: tuple[ContactRef, ...] = ()  # a shared own phone, for the customer's contacts


def message_ref(chat_id: int | str, message_id: int) -> str:
    """How the desk names a Telegram message (``message.message_id``): replies find it."""
    return f"tg:{chat_id}:{message_id}"


def sender_of(user: Person | None, chat_id: int, region: str) -> Sender:
    if user is None:  # a channel post: the chat is all we know
        ref = contact(ContactKind.TELEGRAM, chat_id, region)
        return Sender(name=None, contacts=(ref,) if ref else ())
    ref = contact(ContactKind.TELEGRAM, user.id, region)
    name = user.full_name or (f"@{user.username}" if user.username else None)
    return Sender(name=name, contacts=(ref,) if ref else ())


def _duration(data: dict[str, object], field: str) -> str:
    """m:ss of a media field's ``duration``, read from the message's JSON (PTB's attribute is
    moving from int to timedelta and warns on every read)."""
    value = data.get(field)
    seconds = value.get("duration") if isinstance(value, dict) else None
    total = int(seconds) if isinstance(seconds, int | float) else 0
    return f"{total // 60}:{total % 60:02d}"


def parse_message(
    message: ChatMessage, data: dict[str, Any], bot_id: int, update_id: int, region: str
) -> Parsed:
    """The ``Inbound`` for one message (new or edited: ``store`` decides which); ``data`` is
    the message's JSON as it came (read for the durations: PTB's attribute warns on reads)."""
    chat_id = message.chat_id
    parts: list[str] = []
    files: list[FileRef] = []
    notes: list[str] = []
    shared: list[ContactRef] = []
    body = message.text or message.caption or ""
    if message.photo:
        photo = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        files.append(
            FileRef(photo.file_id, f"photo-{message.message_id}.jpg", "image/jpeg", photo.file_size)
        )
    if message.document:
        doc = message.document
        name = safe_filename(doc.file_name or "", f"document-{message.message_id}")
        files.append(
            FileRef(doc.file_id, name, doc.mime_type or "application/octet-stream", doc.file_size)
        )
    if message.voice:
        v = message.voice
        parts.append(f"[voice message {_duration(data, 'voice')}]")
        files.append(
            FileRef(v.file_id, f"voice-{message.message_id}.ogg", v.mime_type or "audio/ogg",
                    v.file_size)
        )  # fmt: skip
    if message.audio:
        a = message.audio
        title = " – ".join(x for x in (a.performer, a.title) if x)
        parts.append(
            f"[audio {title or a.file_name or ''} {_duration(data, 'audio')}]".replace("  ", " ")
        )
        name = safe_filename(a.file_name or "", f"audio-{message.message_id}.mp3")
        files.append(FileRef(a.file_id, name, a.mime_type or "audio/mpeg", a.file_size))
    if message.video:
        vd = message.video
        parts.append(f"[video {_duration(data, 'video')}]")
        name = safe_filename(vd.file_name or "", f"video-{message.message_id}.mp4")
        files.append(FileRef(vd.file_id, name, vd.mime_type or "video/mp4", vd.file_size))
    if message.video_note:
        vn = message.video_note
        parts.append(f"[video note {_duration(data, 'video_note')}]")
        files.append(
            FileRef(vn.file_id, f"video-note-{message.message_id}.mp4", "video/mp4", vn.file_size)
        )
    if message.sticker:
        parts.append(f"[sticker {message.sticker_emoji or ''}]".replace(" ]", "]"))
    if message.venue:
        ve = message.venue
        parts.append(f"[venue {ve.title}, {ve.address} ({ve.latitude:.6f}, {ve.longitude:.6f})]")
    elif message.location:
        lo = message.location
        parts.append(f"[location {lo.latitude:.6f}, {lo.longitude:.6f}]")
    if message.contact:
        c = message.contact
        name = " ".join(x for x in (c.first_name, c.last_name) if x)
        parts.append(f"[contact {name} {c.phone_number}]".replace("  ", " "))
        # Telegram's "share my phone number" sends the sender's own user_id; an address-book
        # contact is someone else's and never joins this customer.
        own = message.user is not None and c.user_id == message.user.id
        phone = contact(ContactKind.PHONE, "+" + c.phone_number.lstrip("+"), region)
        if own and phone is not None:
            shared.append(phone)
        elif phone is not None:
            notes.append("a contact of someone else: not added to the customer")
    for f in files:
        if f.size is not None and f.size <= 0:
            notes.append(f"file {f.filename} is empty")
    if not body and not parts and not files:
        parts.append("[a message sdesk cannot show: " + _kind_of(data) + "]")
    text = "\n".join(x for x in (body, *parts) if x)
    sender = sender_of(message.user, chat_id, region)
    if shared:
        sender = Sender(name=sender.name, contacts=(*sender.contacts, *shared))
    sent_at: datetime | None = message.date
    inbound = Inbound(
        channel=Channel.TELEGRAM,
        sender=sender,
        text=text,
        external_id=f"{bot_id}:{update_id}",
        message_id=message_ref(chat_id, message.message_id),
        in_reply_to=(
            (message_ref(chat_id, message.reply_to),) if message.reply_to is not None else ()
        ),
        chat_id=str(chat_id),
        sent_at=sent_at,
        source=f"telegram:{bot_id}",
        notes=tuple(notes),
        meta={"media_group": message.media_group_id} if message.media_group_id else {},
    )
    return Parsed(inbound, files, tuple(shared))


def _kind_of(data: dict[str, Any]) -> str:
    """The message's first non-empty field beyond the usual ones (a poll, a game...)."""
    skip = {"message_id", "date", "chat", "from", "edit_date", "media_group_id", "entities"}
    return next((k for k in data if k not in skip), "empty")
