"""TNEF (``winmail.dat``, application/ms-tnef): Outlook's wrapper for its attachments and,
from Exchange, the whole body. Read here in one bounded, linear pass (MS-OXTNEF).

Why not ``tnefparse``: its reader copies the rest of the stream once per attribute
(quadratic in the attribute count), its MAPI decoder loops as many times as a 4-byte count
says even past the end of the data (a 2^32-step loop from a few crafted bytes), it strips
trailing NUL bytes from binary attachment data, and it raises on a cp1252 file name. The
format is small: a signature, then attributes (level, id, type, length, data, checksum);
message and attachment properties come as MAPI property lists. Everything read is bounded by
the blob's size; anything malformed raises ``TnefError`` (the caller keeps the raw part).
"""

from __future__ import annotations

import codecs
import struct
from dataclasses import dataclass, field

SIGNATURE = 0x223E9F78
MAX_ATTRIBUTES = 10_000  # a real winmail.dat has ~10 plus ~6 per attachment
MAX_FILES = 500
MAX_MAPI_VALUES = 50_000  # MAPI properties and values read from one blob (~1 us each)

# Attribute ids (low word of the TNEF attribute id; MS-OXTNEF 2.1.3.2)
ATT_BODY = 0x800C
ATT_ATTACH_DATA = 0x800F
ATT_ATTACH_TITLE = 0x8010
ATT_ATTACH_REND_DATA = 0x9002  # starts an attachment
ATT_MSG_PROPS = 0x9003
ATT_ATTACHMENT = 0x9005  # an attachment's MAPI properties
ATT_OEM_CODEPAGE = 0x9007
LVL_ATTACHMENT = 0x02

# MAPI property ids and types (MS-OXPROPS, MS-OXCDATA)
PR_BODY = 0x1000
PR_RTF_COMPRESSED = 0x1009
PR_BODY_HTML = 0x1013
PR_INTERNET_CPID = 0x3FDE
PR_DISPLAY_NAME = 0x3001
PR_ATTACH_DATA = 0x3701
PR_ATTACH_FILENAME = 0x3704
PR_ATTACH_LONG_FILENAME = 0x3707
PR_ATTACH_MIME_TAG = 0x370E
PT_STRING8 = 0x001E
PT_UNICODE = 0x001F
PT_OBJECT = 0x000D
_VARIABLE = frozenset({PT_STRING8, PT_UNICODE, PT_OBJECT, 0x0102, 0x0000})
_FIXED = {0x0001: 0, 0x0002: 4, 0x000B: 4, 0x0003: 4, 0x0004: 4, 0x000A: 4, 0x0005: 8,
          0x0006: 8, 0x0007: 8, 0x0014: 8, 0x0040: 8, 0x0048: 16}  # fmt: skip
_MV = 0x1000
_CODEPAGES = {65001: "utf-8", 20127: "ascii", 28591: "latin-1", 20866: "koi8-r", 21866: "koi8-u",
              50220: "iso2022_jp", 50221: "iso2022_jp", 50222: "iso2022_jp", 936: "gb18030",
              54936: "gb18030", 51932: "euc_jp", 51949: "euc_kr", 1200: "utf-16-le"}  # fmt: skip


class TnefError(ValueError):
    """Not TNEF, or TNEF this reader cannot follow."""


@dataclass
class TnefFile:
    name: str = ""
    data: bytes = b""
    mime: str = ""


@dataclass
class Tnef:
    """What a TNEF blob carries: body variants and files."""

    body: str | None = None
    html: bytes | None = None
    html_codec: str | None = None
    rtf: bytes | None = None  # compressed RTF (MS-OXRTFCP)
    files: list[TnefFile] = field(default_factory=list)


def codec_of(codepage: int) -> str:
    """A Python codec for a Windows code page number; cp1252 when unknown."""
    name = _CODEPAGES.get(codepage, f"cp{codepage}")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "cp1252"


def _u16(data: bytes, at: int) -> int:
    value: int = struct.unpack_from("<H", data, at)[0]
    return value


def _u32(data: bytes, at: int) -> int:
    value: int = struct.unpack_from("<I", data, at)[0]
    return value


def _text(raw: bytes, kind: int, codec: str) -> str:
    if kind == PT_UNICODE:
        return raw.decode("utf-16-le", "replace").split("\x00", 1)[0]
    return raw.decode(codec, "replace").split("\x00", 1)[0]


class _Budget:
    """MAPI properties and values left to read in one blob."""

    def __init__(self) -> None:
        self.left = MAX_MAPI_VALUES

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise TnefError(f"more than {MAX_MAPI_VALUES} MAPI values in TNEF")


def mapi_props(data: bytes, budget: _Budget) -> dict[int, tuple[int, bytes]]:
    """Property id -> (type, first value's bytes) of a MAPI property list; linear, bounded:
    every count is checked against the bytes left, and spent from ``budget``, before
    anything is read for it."""
    out: dict[int, tuple[int, bytes]] = {}
    end = len(data)
    count, at = _u32(data, 0), 4
    if count > end // 4:
        raise TnefError("MAPI property count beyond the data")
    budget.spend(count)
    for _ in range(count):
        kind, prop = _u16(data, at), _u16(data, at + 2)
        at += 4
        if prop >= 0x8000:  # a named property: GUID, kind, then an id or a name
            named = _u32(data, at + 16)
            at += 20
            at += 4 if named == 0 else 4 + (_u32(data, at) + 3) // 4 * 4
        multi = bool(kind & _MV)
        kind &= ~_MV
        values = 1
        if multi or kind in _VARIABLE:  # a value count: MV, or a single-valued string/binary
            values = _u32(data, at)
            at += 4
        if kind in _VARIABLE:
            if values > (end - at) // 4:
                raise TnefError("MAPI value count beyond the data")
            budget.spend(values)
            first = b""
            for i in range(values):
                size = _u32(data, at)
                if size > end - at - 4:
                    raise TnefError("MAPI value beyond the data")
                if i == 0:
                    first = data[at + 4 : at + 4 + size]
                at += 4 + (size + 3) // 4 * 4
            out.setdefault(prop, (kind, first))
        elif kind in _FIXED:
            size = 2 if multi and kind in (0x0002, 0x000B) else _FIXED[kind]
            total = (values * size + 3) // 4 * 4
            if total > end - at:
                raise TnefError("MAPI values beyond the data")
            out.setdefault(prop, (kind, data[at : at + size]))
            at += total
        else:
            raise TnefError(f"unknown MAPI type {kind:#06x}")
        if at > end:
            raise TnefError("MAPI property list cut off")
    return out


