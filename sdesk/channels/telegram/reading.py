"""What the desk reads of an update, as small plain records, and two ways to get them.

``read_raw`` reads the common message shapes (text, commands, photos, documents, voice,
stickers, shared contacts, replies, albums and edits of them: nearly every update a desk
gets) straight from the update's JSON, checking the type of every field it reads and of the
fields PTB would insist on. PTB's ``Update.de_json`` built a ``Message`` of ~150 frozen
attributes for each, most of the channel's CPU (bench/telegram.py --profile). Anything else (a
field it does not know, a wrong type, a callback query) is left to ``de_json`` (``from_ptb``),
which reads every kind and raises on what it cannot, so a malformed update is quarantined
as before. Both give the same records: ``tests/telegram/test_reading.py`` checks it for
every update the fast reader takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telegram import CallbackQuery, Message, Update, User


@dataclass(frozen=True, slots=True)
class Person:
    """A Telegram user as the desk names them."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    @property
    def full_name(self) -> str:
        """As PTB's ``User.full_name``."""
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass(frozen=True, slots=True)
class Media:
    """One file a message carries (a photo size, a document, a voice...)."""

    file_id: str
    file_size: int | None = None
    mime_type: str | None = None
    file_name: str | None = None
    width: int = 0
    height: int = 0
    title: str | None = None  # audio
    performer: str | None = None  # audio


