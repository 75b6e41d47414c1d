"""Cheap charset evidence the statistical guesser misses: 7-bit ISO-2022 escape sequences,
sloppy UTF-7, and 8-bit samples too short for ``charset_normalizer`` (a header value, a
one-line body: it reads "Frösche" in latin-1 as Urdu and "Ошибка" as Big5).
"""

from __future__ import annotations

import base64
import re

# ISO-2022 designations (ESC + intermediate bytes + final byte) and the codec that reads them.
# Korean first: its designation appears once, at the start of the text (RFC 1557).
_ISO2022_KR = (b"\x1b$)C",)
_ISO2022_JP = (b"\x1b$B", b"\x1b$@", b"\x1b(J", b"\x1b(B", b"\x1b(I", b"\x1b$(D", b"\x1b$A")
_JP_CODECS = ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_3")


def iso2022_text(data: bytes) -> str | None:
    """``data`` decoded as the ISO-2022 variant its escape sequences name; None when it has
    none (the caller checked for ESC first) or no variant reads it strictly."""
    if any(seq in data for seq in _ISO2022_KR):
        codecs: tuple[str, ...] = ("iso2022_kr",)
    elif any(seq in data for seq in _ISO2022_JP):
        codecs = _JP_CODECS
    else:
        return None
    for codec in codecs:
        try:
            return data.decode(codec)
        except UnicodeError:
            continue
    return None


# RFC 2152: "+" starts a base64 run of UTF-16BE, ended by "-" (absorbed) or any other
# character; "+-" is a literal "+". Sloppy writers leave a lone "+" ("1 + 1").
_UTF7_RUN = re.compile(rb"\+([A-Za-z0-9+/]*)(-?)")


def _utf7_run(m: re.Match[bytes]) -> bytes:
    run, dash = m.group(1), m.group(2)
    if not run:
        return b"+" if dash else m.group(0)  # "+-" is "+"; a lone "+" is itself
    units = len(run) * 6 // 16  # trailing bits short of a UTF-16 unit are padding
    if not units:  # "C++": no character in it
        return m.group(0)
    if len(run) % 4 == 1:  # a lone last character carries no whole unit; base64 refuses it
        run = run[:-1]
    try:
        raw = base64.b64decode(run + b"=" * (-len(run) % 4))[: units * 2]
        return raw.decode("utf-16-be").encode("utf-8")
    except (ValueError, UnicodeError):
        return m.group(0)


def utf7_text(data: bytes) -> str:
    """UTF-7 read leniently: the strict codec, else run by run, anything unreadable kept."""
    try:
        return data.decode("utf-7")
    except UnicodeError:
        pass
    out = _UTF7_RUN.sub(_utf7_run, data)
    return out.decode("utf-8", "replace")


_HIGH = bytes(range(0x80, 0x100))
_ASCII_LETTERS = bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B))
_KOI8_LOWER = bytes(range(0xC0, 0xE0))  # cp1251 capitals sit here
_CP1251_LOWER = bytes(range(0xE0, 0x100))  # koi8-r capitals sit here


def _count(data: bytes, chars: bytes) -> int:
    return len(data) - len(data.translate(None, chars))


def short_guess(data: bytes) -> str:
    """A codec for a short 8-bit sample that is not UTF-8.

    Latin script (8-bit letters among ASCII ones) reads as cp1252. Text made mostly of 8-bit
    letters (over twice the ASCII ones) is taken as Cyrillic: cp1251 puts lower case at
    0xE0-0xFF, KOI8-R at 0xC0-0xDF, and ordinary text is mostly lower case.
    """
    if _count(data, _HIGH) <= 2 * _count(data, _ASCII_LETTERS):
        return "cp1252"
    return "koi8_r" if _count(data, _KOI8_LOWER) > _count(data, _CP1251_LOWER) else "cp1251"
