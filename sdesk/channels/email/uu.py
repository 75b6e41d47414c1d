"""uuencode, as old clients send files: a Content-Transfer-Encoding of x-uuencode (or
uuencode, x-uue, uue), or ``begin 644 name`` ... ``end`` blocks inside a plain-text body.

The stdlib decodes the transfer encoding too, but gives up (keeping the encoded text) at the
first empty line, which is what a zero-length line (" ") becomes once a mail system strips
trailing blanks; here empty lines are skipped and short lines padded (``binascii.a2b_uu``).
"""

from __future__ import annotations

import binascii
import re
from bisect import bisect_left

UU_ENCODINGS = frozenset({"x-uuencode", "uuencode", "x-uue", "uue"})
MAX_BLOCKS = 50  # inline blocks extracted from one text
_BEGIN = re.compile(rb"^begin[ \t]+[0-7]{3,4}[ \t]+([^\r\n]*?)[ \t]*\r?$", re.MULTILINE)
_BEGIN_TEXT = re.compile(r"^begin [0-7]{3,4} ([^\n]*\S)[ \t]*\n", re.MULTILINE)
_END_TEXT = re.compile(r"^end[ \t]*$", re.MULTILINE)
_NOT_UU = re.compile(r"[^\x20-\x60\n\t]")


def _line(line: bytes) -> bytes:
    """One uuencoded line; garbage after the declared length is ignored (broken encoders)."""
    try:
        return binascii.a2b_uu(line)
    except binascii.Error:
        n = (((line[0] - 32) & 63) * 4 + 5) // 3
        return binascii.a2b_uu(line[:n])


def _decode_lines(lines: list[bytes], *, strict: bool = False) -> bytes | None:
    """Data lines up to ``end``; None when a line is not uuencode (``strict``: nor of the
    length its first character announces, for text that only looks like uuencode)."""
    out: list[bytes] = []
    for line in lines:
        line = line.rstrip(b" \t\r")
        if line == b"end":
            break
        if not line:
            continue  # a stripped zero-length line (" "), or blank lines around the data
        if strict and not -4 <= len(line) - 1 - (((line[0] - 32) & 63) + 2) // 3 * 4 <= 2:
            return None  # stripped trailing blanks may shorten a line a little, not more
        try:
            out.append(_line(line))
        except (binascii.Error, IndexError):
            return None
    return b"".join(out)


def decode_uu(data: bytes) -> tuple[bytes, str] | None:
    """A uuencoded body: its bytes and the name on its ``begin`` line; None without one."""
    begin = _BEGIN.search(data)
    if begin is None:
        return None
    decoded = _decode_lines(data[begin.end() :].splitlines())
    if decoded is None:
        return None
    name = begin.group(1).decode("utf-8", "replace")
    return decoded, name


def inline_blocks(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Complete ``begin``/``end`` blocks cut out of ``text`` (lines ending in LF) as
    (name, bytes), each replaced by a ``[uuencoded file: name]`` line. Blocks that do not
    decode stay as text."""
    if "begin " not in text:
        return text, []
    files: list[tuple[str, bytes]] = []
    out: list[str] = []
    pos = tries = 0
    ends = [m for m in _END_TEXT.finditer(text)] if _BEGIN_TEXT.search(text) else []
    starts = [m.start() for m in ends]
    for begin in _BEGIN_TEXT.finditer(text):
        if begin.start() < pos:
            continue
        i = bisect_left(starts, begin.end())
        tries += 1
        if i == len(ends) or tries > 2 * MAX_BLOCKS or len(files) >= MAX_BLOCKS:
            break
        end = ends[i]
        block = text[begin.end() : end.start()]
        if _NOT_UU.search(block):  # stops at the first character uuencode never writes
            continue
        data = _decode_lines(block.encode("ascii").split(b"\n"), strict=True)
        if data is None:
            continue
        name = begin.group(1)
        files.append((name, data))
        out.append(text[pos : begin.start()])
        out.append(f"[uuencoded file: {name}]")
        pos = end.end()
    if not files:
        return text, []
    out.append(text[pos:])
    return "".join(out), files
