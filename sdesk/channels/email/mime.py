"""Byte-level MIME structure: header blocks, parameters, multipart bodies, transfer encodings.

Why not ``email.message_from_bytes``: its feedparser handles every line in Python (5-10 s for
40 MB of short lines), recurses once per nested multipart (RecursionError on deep nests) and
tests every open boundary on every line. Here structure is found with C-speed searches over
one immutable buffer, parts are (start, end) offsets into it, and every loop has a cap, so a
hostile message costs bounded work. RFC 5322 header syntax and RFC 2046 delimiters follow the
same lenient rules as the stdlib (LF, CR or CRLF line ends; unterminated last part kept).
"""

from __future__ import annotations

import binascii
import re
import urllib.parse
from dataclasses import dataclass

from sdesk.channels.email.charsets import decode_text

_FIELD = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:[ \t]*([^\r\n]*)(?:\r\n|\r|\n)?")
_REST = re.compile(rb"([^\r\n]*)(?:\r\n|\r|\n)?")
# Fast path: a clean header block normalised to LF and unfolded, validated and split in C.
_FAST_WINDOW = 256 * 1024
_FOLD = re.compile(rb"\n(?=[ \t])")
_CLEAN_BLOCK = re.compile(rb"(?:[\x21-\x39\x3b-\x7e]+[ \t]*:[^\n]*\n)*")
_FIELD_LF = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:[ \t]*([^\n]*)\n")
_BLANK_LINE = re.compile(rb"(?:\r\n|\n|\r(?!\n))(?:\r\n|\n|\r)")
_WS_EOL = re.compile(rb"[ \t]*(?:\r\n|\r|\n|\Z)")
_EOL = (10, 13)
MAX_PARAM_CHARS = 16 * 1024  # Content-Type/-Disposition are parsed from this prefix only