def read_tnef(data: bytes) -> Tnef:
    """The body and files of a TNEF blob; ``TnefError`` when it is not readable TNEF."""
    try:
        return _read(data)
    except struct.error as exc:  # a length field pointing past the end
        raise TnefError(f"TNEF cut off: {exc}") from exc


def _read(data: bytes) -> Tnef:
    if len(data) < 6 or _u32(data, 0) != SIGNATURE:
        raise TnefError("no TNEF signature")
    out = Tnef()
    codec = "cp1252"
    budget = _Budget()
    current: TnefFile | None = None
    at, end, seen = 6, len(data), 0
    while end - at >= 11:  # shorter trailing bytes are padding some writers add
        level, att, size = data[at], _u16(data, at + 1), _u32(data, at + 5)
        if size > end - at - 11:
            raise TnefError("TNEF attribute longer than the data")
        value = data[at + 9 : at + 9 + size]
        at += 11 + size
        seen += 1
        if seen > MAX_ATTRIBUTES:
            raise TnefError(f"more than {MAX_ATTRIBUTES} TNEF attributes")
        if att == ATT_ATTACH_REND_DATA or (level == LVL_ATTACHMENT and current is None):
            if len(out.files) >= MAX_FILES:
                raise TnefError(f"more than {MAX_FILES} files in TNEF")
            current = TnefFile()
            out.files.append(current)
        if level == LVL_ATTACHMENT and current is not None:
            _attachment_attribute(current, att, value, codec, budget)
        elif att == ATT_OEM_CODEPAGE and len(value) >= 4:
            codec = codec_of(_u32(value, 0))
        elif att == ATT_BODY:
            out.body = value.decode(codec, "replace").rstrip("\x00")
        elif att == ATT_MSG_PROPS:
            _message_props(out, mapi_props(value, budget), codec)
    return out


def _message_props(out: Tnef, props: dict[int, tuple[int, bytes]], codec: str) -> None:
    if PR_INTERNET_CPID in props and len(props[PR_INTERNET_CPID][1]) >= 4:
        out.html_codec = codec_of(_u32(props[PR_INTERNET_CPID][1], 0))
    if PR_BODY in props:
        kind, raw = props[PR_BODY]
        out.body = _text(raw, kind, out.html_codec or codec)
    if PR_BODY_HTML in props:
        kind, raw = props[PR_BODY_HTML]
        out.html = raw.decode("utf-16-le", "replace").encode() if kind == PT_UNICODE else raw
        out.html_codec = "utf-8" if kind == PT_UNICODE else out.html_codec
    if PR_RTF_COMPRESSED in props:
        out.rtf = props[PR_RTF_COMPRESSED][1]


def _attachment_attribute(
    file: TnefFile, att: int, value: bytes, codec: str, budget: _Budget
) -> None:
    if att == ATT_ATTACH_TITLE:
        file.name = file.name or value.decode(codec, "replace").split("\x00", 1)[0]
    elif att == ATT_ATTACH_DATA:
        file.data = value
    elif att == ATT_ATTACHMENT:
        props = mapi_props(value, budget)
        for prop in (PR_ATTACH_LONG_FILENAME, PR_ATTACH_FILENAME, PR_DISPLAY_NAME):
            if prop in props:
                name = _text(props[prop][1], props[prop][0], codec)
                if name:
                    file.name = name  # the long name wins over the 8.3 title
                    break
        if PR_ATTACH_MIME_TAG in props:
            file.mime = _text(props[PR_ATTACH_MIME_TAG][1], props[PR_ATTACH_MIME_TAG][0], codec)
        if not file.data and PR_ATTACH_DATA in props:
            kind, raw = props[PR_ATTACH_DATA]
            file.data = raw[16:] if kind == PT_OBJECT else raw  # an object starts with its IID


MAX_RTF_BYTES = 64 * 1024  # compressed: pure-Python LZFu, ~0.8 us per byte out, up to 8x out


def rtf_text(compressed: bytes) -> str | None:
    """Plain text of a compressed RTF body (MS-OXRTFCP); None when too big or unreadable."""
    if not 16 <= len(compressed) <= MAX_RTF_BYTES or _u32(compressed, 4) > 4 * MAX_RTF_BYTES:
        return None
    from compressed_rtf import decompress
    from striprtf.striprtf import rtf_to_text

    try:
        rtf = decompress(compressed).decode("latin-1")  # 7-bit; \'xx escapes carry 8-bit
        # striprtf's hyperlink expression backtracks along a line ("{\field{...HYPERLINK");
        # RTF ignores line breaks, and one here keeps that expression from ever matching.
        return str(rtf_to_text(rtf.replace("{\\field", "{\n\\field"), errors="replace"))
    except Exception:  # third-party readers of hostile bytes: any failure means no text
        return None
