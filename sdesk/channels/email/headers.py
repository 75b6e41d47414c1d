"""Header values of a parsed message as text, plus the address and date fields, never raising.

The stdlib parses the fields (compat32 keeps each value as received: folded, 8-bit bytes
surrogate-escaped); this module unfolds them, decodes raw 8-bit values with the charset
fallbacks, and reads addresses (``getaddresses``) and dates (``parsedate_tz``) from
bounded windows, so a 50,000-address header costs what 200 addresses do.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import getaddresses, parsedate_tz
from functools import lru_cache

from sdesk.channels.email.charsets import codec_for, decode_text
from sdesk.channels.email.message import BoundedMessage

MAX_VALUE_CHARS = 256 * 1024  # no field we read needs more (References is scanned to 256 KiB)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BAD_ADDR = re.compile(r"[\s\x00-\x1f\x7f]")
_ADDR_TOKENS = re.compile(r"[\s<>\"(),;:\[\]]+")
_CACHED_CHARS = 1024  # longer values are parsed afresh: bounds the caches' memory


def header_text(value: object, *, hint: str | None = None, guess: bool = False) -> str:
    """One header value as text: unfolded, stripped, raw 8-bit bytes decoded, NUL removed.

    Raw 8-bit values are tried as UTF-8, then as ``hint`` (the body's charset), then guessed;
    raw 8-bit bytes inside an RFC 2047 Q word are read in the word's own charset; 7-bit
    ISO-2022 text (ESC sequences) is decoded by the variant it names.
    """
    text = value if isinstance(value, str) else str(value)
    if "\n" in text or "\r" in text:
        text = _LINE_BREAK.sub("", text)  # RFC 5322 2.2.3: unfolding removes the line breaks
    text = text.strip()
    if not text.isascii():
        try:
            data = text.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:  # already text (a caller's str Message): keep it
            pass
        else:
            if b"=?" in data:
                data = _Q_WORD_8BIT.sub(_escape_q_word, data)
            text = decode_text(data, guess=guess, hint=hint)[0]
    elif "\x1b" in text:
        text = decode_text(text.encode("ascii"))[0]
    elif "+" in text and "=?" not in text and codec_for(hint) == "utf-7":  # a raw UTF-7 value
        text = decode_text(text.encode("ascii"), hint)[0]
    return text.replace("\x00", "") if "\x00" in text else text


# An RFC 2047 Q word whose text holds raw 8-bit bytes (a mailer that did not escape them).
_Q_WORD_8BIT = re.compile(rb"(=\?[^?\s*]{1,64}(?:\*[^?\s]*)?\?[qQ]\?)([^?\s]*)(\?=)")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


def _escape_q_word(m: re.Match[bytes]) -> bytes:
    """The word with its 8-bit bytes written as =XX, so it decodes in its declared charset."""
    text = m.group(2)
    if text.isascii():
        return m.group(0)
    return m.group(1) + _HIGH_BYTE.sub(lambda b: b"=%02X" % b.group()[0], text) + m.group(3)


class HeaderView:
    """First value of each header field of one stdlib Message, decoded when first read.

    One index of the fields instead of ``Message.get``, which scans every field per call (a
    message may carry 100,000 of them) and wraps 8-bit values in ``Header`` objects.
    ``hint`` is the charset raw 8-bit values are tried in (the body's declared charset).
    """

    __slots__ = ("_raw", "_text", "hint", "guess")

    def __init__(self, msg: Message, *, hint: str | None = None, guess: bool = True) -> None:
        if isinstance(msg, BoundedMessage):
            raw = msg.first_values()  # shared, read-only here
        else:
            raw = {}
            for name, value in msg.raw_items():
                key = name.lower()
                if key not in raw:
                    raw[key] = value if isinstance(value, str) else str(value)
        self._raw = raw
        self._text: dict[str, str] = {}
        self.hint = hint
        self.guess = guess

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._raw

    def __len__(self) -> int:
        return len(self._raw)

    def get(self, name: str, default: str | None = None) -> str | None:
        """Decoded first value of ``name`` (case-insensitive), at most ``MAX_VALUE_CHARS``."""
        key = name.lower()
        text = self._text.get(key)
        if text is None:
            value = self._raw.get(key)
            if value is None:
                return default
            text = header_text(value[:MAX_VALUE_CHARS], hint=self.hint, guess=self.guess)
            self._text[key] = text
        return text

    def count(self, name: str, char: str) -> int:
        """Occurrences of ``char`` in the whole raw value (the cut-off part included)."""
        return self._raw.get(name.lower(), "").count(char)


def address(value: str) -> str | None:
    """A lower-cased addr-spec, or None when it cannot identify a mailbox."""
    addr = value.strip().strip("<>").lower()
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or len(addr) > 320 or _BAD_ADDR.search(addr):
        return None
    return addr


def addresses(value: str | None, cap: int, total_at: int = 0) -> tuple[list[tuple[str, str]], int]:
    """Up to ``cap`` (name, addr) pairs by ``getaddresses`` over a bounded window, and a total.

    ``total_at`` is the number of "@" in the whole raw value: the count when it was cut.
    """
    if not value:
        return [], 0
    window = max(8192, cap * 64)  # getaddresses: up to 0.1 s on 50 KB of hostile text
    cut = value[:window]
    pairs = list(_pairs(cut) if len(cut) > _CACHED_CHARS else _cached_pairs(cut))
    total = len(pairs)
    if len(value) > window or total_at > value.count("@"):
        pairs = pairs[:-1]  # the last one may be cut in half by the window
        total = max(total, total_at, value.count("@"))
    return pairs[:cap], total


def _pairs(value: str) -> tuple[tuple[str, str], ...]:
    try:
        return tuple(p for p in getaddresses([value]) if p[0] or p[1])
    except Exception:  # the stdlib recurses on nested comments and groups: "((((...", ":::..."
        return tuple(("", t) for t in _ADDR_TOKENS.split(value) if address(t))


# getaddresses walks the value char by char in Python (~15 us for one "Name <addr>"); a desk sees
# the same senders and its own address again and again.
_cached_pairs = lru_cache(maxsize=4096)(_pairs)


def parse_date(value: str | None) -> datetime | None:
    """Aware UTC datetime from a Date header (no zone counts as UTC); None for garbage."""
    if not value:
        return None
    try:
        parsed = parsedate_tz(value[:256])
        if parsed is None or abs(parsed[9] or 0) >= 86400:  # RFC 5322 zones are under 24 h
            return None
        return datetime(*parsed[:6], tzinfo=UTC) - timedelta(seconds=parsed[9] or 0)
    except Exception:  # ValueError/OverflowError/IndexError on garbage dates
        return None