@dataclass(frozen=True, slots=True)
class Shared:
    """A shared contact card."""

    phone_number: str
    first_name: str
    last_name: str | None = None
    user_id: int | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """A location, or a venue with its title and address."""

    latitude: float
    longitude: float
    title: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message (new or edited) with what ``intake.parse_message`` and ``store`` read."""

    message_id: int
    chat_id: int
    chat_type: str
    user: Person | None
    date: datetime
    edit_date: datetime | None = None
    text: str | None = None
    caption: str | None = None
    media_group_id: str | None = None
    reply_to: int | None = None  # the message_id this one answers
    photo: tuple[Media, ...] = ()
    document: Media | None = None
    voice: Media | None = None
    audio: Media | None = None
    video: Media | None = None
    video_note: Media | None = None
    sticker_emoji: str | None = None
    sticker: bool = False
    venue: Place | None = None
    location: Place | None = None
    contact: Shared | None = None


@dataclass(frozen=True, slots=True)
class Callback:
    """An inline button pressed under a message the bot sent."""

    id: str
    data: str | None
    user: Person | None
    chat_id: int | None
    chat_type: str | None


@dataclass(frozen=True, slots=True)
class Read:
    """An update read: its kind (``message``, ``edited_message``, ``callback_query`` or the
    field name of a kind the desk ignores) and what it holds."""

    kind: str
    message: ChatMessage | None = None
    callback: Callback | None = None


# --- the fast reader ------------------------------------------------------------------------

# The message fields ``read_raw`` knows; a message with any other goes to ``de_json``.
_KNOWN = frozenset(
    {
        "message_id", "from", "chat", "date", "edit_date", "text", "entities", "caption",
        "caption_entities", "photo", "document", "voice", "sticker", "contact",
        "media_group_id", "reply_to_message",
    }
)  # fmt: skip


class _Decline(Exception):
    """Not a shape the fast reader vouches for: ``de_json`` decides."""


def read_raw(raw: dict[str, Any]) -> Read | None:
    """The update read from its JSON, or None when ``from_ptb(Update.de_json(raw))`` must."""
    if len(raw) != 2:
        return None
    key = "message" if "message" in raw else "edited_message"
    data = raw.get(key)
    if not isinstance(data, dict) or not data.keys() <= _KNOWN:
        return None
    try:
        return Read(key, _message(data))
    except _Decline:
        return None


def _message(m: dict[str, Any]) -> ChatMessage:
    chat = _dict(m.get("chat"))
    user = m.get("from")
    photo = m.get("photo")
    document, voice, sticker, contact = (
        m.get(k) for k in ("document", "voice", "sticker", "contact")
    )
    reply = m.get("reply_to_message")
    for entities in (m.get("entities"), m.get("caption_entities")):
        if entities is not None:
            _entities(entities)
    return ChatMessage(
        message_id=_int(m.get("message_id")),
        chat_id=_int(chat.get("id")),
        chat_type=_str(chat.get("type")),
        user=_person(user) if user is not None else None,
        date=_time(m.get("date")),
        edit_date=_time(m["edit_date"]) if m.get("edit_date") is not None else None,
        text=_opt_str(m.get("text")),
        caption=_opt_str(m.get("caption")),
        media_group_id=_opt_str(m.get("media_group_id")),
        reply_to=_reply_id(reply) if reply is not None else None,
        photo=_photo(photo) if photo is not None else (),
        document=_document(document) if document is not None else None,
        voice=_voice(voice) if voice is not None else None,
        sticker_emoji=_sticker(sticker) if sticker is not None else None,
        sticker=sticker is not None,
        contact=_contact(contact) if contact is not None else None,
    )


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Decline
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Decline
    return value


def _opt_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise _Decline
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Decline
    return value


def _time(value: Any) -> datetime:
    return datetime.fromtimestamp(_int(value), UTC)


def _person(value: Any) -> Person:
    u = _dict(value)
    _bool(u.get("is_bot"))
    return Person(
        id=_int(u.get("id")),
        first_name=_str(u.get("first_name")),
        last_name=_opt_str(u.get("last_name")),
        username=_opt_str(u.get("username")),
        language_code=_opt_str(u.get("language_code")),
    )


def _entities(value: Any) -> None:
    if not isinstance(value, list):
        raise _Decline
    for e in value:
        e = _dict(e)
        _str(e.get("type"))
        _int(e.get("offset"))
        _int(e.get("length"))


def _reply_id(value: Any) -> int:
    r = _dict(value)
    _dict(r.get("chat"))
    _int(r.get("date"))
    return _int(r.get("message_id"))


def _file(f: dict[str, Any]) -> tuple[str, int | None]:
    _str(f.get("file_unique_id"))
    return _str(f.get("file_id")), _opt_int(f.get("file_size"))


def _photo_size(value: Any) -> Media:
    p = _dict(value)
    file_id, size = _file(p)
    return Media(file_id, size, width=_int(p.get("width")), height=_int(p.get("height")))


def _photo(value: Any) -> tuple[Media, ...]:
    if not isinstance(value, list):
        raise _Decline
    return tuple(_photo_size(p) for p in value)


def _thumbnail(f: dict[str, Any]) -> None:
    thumb = f.get("thumbnail")
    if thumb is not None:
        _photo_size(thumb)


def _document(value: Any) -> Media:
    d = _dict(value)
    file_id, size = _file(d)
    _thumbnail(d)
    return Media(
        file_id, size, mime_type=_opt_str(d.get("mime_type")),
        file_name=_opt_str(d.get("file_name")),
    )  # fmt: skip


def _voice(value: Any) -> Media:
    v = _dict(value)
    file_id, size = _file(v)
    _int(v.get("duration"))
    return Media(file_id, size, mime_type=_opt_str(v.get("mime_type")))


def _sticker(value: Any) -> str | None:
    s = _dict(value)
    _file(s)
    _str(s.get("type"))
    _int(s.get("width"))
    _int(s.get("height"))
    _bool(s.get("is_animated"))
    _bool(s.get("is_video"))
    _opt_str(s.get("set_name"))
    _thumbnail(s)
    return _opt_str(s.get("emoji"))


def _contact(value: Any) -> Shared:
    c = _dict(value)
    _opt_str(c.get("vcard"))
    return Shared(
        phone_number=_str(c.get("phone_number")),
        first_name=_str(c.get("first_name")),
        last_name=_opt_str(c.get("last_name")),
        user_id=_opt_int(c.get("user_id")),
    )


# --- from PTB's objects -----------------------------------------------------------------------


def from_ptb(update: Update, raw: dict[str, Any]) -> Read:
    """``update`` (``Update.de_json`` of ``raw``) as the records ``read_raw`` gives."""
    if update.callback_query is not None:
        return Read("callback_query", callback=_callback(update.callback_query))
    if update.message is not None:
        return Read("message", _from_message(update.message))
    if update.edited_message is not None:
        return Read("edited_message", _from_message(update.edited_message))
    kind = next((k for k, v in raw.items() if k != "update_id" and v is not None), "empty")
    return Read(kind)


def _from_user(user: User | None) -> Person | None:
    if user is None:
        return None
    return Person(user.id, user.first_name, user.last_name, user.username, user.language_code)


def _from_media(media: Any) -> Media | None:
    if media is None:
        return None
    return Media(
        file_id=media.file_id,
        file_size=media.file_size,
        mime_type=getattr(media, "mime_type", None),
        file_name=getattr(media, "file_name", None),
        width=getattr(media, "width", 0) or 0,
        height=getattr(media, "height", 0) or 0,
        title=getattr(media, "title", None),
        performer=getattr(media, "performer", None),
    )


def _from_message(message: Message) -> ChatMessage:
    venue = message.venue
    location = message.location
    contact = message.contact
    reply = message.reply_to_message
    return ChatMessage(
        message_id=message.message_id,
        chat_id=message.chat.id,
        chat_type=message.chat.type,
        user=_from_user(message.from_user),
        date=message.date,
        edit_date=message.edit_date,
        text=message.text,
        caption=message.caption,
        media_group_id=message.media_group_id,
        reply_to=reply.message_id if reply is not None else None,
        photo=tuple(m for p in message.photo if (m := _from_media(p)) is not None),
        document=_from_media(message.document),
        voice=_from_media(message.voice),
        audio=_from_media(message.audio),
        video=_from_media(message.video),
        video_note=_from_media(message.video_note),
        sticker_emoji=message.sticker.emoji if message.sticker else None,
        sticker=message.sticker is not None,
        venue=(
            Place(venue.location.latitude, venue.location.longitude, venue.title, venue.address)
            if venue is not None
            else None
        ),
        location=Place(location.latitude, location.longitude) if location is not None else None,
        contact=(
            Shared(contact.phone_number, contact.first_name, contact.last_name, contact.user_id)
            if contact is not None
            else None
        ),
    )


def _callback(query: CallbackQuery) -> Callback:
    msg = query.message
    chat = msg.chat if msg is not None else None
    return Callback(
        id=query.id,
        data=query.data,
        user=_from_user(query.from_user),
        chat_id=chat.id if chat is not None else None,
        chat_type=chat.type if chat is not None else None,
    )
