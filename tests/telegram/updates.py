"""Builders of realistic Telegram updates, as the Bot API delivers them to ``getUpdates``.

Each builder returns one update dict without ``update_id`` (``BotApiServer.push`` assigns it),
shaped like Telegram's own JSON (field names, nesting, which fields are optional), so the channel
parses what it will meet in production. Media builders register their bytes with a file store —
normally the ``BotApiServer`` — so ``getFile`` and the download work for every file_id in them:

    server = BotApiServer().start()
    tg = Updates(server)
    ann = tg.customer(1)
    first = tg.text(ann, "The printer on floor 3 is jammed")
    server.push_many([first, tg.edited(first, "The printer on floor 2 is jammed"),
                      *tg.album(ann, photos=3, caption="see photos")])

``realistic_mix`` builds the benchmark's traffic; ``HOSTILE_TEXTS`` and ``HOSTILE_FILE_NAMES``
are inputs a console must show safely.
"""

from __future__ import annotations

import copy
import itertools
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

UpdateDict = dict[str, Any]

# Photo sizes Telegram makes of one picture (width, height, rough JPEG bytes), smallest first.
PHOTO_SIZES = ((90, 68, 1_400), (320, 240, 11_000), (800, 600, 42_000), (1280, 960, 95_000))
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
MIME_HEADS = {
    "application/pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    "image/jpeg": JPEG_HEAD,
    "audio/ogg": b"OggS\x00\x02",
    "audio/mpeg": b"ID3\x04\x00\x00",
    "video/mp4": b"\x00\x00\x00\x18ftypmp42",
    "image/webp": b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    "application/zip": b"PK\x03\x04",
    "text/plain": b"",
}


class FileStore(Protocol):
    """Where a builder puts a file's bytes; ``BotApiServer`` is one."""

    def add_file(self, data: bytes, *, file_path: str = ...) -> str: ...

    def file_unique_id(self, file_id: str) -> str: ...


@dataclass
class OfflineFiles:
    """A file store for builders used without a server: ids are made up, bytes kept here."""

    data: dict[str, bytes] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add_file(self, data: bytes, *, file_path: str = "documents/file_1.pdf") -> str:
        file_id = f"OFFLINE{next(self._seq):08d}"
        self.data[file_id] = data
        self.paths[file_id] = file_path
        return file_id

    def file_unique_id(self, file_id: str) -> str:
        return "U" + file_id


