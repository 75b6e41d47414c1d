"""Bytes to text for mail that omits, mislabels or garbles its charset.

Every function here returns a ``str`` for any input: a wrong label degrades to a guess, a failed
guess to latin-1, never to an exception (the parser's contract is "Inbound or UnparseableEmail").
"""

from __future__ import annotations

import codecs
import re
from email.header import decode_header
from functools import lru_cache

import charset_normalizer

from sdesk.channels.email.sniff import iso2022_text, short_guess, utf7_text

GUESS_SAMPLE_BYTES = 64 * 1024  # charset_normalizer costs ~10 ms per 64 KiB; never feed it more
SHORT_SAMPLE = 256  # bytes; below, charset_normalizer reads latin-1 "Frösche" as Urdu

# Labels that mean "no real charset": decode as undeclared.
_NO_CHARSET = frozenset(
    {
        "",
        "x-unknown",
        "unknown",
        "unknown-8bit",
        "8bit",
        "x-user-defined",
        "default",
        "charset",
        "none",
        "binary",
    }
)
# Labels mail software uses for a narrower charset than it actually sends (WHATWG practice).
_SUPERSETS = {
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "tis-620": "cp874",
    "big5": "big5hkscs",
}
_ALIASES = {
    "iso-8859-8-i": "iso8859-8",
    "x-mac-cyrillic": "mac-cyrillic",
    "x-sjis": "cp932",
    "ks_c_5601": "cp949",
    "windows-874": "cp874",
    "x-gbk": "gb18030",
}
# Text codecs that are slow in pure Python, always fail, or are not charsets at all.
_DENY = frozenset(
    {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape", "charmap"}
)
_LABEL_OK = re.compile(r"[a-z0-9_.:+-]{1,40}")


@lru_cache(maxsize=256)
def codec_for(label: str | None) -> str | None:
    """Python codec for a MIME charset label; None when absent, unknown or unsafe."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if name in _NO_CHARSET or not _LABEL_OK.fullmatch(name):
        return None
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _DENY:
        return None
    return _SUPERSETS.get(info.name, info.name)


def guess_codec(data: bytes) -> str | None:
    """charset_normalizer's best guess for undeclared 8-bit data, on a bounded sample.

    It mistakes KOI8-R Russian for Shift_JIS (KOI8 letters are half-width katakana there) and
    short samples for UTF-16, so those verdicts are re-checked against the Cyrillic codecs.
    """
    sample = data[:GUESS_SAMPLE_BYTES]
    try:
        best = charset_normalizer.from_bytes(sample).best()
        if best is not None and best.encoding.startswith(_MULTIBYTE):
            alt = charset_normalizer.from_bytes(sample, cp_isolation=list(_CYRILLIC)).best()
            utf_without_bom = best.encoding.startswith("utf_") and not best.bom
            if alt is not None and (
                utf_without_bom or (alt.chaos <= best.chaos and alt.coherence > best.coherence)
            ):
                best = alt
            elif utf_without_bom:
                best = None
    except Exception:  # a third-party heuristic: any failure just means "no guess"
        return None
    return codec_for(best.encoding) if best is not None else None


_MULTIBYTE = (
    "shift_jis",
    "cp932",
    "euc_j",
    "big5",
    "gb",
    "hz",
    "cp949",
    "euc_kr",
    "utf_16",
    "utf_32",
)
_CYRILLIC = ("koi8_r", "cp1251", "cp866", "iso8859_5", "mac_cyrillic", "koi8_u")


def decode_text(
    data: bytes, label: str | None = None, *, guess: bool = True, hint: str | None = None
) -> tuple[str, bool]:
    """Decode ``data`` declared as ``label``; returns (text, degraded).

    Order: the declared charset (strict, then with one U+FFFD plus 0.5%: one stray byte or a
    character cut by a size cap must not send a whole body to the guesser; UTF-7 leniently) →
    ISO-2022 by its escape sequences → ASCII/UTF-8 → ``hint`` (e.g. the message's body charset
    for raw 8-bit headers) → charset_normalizer (``guess``, samples of ``SHORT_SAMPLE`` bytes
    or more) → ``short_guess`` (cp1252, or cp1251/KOI8-R for mostly-8-bit text).
    ``degraded`` is True when the text may contain guesses or U+FFFD.
    """
    return read_text(data, label, guess=guess, hint=hint)[:2]


def read_text(
    data: bytes, label: str | None = None, *, guess: bool = True, hint: str | None = None
) -> tuple[str, bool, str | None]:
    """``decode_text``, plus the codec that read an 8-bit text (None for ASCII)."""
    codec = codec_for(label)
    if codec == "utf-7":
        return utf7_text(data), False, codec
    if codec in (None, "ascii") and b"\x1b" in data:  # 7-bit ISO-2022 (RFC 1468/1557)
        text = iso2022_text(data)
        if text is not None:
            return text, False, None
    if codec is not None:
        try:
            return data.decode(codec), False, codec
        except (UnicodeError, LookupError):
            try:
                text = data.decode(codec, "replace")
            except (UnicodeError, LookupError):
                text = ""
            if text and text.count("\ufffd") <= 1 + len(text) // 200:
                return text, True, codec
    if data.isascii():
        return data.decode("ascii"), codec is not None, None
    try:
        return data.decode("utf-8"), codec is not None and codec != "utf-8", "utf-8"
    except UnicodeDecodeError:
        pass
    guessed = guess_codec(data) if guess and len(data) >= SHORT_SAMPLE else None
    for candidate in (codec_for(hint), guessed, short_guess(data[:GUESS_SAMPLE_BYTES])):
        if candidate is not None and candidate not in ("utf-8", "utf-7"):  # UTF-8 failed above
            try:
                return data.decode(candidate, "replace"), True, candidate
            except (UnicodeError, LookupError):
                continue
    return data.decode("latin-1"), True, "latin-1"


# A well-formed RFC 2047 encoded-word (the charset may carry an RFC 2231 "*lang" suffix). Looser
# lookalikes (spaces or "?" inside) are left as text; these are handed to ``decode_header``.
_ENCODED_WORD = re.compile(r"=\?([^?\s*]{1,64})(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_B64_TEXT = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def _broken(encoding: str, text: str) -> bool:
    """True for a word that is not ASCII, or a B word that is not base64 (``decode_header``
    would raise, or silently drop the bad bytes)."""
    if not text.isascii():
        return True
    return encoding in "bB" and (not _B64_TEXT.fullmatch(text) or len(text.rstrip("=")) % 4 == 1)


def _decode_run(words: list[str], hint: str | None) -> str:
    """Adjacent encoded-words through ``decode_header``, which joins same-charset words as
    bytes first (mailers split multi-byte characters across words); then our charset fallbacks.
    """
    out: list[str] = []
    try:
        chunks = decode_header(" ".join(words))
    except Exception:  # validated above; should the stdlib still refuse, keep the text
        return " ".join(words)
    for data, charset in chunks:
        raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")
        label = charset.split("*", 1)[0] if charset else None
        out.append(decode_text(raw, label, guess=False, hint=hint)[0])
    return "".join(out)


def decode_words(value: str, *, hint: str | None = None) -> str:
    """Decode RFC 2047 encoded-words in any charset; broken words stay as their literal text.

    Whitespace between adjacent encoded-words is dropped (RFC 2047 6.2), text elsewhere kept.
    Short values are memoised: a subject is read twice, display names repeat.
    """
    if "=?" not in value:
        return value
    if len(value) > 1024:
        return _decode_words(value, hint)
    return _cached_decode_words(value, hint)


def _decode_words(value: str, hint: str | None) -> str:
    out: list[str] = []
    run: list[str] = []
    pos = 0
    for m in _ENCODED_WORD.finditer(value):
        gap = value[pos : m.start()]
        pos = m.end()
        if _broken(m.group(2), m.group(3)):
            if run:
                out.append(_decode_run(run, hint))
                run = []
            out.append(gap + m.group(0))
        elif run and (not gap or gap.isspace()):
            run.append(m.group(0))
        else:
            if run:
                out.append(_decode_run(run, hint))
            out.append(gap)
            run = [m.group(0)]
    if run:
        out.append(_decode_run(run, hint))
    out.append(value[pos:])
    return "".join(out)


_cached_decode_words = lru_cache(maxsize=1024)(_decode_words)