class Headers:
    """Header fields of one MIME entity, stored unfolded; values are decoded on first access.

    Lazy because a ticket needs a handful of the 20-100 fields a real message carries.
    ``hint`` is a charset to try for raw 8-bit values (typically the body's declared charset).
    """

    __slots__ = ("_fields", "_values", "hint", "guess")

    def __init__(self, fields: dict[str, list[bytes]], *, guess: bool = True) -> None:
        self._fields = fields
        self._values: dict[str, str] = {}
        self.hint: str | None = None
        self.guess = guess

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._fields

    def __len__(self) -> int:
        return len(self._fields)

    def _decode(self, raw: bytes) -> str:
        raw = raw.strip()
        if raw.isascii():
            text = raw.decode("ascii")
        else:  # raw 8-bit header: UTF-8, else the hint, else a guess
            text = decode_text(raw, guess=self.guess, hint=self.hint)[0]
        return text.replace("\x00", "") if "\x00" in text else text

    def get(self, name: str, default: str | None = None) -> str | None:
        """First value of ``name``, case-insensitive (like ``email.message.Message.get``)."""
        raws = self._fields.get(name)
        if raws is None:
            name = name.lower()
            raws = self._fields.get(name)
            if raws is None:
                return default
        value = self._values.get(name)
        if value is None:
            value = self._values[name] = self._decode(raws[0])
        return value

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name`` in order."""
        return [self._decode(raw) for raw in self._fields.get(name.lower(), ())]


@dataclass(frozen=True, slots=True)
class HeaderBlock:
    headers: Headers
    body_start: int
    truncated: bool  # more than max_lines header lines; the rest were skipped


def parse_headers(
    buf: bytes, pos: int, end: int, max_lines: int, *, guess: bool = True, fast: bool = True
) -> HeaderBlock:
    """Read the header block at ``buf[pos:end]``; the body starts after the first blank line.

    A line that is neither a field nor a continuation ends the headers without being consumed
    (as the stdlib does), so a message with no headers at all is all body. Values are stored
    unfolded (line breaks dropped, RFC 5322 2.2.3) and decoded only when asked for. ``fast``
    tries a C-level pass for clean blocks first (tests turn it off to compare both paths).
    """
    quick = _fast_headers(buf, pos, end, max_lines) if fast else None
    if quick is not None:
        return HeaderBlock(Headers(quick[0], guess=guess), quick[1], False)
    fields: dict[str, list[bytes]] = {}
    lines = 0
    while pos < end:
        first = buf[pos]
        if first == 10 or first == 13:
            pos += 2 if buf.startswith(b"\r\n", pos) else 1
            break
        m = _FIELD.match(buf, pos, end)
        if m is None:
            if first != 32 and first != 9 and (lines or not buf.startswith(b"From ", pos)):
                break
            pos = _REST.match(buf, pos, end).end()  # orphan continuation / mbox "From " line
            lines += 1
            continue
        value = m.group(2)
        pos = m.end()
        lines += 1
        if pos < end and (buf[pos] == 32 or buf[pos] == 9):
            chunks = [value]
            while pos < end and (buf[pos] == 32 or buf[pos] == 9) and lines < max_lines:
                cont = _REST.match(buf, pos, end)
                chunks.append(cont.group(1))
                pos = cont.end()
                lines += 1
            value = b"".join(chunks)
        fields.setdefault(m.group(1).decode("ascii").lower(), []).append(value)
        if lines >= max_lines:
            blank = _BLANK_LINE.search(buf, pos - 1 if pos else 0, end)
            return HeaderBlock(Headers(fields, guess=guess), blank.end() if blank else end, True)
    return HeaderBlock(Headers(fields, guess=guess), min(pos, end), False)


def _fast_headers(
    buf: bytes, pos: int, end: int, max_lines: int
) -> tuple[dict[str, list[bytes]], int] | None:
    """The common case in a few C-level passes; None sends anything unusual to the line loop."""
    blank = buf.find(b"\n\n", pos, min(end, pos + _FAST_WINDOW))
    stop = blank if blank >= 0 else min(end, pos + _FAST_WINDOW)
    if buf.find(b"\r", pos, stop) >= 0:  # CR or CRLF line ends: the blank line may be earlier
        ends = [
            i for i in (blank, buf.find(b"\n\r", pos, stop), buf.find(b"\r\r", pos, stop)) if i >= 0
        ]
        blank = min(ends) if ends else -1
    if blank < 0:
        return None
    # ``blank`` is where the line break before the blank line starts
    block = buf[pos : blank + 1]
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if block.count(b"\n") > max_lines:
        return None
    if b"\n " in block or b"\n\t" in block:
        block = _FOLD.sub(b"", block)
    if _CLEAN_BLOCK.fullmatch(block) is None:
        return None
    fields: dict[str, list[bytes]] = {}
    for name, value in _FIELD_LF.findall(block):
        key = name.decode("ascii").lower()
        if key in fields:
            fields[key].append(value)
        else:
            fields[key] = [value]
    return fields, blank + (3 if buf.startswith(b"\r\n", blank + 1) else 2)


_PARAM = re.compile(r';\s*([^\s=;"]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)\\?"?|([^;]*)))?', re.S)
_BACKSLASH = re.compile(r"\\(.)", re.S)
_SECTION = re.compile(r"([0-9]{1,3})?(\*)?")


def parse_params(value: str | None) -> tuple[str, dict[str, str]]:
    """Lower-cased main value and parameters of a Content-Type/-Disposition header.

    RFC 2231 continuations and charset'lang'%XX values are assembled and decoded (they win
    over a plain parameter of the same name); the first occurrence of a parameter wins.
    Linear time, unlike ``email.message._parseparam`` which is quadratic in quotes.
    """
    if not value:
        return "", {}
    value = value[:MAX_PARAM_CHARS]
    semi = value.find(";")
    main = (value if semi < 0 else value[:semi]).strip().lower()
    params: dict[str, str] = {}
    sections: dict[str, list[tuple[int, str, bool]]] = {}
    if semi >= 0:
        for m in _PARAM.finditer(value, semi):
            name = m.group(1).lower()
            quoted = m.group(2)
            text = _BACKSLASH.sub(r"\1", quoted) if quoted is not None else (m.group(3) or "")
            text = text.strip()
            base, star, rest = name.partition("*")
            if not star:
                params.setdefault(name, text)
                continue
            sec = _SECTION.fullmatch(rest)
            if sec is not None and len(sections.setdefault(base, [])) < 100:
                number = int(sec.group(1) or 0)
                sections[base].append((number, text, bool(sec.group(2)) or not sec.group(1)))
    for base, parts in sections.items():
        if parts:
            params[base] = _join_rfc2231(sorted(parts, key=lambda p: p[0]))
    return main, params


def _join_rfc2231(parts: list[tuple[int, str, bool]]) -> str:
    """Join RFC 2231 sections; %XX-encoded ones are bytes in the charset named up front."""
    charset: str | None = None
    data = bytearray()
    for index, (_, text, encoded) in enumerate(parts):
        if encoded:
            if index == 0 and text.count("'") >= 2:
                charset, _, text = text.split("'", 2)
            data += urllib.parse.unquote_to_bytes(text)
        else:
            data += text.encode("utf-8", "replace")
    return decode_text(bytes(data), charset, guess=False)[0]


@dataclass(frozen=True, slots=True)
class Split:
    parts: list[tuple[int, int]]  # (start, end) offsets of each part, headers included
    found: bool  # at least one delimiter line
    closed: bool  # the close delimiter was seen
    capped: bool  # stopped early: part cap or candidate budget


class ScanBudget:
    """Total delimiter candidates (valid or not) the whole message may cost us."""

    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left


def split_multipart(
    buf: bytes, start: int, end: int, boundary: bytes, max_parts: int, budget: ScanBudget
) -> Split:
    """Offsets of the body parts between RFC 2046 delimiter lines in ``buf[start:end]``.

    A delimiter is ``--boundary`` at a line start, optional ``--`` (close), optional blanks,
    then a line break or the end; the line break before it belongs to the delimiter. Found by
    ``bytes.find`` (GB/s) and checked in Python; ``budget`` bounds the checks on hostile input.
    """
    delim = b"--" + boundary
    parts: list[tuple[int, int]] = []
    part_start = -1
    pos = start
    found = closed = capped = False
    while True:
        i = buf.find(delim, pos, end)
        if i < 0:
            break
        budget.left -= 1
        if budget.left < 0:
            capped = True
            break
        pos = i + 1
        if i > start and buf[i - 1] not in _EOL:
            continue
        j = i + len(delim)
        is_close = buf.startswith(b"--", j, end)
        m = _WS_EOL.match(buf, j + 2 if is_close else j, end)
        if m is None:
            continue
        found = True
        if part_start >= 0:
            part_end = i
            if part_end > part_start and buf[part_end - 1] == 10:
                part_end -= 1
            if part_end > part_start and buf[part_end - 1] == 13:
                part_end -= 1
            parts.append((part_start, part_end))
            if len(parts) >= max_parts:
                capped = True
                break
        part_start = pos = m.end()
        if is_close:
            closed = True
            break
    if part_start >= 0 and not closed and not capped:
        parts.append((part_start, end))
    return Split(parts, found, closed, capped)


_B64_JUNK = bytes(c for c in range(256) if not (chr(c).isalnum() and c < 128) and c not in b"+/")


def decode_transfer(data: bytes, encoding: str | None) -> tuple[bytes, bool]:
    """Undo a Content-Transfer-Encoding; returns (bytes, repaired).

    Invalid base64 is repaired by dropping non-alphabet bytes and a dangling tail, so what was
    readable survives; unknown encodings pass through unchanged.
    """
    enc = (encoding or "").strip().lower()
    if enc == "base64":
        try:
            return binascii.a2b_base64(data), False
        except binascii.Error:
            clean = data.translate(None, _B64_JUNK)
            clean = clean[: len(clean) - len(clean) % 4]
            try:
                return binascii.a2b_base64(clean), True
            except binascii.Error:
                return data, True
    if enc == "quoted-printable":
        return binascii.a2b_qp(data), False
    return data, False