@dataclass(frozen=True)
class Customer:
    """A Telegram user writing to the bot; in a private chat the chat id is the user id."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    is_premium: bool = False

    def user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        if self.is_premium:
            user["is_premium"] = True
        return user

    def chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "first_name": self.first_name, "type": "private"}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass(frozen=True)
class Group:
    """A group chat the bot is a member of (supergroup ids are -100...)."""

    id: int
    title: str
    type: str = "supergroup"

    def chat(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "type": self.type}


FIRST_NAMES = (
    ("Anna", "Smith", "en"),
    ("John", "Baker", "en"),
    ("Maria", "Garcia", "es"),
    ("Olga", "Ivanova", "ru"),
    ("Дмитрий", "Смирнов", "ru"),
    ("Екатерина", "Петрова", "ru"),
    ("Ahmed", "Hassan", "ar"),
    ("Li", "Wei", "zh-hans"),
    ("Peter", None, "de"),
    ("Алексей", None, "ru"),
    ("Sophie", "Martin", "fr"),
    ("Иван", "Кузнецов", None),
    ("Priya", "Sharma", "en"),
    ("Tom", "O'Neil", "en"),
)

TEXTS_EN = (
    "Hello, my internet has been down since this morning",
    "The printer on the 3rd floor is jammed again",
    "I can't log in to my account, it says my password is wrong",
    "Could you please send me the invoice for order {n}?",
    "My delivery {n} hasn't arrived yet, tracking shows nothing",
    "Hi! How do I change the billing address?",
    "The app crashes when I open settings.\nPhone: Pixel 7, Android 14",
    "Thanks, it works now!",
    "Is anyone there? Still waiting for an answer about ticket {n}",
    "The VPN disconnects every 10 minutes.\nSteps:\n1. connect\n2. wait\n3. it drops",
    "Please cancel my subscription",
    "ok",
    "When will the technician come? I'm home until 6pm",
    "Error code E-{n} on the screen, what does it mean?",
)
TEXTS_RU = (
    "Здравствуйте, у меня не работает интернет с утра",
    "Принтер на третьем этаже опять зажевал бумагу",
    "Не могу войти в личный кабинет, пишет неверный пароль",
    "Пришлите, пожалуйста, счёт по заказу {n}",
    "Заказ {n} так и не доставили",
    "Спасибо, всё заработало!",
    "Когда приедет мастер? Я дома до 18:00",
    "Ошибка E-{n} на экране, что делать?\nМодель: XR-200",
    "Добрый день! Как сменить тариф?",
    "ок",
)

HOSTILE_TEXTS = (
    "\x1b[2J\x1b[H\x1b[31mYOUR DESK IS HACKED\x1b[0m",  # clear screen, move, colour
    "\x1b]0;evil title\x07window title change",  # OSC title
    "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x9b31mC1 CSI\x9b0m and NEL\x85 and NUL\x00 and DEL\x7f",
    "invoice_\u202egpj.exe",  # right-to-left override
    "\u2066isolated\u2069 \u200fRLM\u200e zero\u200bwidth\u200d\ufeffBOM",
    "[bold red]boom[/] [/] [@click=app.quit]quit[/]",
    "[link=file:///etc/passwd]passwd[/link] [on red]",
    "<script>alert(1)</script> <b>bold</b> &amp;",
    "*bold* _italic_ `code` [link](https://evil.example) ~strike~ ||spoiler||",
    "Subject: hi\r\nBcc: everyone@example.com\r\n\r\nbody",
    "A" * 4096,  # one line at Telegram's length limit
    "👩‍👩‍👧‍👦🏳️‍🌈 z̸̡̢͓͙a̶̛̳l̷̢̛g̴o̴ 漢字 العربية",
    "line\rover\bwritten\ttab\x0bvtab\x0cff",
)
HOSTILE_FILE_NAMES = (
    "../../x",
    "..\\..\\windows\\system32\\x.dll",
    "/etc/passwd",
    "\x1b[31mred\x1b[0m.pdf",
    "report\u202efdp.exe",
    "con.txt",
    "a" * 300 + ".pdf",
    ".",
    "",
    "[bold]markup[/].txt",
)


class Updates:
    """Builds updates with per-chat message ids and increasing dates.

    ``files`` receives every file's bytes (a ``BotApiServer`` makes them downloadable);
    ``now`` gives the Unix time of the next message (``time.time`` by default; tests that
    compare dates pass a fixed clock); ``seed`` makes file bytes and the mix reproducible.
    """

    def __init__(
        self,
        files: FileStore | None = None,
        *,
        now: Callable[[], float] = time.time,
        seed: int = 1,
    ) -> None:
        self.files: FileStore = files if files is not None else OfflineFiles()
        self.now = now
        self.rng = random.Random(seed)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callback_ids = itertools.count(1)
        self._album_ids = itertools.count(13_000_000_000_000_000)
        self._file_seq = itertools.count(1)

    # --- people --------------------------------------------------------------------------------

    def customer(
        self, n: int, *, language_code: str | None = "", username: bool = True
    ) -> Customer:
        """Customer number ``n`` (deterministic: the same ``n`` is the same person)."""
        first, last, lang = FIRST_NAMES[n % len(FIRST_NAMES)]
        return Customer(
            id=700_000_000 + n,
            first_name=first,
            last_name=last,
            username=f"user{n}" if username and n % 3 else None,
            language_code=lang if language_code == "" else language_code,
        )

    def group(self, n: int = 1, title: str = "Support group") -> Group:
        return Group(id=-1_001_900_000_000 - n, title=title)

    # --- messages ------------------------------------------------------------------------------

    def message(self, who: Customer, *, chat: Group | None = None, **fields: Any) -> dict[str, Any]:
        """A bare Message from ``who`` (in their private chat unless ``chat``) with ``fields``."""
        chat_dict = chat.chat() if chat is not None else who.chat()
        counter = self._message_ids.setdefault(chat_dict["id"], itertools.count(1))
        return {
            "message_id": next(counter),
            "from": who.user(),
            "chat": chat_dict,
            "date": int(self.now()),
            **fields,
        }

    def text(
        self,
        who: Customer,
        text: str,
        *,
        chat: Group | None = None,
        reply_to: UpdateDict | dict[str, Any] | None = None,
    ) -> UpdateDict:
        fields: dict[str, Any] = {"text": text}
        if reply_to is not None:
            fields["reply_to_message"] = _strip_reply(message_of(reply_to))
        return {"message": self.message(who, chat=chat, **fields)}

    def command(self, who: Customer, command: str, args: str = "") -> UpdateDict:
        """``/start``, ``/new``, ``/status``... with the bot_command entity Telegram adds."""
        name = command if command.startswith("/") else "/" + command
        text = f"{name} {args}".rstrip()
        entity = {"offset": 0, "length": len(name.encode("utf-16-le")) // 2, "type": "bot_command"}
        return {"message": self.message(who, text=text, entities=[entity])}

    def reply(self, who: Customer, to: UpdateDict | dict[str, Any], text: str) -> UpdateDict:
        """``who`` answers an earlier message (theirs or the bot's) with Telegram's reply."""
        return self.text(who, text, reply_to=to)

    def edited(self, original: UpdateDict, text: str, *, seconds_later: int = 30) -> UpdateDict:
        """The ``edited_message`` Telegram sends when the text (or caption) of ``original``
        changes: the same message_id and date, with ``edit_date``."""
        message = copy.deepcopy(message_of(original))
        message["edit_date"] = int(message["date"]) + seconds_later
        key = "caption" if "caption" in message else "text"
        message[key] = text
        message.pop("entities", None)
        return {"edited_message": message}

    def photo(
        self,
        who: Customer,
        *,
        caption: str | None = None,
        sizes: int = 3,
        chat: Group | None = None,
        media_group_id: str | None = None,
    ) -> UpdateDict:
        """A photo as Telegram sends it: ``sizes`` PhotoSizes of one picture, smallest first."""
        photo = [
            {**self._file("photos", "jpg", "image/jpeg", size), "width": w, "height": h}
            for w, h, size in PHOTO_SIZES[: max(1, min(sizes, len(PHOTO_SIZES)))]
        ]
        fields: dict[str, Any] = {"photo": photo}
        if caption is not None:
            fields["caption"] = caption
        if media_group_id is not None:
            fields["media_group_id"] = media_group_id
        return {"message": self.message(who, chat=chat, **fields)}

    def document(
        self,
        who: Customer,
        *,
        file_name: str = "report.pdf",
        mime_type: str = "application/pdf",
        size: int = 48_000,
        data: bytes | None = None,
        caption: str | None = None,
        media_group_id: str | None = None,
    ) -> UpdateDict:
        described = self._file("documents", _suffix(file_name), mime_type, size, data=data)
        fields: dict[str, Any] = {
            "document": {**described, "file_name": file_name, "mime_type": mime_type}
        }
        if caption is not None:
            fields["caption"] = caption
        if media_group_id is not None:
            fields["media_group_id"] = media_group_id
        return {"message": self.message(who, **fields)}

    def voice(self, who: Customer, *, duration: int = 7) -> UpdateDict:
        described = self._file("voice", "oga", "audio/ogg", 2_000 * duration)
        voice = {**described, "duration": duration, "mime_type": "audio/ogg"}
        return {"message": self.message(who, voice=voice)}

    def audio(
        self, who: Customer, *, title: str = "Call recording", duration: int = 95
    ) -> UpdateDict:
        described = self._file("music", "mp3", "audio/mpeg", 16_000 * min(duration, 30))
        audio = {
            **described,
            "duration": duration,
            "performer": who.first_name,
            "title": title,
            "file_name": "recording.mp3",
            "mime_type": "audio/mpeg",
        }
        return {"message": self.message(who, audio=audio)}

    def video(self, who: Customer, *, caption: str | None = None, duration: int = 12) -> UpdateDict:
        described = self._file("videos", "mp4", "video/mp4", 60_000)
        video = {
            **described,
            "width": 720,
            "height": 1280,
            "duration": duration,
            "file_name": "video.mp4",
            "mime_type": "video/mp4",
            "thumbnail": self._thumb(),
        }
        fields: dict[str, Any] = {"video": video}
        if caption is not None:
            fields["caption"] = caption
        return {"message": self.message(who, **fields)}

    def video_note(self, who: Customer, *, duration: int = 9) -> UpdateDict:
        described = self._file("video_notes", "mp4", "video/mp4", 40_000)
        note = {**described, "length": 384, "duration": duration, "thumbnail": self._thumb()}
        return {"message": self.message(who, video_note=note)}

    def sticker(self, who: Customer, *, emoji: str = "👍") -> UpdateDict:
        described = self._file("stickers", "webp", "image/webp", 18_000)
        sticker = {
            **described,
            "type": "regular",
            "width": 512,
            "height": 512,
            "emoji": emoji,
            "set_name": "HotCherry",
            "is_animated": False,
            "is_video": False,
            "thumbnail": self._thumb(),
        }
        return {"message": self.message(who, sticker=sticker)}

    def location(
        self, who: Customer, *, latitude: float = 55.7558, longitude: float = 37.6173
    ) -> UpdateDict:
        return {"message": self.message(who, location=_location(latitude, longitude))}

    def venue(
        self,
        who: Customer,
        *,
        title: str = "Central office",
        address: str = "Tverskaya st. 1, Moscow",
        latitude: float = 55.7575,
        longitude: float = 37.6136,
    ) -> UpdateDict:
        where = _location(latitude, longitude)
        venue = {"location": where, "title": title, "address": address}
        return {"message": self.message(who, venue=venue, location=where)}

    def contact(
        self,
        who: Customer,
        phone_number: str = "+79161234567",
        *,
        own: bool = True,
        first_name: str | None = None,
    ) -> UpdateDict:
        """A shared contact; ``own``: the customer's own number (``user_id`` is theirs), as the
        "share my phone number" keyboard button sends it (without a leading +, as Telegram does
        for one's own number)."""
        contact: dict[str, Any] = {
            "phone_number": phone_number.lstrip("+") if own else phone_number,
            "first_name": first_name or who.first_name,
        }
        if own:
            contact["user_id"] = who.id
            if who.last_name:
                contact["last_name"] = who.last_name
        return {"message": self.message(who, contact=contact)}

    def album(
        self,
        who: Customer,
        *,
        photos: int = 3,
        documents: int = 0,
        caption: str | None = "Photos of the problem",
    ) -> list[UpdateDict]:
        """An album: one update per item, sharing a ``media_group_id``; only the first carries
        the caption (as Telegram sends it)."""
        group = str(next(self._album_ids))
        items: list[UpdateDict] = []
        for i in range(photos):
            items.append(self.photo(who, caption=caption if i == 0 else None, media_group_id=group))
        for i in range(documents):
            items.append(
                self.document(
                    who,
                    file_name=f"scan_{i + 1}.pdf",
                    caption=caption if not items else None,
                    media_group_id=group,
                )
            )
        return items

    def group_text(self, who: Customer, group: Group, text: str) -> UpdateDict:
        return self.text(who, text, chat=group)

    def bot_message(
        self,
        chat_id: int,
        text: str,
        *,
        buttons: Iterable[tuple[str, str]] = (),
        bot_id: int = 123456789,
        username: str = "sdesk_test_bot",
    ) -> dict[str, Any]:
        """A message the bot sent (e.g. a question with inline buttons), for ``callback``."""
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        message: dict[str, Any] = {
            "message_id": next(counter),
            "from": {"id": bot_id, "is_bot": True, "first_name": "sdesk", "username": username},
            "chat": {"id": chat_id, "type": "private", "first_name": "Customer"},
            "date": int(self.now()),
            "text": text,
        }
        rows = [[{"text": label, "callback_data": data}] for label, data in buttons]
        if rows:
            message["reply_markup"] = {"inline_keyboard": rows}
        return message

    def callback(self, who: Customer, data: str, *, message: dict[str, Any]) -> UpdateDict:
        """The ``callback_query`` of pressing an inline button with ``data`` under ``message``
        (a Message the bot sent: ``bot_message`` or a ``Sent``'s answer)."""
        return {
            "callback_query": {
                "id": str(4_382_000_000_000_000_000 + next(self._callback_ids)),
                "from": who.user(),
                "message": message,
                "chat_instance": str(-8_000_000_000_000_000_000 + who.id),
                "data": data,
            }
        }

    def malformed(self) -> UpdateDict:
        """An update whose message lacks required fields (chat, date): quarantine material."""
        return {"message": {"message_id": "not a number", "text": {"nested": True}}}

    # --- files ---------------------------------------------------------------------------------

    def _file(
        self, folder: str, suffix: str, mime: str, size: int, *, data: bytes | None = None
    ) -> dict[str, Any]:
        if data is None:
            head = MIME_HEADS.get(mime, b"")
            data = head + self.rng.randbytes(max(0, size - len(head)))
        path = f"{folder}/file_{next(self._file_seq)}.{suffix}"
        file_id = self.files.add_file(data, file_path=path)
        return {
            "file_id": file_id,
            "file_unique_id": self.files.file_unique_id(file_id),
            "file_size": len(data),
        }

    def _thumb(self) -> dict[str, Any]:
        return {**self._file("thumbnails", "jpg", "image/jpeg", 1_200), "width": 90, "height": 90}


def message_of(update: UpdateDict | dict[str, Any]) -> dict[str, Any]:
    """The Message inside an update (message, edited_message, callback's message) or the
    message itself."""
    for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
        if key in update:
            return dict(update[key])
    if "callback_query" in update:
        return dict(update["callback_query"]["message"])
    return dict(update)


def _strip_reply(message: dict[str, Any]) -> dict[str, Any]:
    """Telegram nests one level only: a replied-to message carries no reply of its own."""
    inner = dict(message)
    inner.pop("reply_to_message", None)
    return inner


def _location(latitude: float, longitude: float) -> dict[str, Any]:
    return {"latitude": latitude, "longitude": longitude}


def _suffix(file_name: str) -> str:
    _, dot, suffix = file_name.rpartition(".")
    return suffix if dot and suffix.isalnum() and len(suffix) <= 5 else "bin"


# --- the benchmark's traffic ---------------------------------------------------------------------

MIX = (  # (kind, share): bench/telegram.py's realistic mix
    ("text", 0.70),
    ("photo", 0.10),
    ("document", 0.08),
    ("edit", 0.07),
    ("other", 0.05),
)
DOCUMENT_KINDS = (
    ("invoice.pdf", "application/pdf"),
    ("screenshot.png", "image/png"),
    ("logs.zip", "application/zip"),
    ("error.txt", "text/plain"),
    ("contract.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
)


def realistic_mix(tg: Updates, n: int, *, customers: int = 2000) -> list[UpdateDict]:
    """``n`` updates from ``customers`` people, in the shares of ``MIX``: texts (en/ru, some
    multi-line; a customer's first message is ``/start`` one time in four), photos (one in ten
    with caption, one in ten an album of 2-3), documents (2 KB-300 KB), edits of the same
    customer's earlier text, and "other": voice, stickers, shared contacts and replies. Who
    writes is skewed (a few customers write a lot), as on a real desk."""
    rng = tg.rng
    people = [tg.customer(i) for i in range(1, customers + 1)]
    weights = [1.0 / (rank**0.7) for rank in range(1, customers + 1)]
    spoken: dict[int, list[UpdateDict]] = {}
    out: list[UpdateDict] = []
    kinds = [kind for kind, _ in MIX]
    shares = [share for _, share in MIX]
    while len(out) < n:
        who = rng.choices(people, weights)[0]
        kind = rng.choices(kinds, shares)[0]
        earlier = spoken.get(who.id)
        if earlier is None:
            spoken[who.id] = earlier = []
            if rng.random() < 0.25:
                out.append(tg.command(who, "/start"))
                continue
        if kind == "edit" and not earlier:
            kind = "text"
        if kind == "text":
            update = tg.text(who, _support_text(rng, who))
            earlier.append(update)
            out.append(update)
        elif kind == "photo":
            caption = _support_text(rng, who) if rng.random() < 0.1 else None
            if rng.random() < 0.1:
                out.extend(tg.album(who, photos=rng.randint(2, 3), caption=caption))
            else:
                out.append(tg.photo(who, caption=caption))
        elif kind == "document":
            name, mime = rng.choice(DOCUMENT_KINDS)
            size = int(2_000 * (150 ** rng.random()))  # log-uniform 2 KB-300 KB
            out.append(tg.document(who, file_name=name, mime_type=mime, size=size))
        elif kind == "edit":
            original = rng.choice(earlier)
            out.append(tg.edited(original, message_of(original)["text"] + " (edited)"))
        else:
            other = rng.choice(("voice", "sticker", "contact", "reply"))
            if other == "voice":
                out.append(tg.voice(who, duration=rng.randint(2, 15)))
            elif other == "sticker":
                out.append(tg.sticker(who, emoji=rng.choice(("👍", "🙏", "😡", "❤️"))))
            elif other == "contact":
                out.append(tg.contact(who, f"+7916{who.id % 10_000_000:07d}"))
            elif earlier:
                out.append(tg.reply(who, rng.choice(earlier), "See my message above, please"))
            else:
                out.append(tg.text(who, _support_text(rng, who)))
    return out[:n]


def _support_text(rng: random.Random, who: Customer) -> str:
    pool = TEXTS_RU if who.language_code == "ru" else TEXTS_EN
    return rng.choice(pool).format(n=rng.randint(10_000, 99_999))
