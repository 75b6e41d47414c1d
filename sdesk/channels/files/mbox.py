"""Cut an mbox into raw messages, streaming: mboxo, mboxrd, mboxcl and mboxcl2, as written in the
wild (separators with or without the blank line before them).

Where a message ends, in this order:

1. ``Content-Length`` (mboxcl, mboxcl2): when the header block holds one and the bytes it points
   at are consistent — the end of the file, or a ``From `` line (after at most one line break) —
   the body is exactly that long, so a body line beginning ``From `` never splits it. A length
   that points anywhere else (the file was edited, the header came from elsewhere) is ignored.
2. Otherwise at the next separator. A line beginning ``From `` is a separator when
   - it follows a blank line and matches the From_ grammar, ``From <sender> <date>``: an asctime
     date (``From foo@bar Sat Jan  3 01:05:34 1996``, ``From - Thu Nov 16 10:20:53 2006``, with a
     zone before or after the year, ``From a@b  Mon Mar  3 12:00:00 +0000 2003``) or an RFC 5322
     one (``From a@b Mon, 3 Mar 2003 12:00:00``); or
   - it follows a blank line OR matches the grammar, and the lines after it look like a header
     block (``Name: value`` fields, folded lines allowed, at least one well-known mail header).
   So a writer that leaves out the blank line loses no message, and a body line such as
   ``From my point of view...`` — after a blank line or not — stays in its body. (An unquoted body
   line that is a complete From_ line after a blank line is cut: in mboxo that is the format's own
   ambiguity, and exactly what other readers do.)

``>From`` lines lose one ``>`` (mboxrd, and the usual reading of mboxo), except in a message
delimited by a consistent ``Content-Length`` that also holds an unquoted ``From `` line (mboxcl2
does not quote).

Speed: the file is read in 1 MiB chunks, searched with a regex for ``\\nFrom `` candidates (rare:
about one a message) and only those are judged in Python; a loop over lines costs more than
parsing the mail. Memory stays bounded: a message over ``max_message_bytes`` keeps its first
``max_message_bytes + 1`` bytes, enough for the parser to see it is oversize.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

CHUNK = 1 << 20
HEAD_WINDOW = 64 * 1024  # a message's From_ line and header block are judged within this
MAX_FROM_LINE = 1000
HEADER_LOOKAHEAD = 4096  # bytes after a candidate From_ line that are judged as a header block
JUDGE_WINDOW = MAX_FROM_LINE + HEADER_LOOKAHEAD
BOM = b"\xef\xbb\xbf"

_DAY = rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MON = rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME = rb"\d{1,2}:\d{2}(?::\d{2})?"
_ZONE = rb"(?:[A-Za-z]{1,5}|[+-]\d{4})"
FROM_LINE = re.compile(
    rb"From +\S+ +(?:"
    + rb"(?:%s,? +)?%s +\d{1,2},? +%s(?: +%s)* +(?:\d{4}|\d{2})\b" % (_DAY, _MON, _TIME, _ZONE)
    + rb"|(?:%s,? +)?\d{1,2} +%s +(?:\d{4}|\d{2}) +%s" % (_DAY, _MON, _TIME)
    + rb")"
)
_FIELD = re.compile(rb"([!-9;-~]{1,76})[ \t]*:")
KNOWN_FIELDS = frozenset(
    b"from to cc bcc date subject message-id received return-path delivered-to mime-version "
    b"content-type content-transfer-encoding content-length reply-to sender in-reply-to "
    b"references x-mailer user-agent status x-status x-mozilla-status x-mozilla-status2 "
    b"x-gmail-labels x-gm-thrid dkim-signature authentication-results envelope-to "
    b"x-original-to x-received arc-seal organization precedence list-id auto-submitted "
    b"thread-topic thread-index x-uid x-keywords lines".split()
)
_CANDIDATE = re.compile(rb"\nFrom ")
_QUOTED_FROM = re.compile(rb"(?m)^>(>*From )")
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d{1,12})[ \t]*\r?$")
_HEADERS_END = re.compile(rb"\n\r?\n")


def looks_like_headers(buf: bytes, pos: int, *, complete: bool, limit: int = 16384) -> bool:
    """Whether the lines from ``pos`` read as a mail header block: ``Name: value`` fields (folded
    lines allowed) up to a blank line, at least one of them a well-known mail header, and two
    fields unless a blank line closes the block. ``complete``: ``buf`` ends where the input ends
    (its last line counts without a line break)."""
    fields = known = 0
    end = min(len(buf), pos + limit)
    for _ in range(32):
        if pos >= end:
            break
        nl = buf.find(b"\n", pos, end)
        if nl < 0:
            if not (complete and end == len(buf)):
                break  # a cut line is not judged
            nl = end
        line = buf[pos:nl]
        pos = nl + 1
        if line in (b"", b"\r"):
            return known > 0
        if line[:1] in (b" ", b"\t"):
            if not fields:
                return False
            continue
        field = _FIELD.match(line)
        if field is None:
            return fields >= 3 and known > 0  # a broken line inside a long, plausible block
        fields += 1
        known += field.group(1).lower() in KNOWN_FIELDS
    return fields >= 2 and known > 0


def is_separator_start(first_line: bytes, buf: bytes, after: int, *, complete: bool) -> bool:
    """The first line of a file: a From_ line by its grammar, or followed by headers."""
    line = first_line.rstrip(b"\r")
    if not line.startswith(b"From ") or len(line) > MAX_FROM_LINE:
        return False
    return FROM_LINE.match(line) is not None or looks_like_headers(buf, after, complete=complete)


class _Window:
    """The part of the file in memory: ``buf`` holds bytes ``offset .. offset + len(buf)``.
    Positions passed around are absolute (file offsets), so a refill moves none of them."""

    __slots__ = ("buf", "chunk", "eof", "fh", "offset")

    def __init__(self, fh: BinaryIO, chunk: int) -> None:
        self.fh, self.chunk = fh, chunk
        self.buf = fh.read(chunk)
        self.eof = not self.buf
        self.offset = 0

    @property
    def end(self) -> int:
        return self.offset + len(self.buf)

    def fill(self, keep_from: int, upto: int) -> None:
        """Forget bytes before ``keep_from``; read until ``upto`` is held or the file ends."""
        while self.end < upto and not self.eof:
            keep = max(0, keep_from - self.offset)
            more = self.fh.read(self.chunk)
            self.buf = self.buf[keep:] + more
            self.offset += keep
            self.eof = not more


def iter_mbox(
    fh: BinaryIO, max_message_bytes: int, chunk: int = CHUNK
) -> Iterator[tuple[bytes, int]]:
    """Each message's raw bytes, and how many bytes of the file it used (for progress)."""
    w = _Window(fh, chunk)
    w.fill(0, HEAD_WINDOW)
    pos = 3 if w.buf.startswith(BOM) else 0
    while pos < len(w.buf) and w.buf[pos] in b"\r\n":
        pos += 1
    while True:
        w.fill(pos, pos + HEAD_WINDOW)
        if pos >= w.end:
            return
        nl = w.buf.find(b"\n", pos - w.offset)
        while nl < 0 and not w.eof:  # a From_ line longer than the window
            w.fill(pos, w.end + 1)
            nl = w.buf.find(b"\n", pos - w.offset)
        if nl < 0:
            return  # a From_ line with nothing after it
        start = w.offset + nl + 1
        raw, next_pos = _by_length(w, pos, start, max_message_bytes) or _by_scan(
            w, pos, start, max_message_bytes
        )
        yield raw, next_pos - pos
        pos = next_pos


def _by_length(w: _Window, pos: int, start: int, cap: int) -> tuple[bytes, int] | None:
    """The message ends where its ``Content-Length`` says, if that is consistent."""
    s = start - w.offset
    headers_end = _HEADERS_END.search(w.buf, s - 1, s + HEAD_WINDOW)
    if headers_end is None:
        return None
    length = _CONTENT_LENGTH.search(w.buf, s, headers_end.start() + 1)
    if length is None:
        return None
    end = w.offset + headers_end.end() + int(length.group(1))
    if end - start > cap:
        return None  # the scan keeps an oversize message's head within bounded memory
    w.fill(pos, end + 8)
    buf, e = w.buf, end - w.offset
    if e > len(buf):
        return None  # longer than the file
    if e == len(buf) or (w.eof and len(buf) - e <= 4 and not buf[e:].strip(b"\r\n")):
        next_pos = w.end
    elif buf.startswith(b"From ", e) and buf[e - 1 : e] == b"\n":
        next_pos = end
    elif buf.startswith(b"\nFrom ", e):
        next_pos = end + 1
    elif buf.startswith(b"\r\nFrom ", e):
        next_pos = end + 2
    else:
        return None
    raw = buf[start - w.offset : e]
    if b">" in raw and _CANDIDATE.search(raw) is None:
        raw = _QUOTED_FROM.sub(rb"\1", raw)
    return raw, next_pos


def _by_scan(w: _Window, pos: int, start: int, cap: int) -> tuple[bytes, int]:
    """The message ends at the next separator (see the module's docstring)."""
    kept: bytes | None = None  # the head of an oversize message
    low = start  # the lowest position of this message still in memory
    scan = start
    while True:
        found = _CANDIDATE.search(w.buf, scan - w.offset)
        if found is None:
            if w.eof:
                end = next_pos = w.end
                last = True
                break
            if kept is None and w.end - start > cap + 8:
                kept = w.buf[start - w.offset : start - w.offset + cap + 1]
            scan = max(scan, w.end - 5)  # "\nFrom" may be cut at the chunk's end
            if kept is not None:
                low = max(low, scan - 3, w.offset)  # room to see a blank line before it
            w.fill(start if kept is None else low, w.end + 1)
            continue
        cand = w.offset + found.start()
        if w.end < cand + 1 + JUDGE_WINDOW and not w.eof:
            if kept is not None:
                low = max(low, cand - 3)
            w.fill(start if kept is None else low, cand + 1 + JUDGE_WINDOW)
            scan = cand
            continue
        cut = _judge(w, cand, low)
        if cut is not None:
            end, next_pos = cut
            last = False
            break
        scan = cand + 1
    if kept is None:
        buf, s, e = w.buf, start - w.offset, end - w.offset
        if last:  # the last message: drop the file's trailing blank line
            e -= 2 if buf.endswith(b"\r\n", s, e) else 1 if buf.endswith(b"\n", s, e) else 0
        kept = buf[s : min(e, s + cap + 1)]
    raw = kept
    if b">" in raw:
        raw = _QUOTED_FROM.sub(rb"\1", raw)
    return raw, next_pos


def _judge(w: _Window, cand: int, low: int) -> tuple[int, int] | None:
    """Whether the line after the newline at ``cand`` is a separator: (end of this message, start
    of the next), or None."""
    buf, c, lo = w.buf, cand - w.offset, low - w.offset
    line_start = c + 1
    eol = buf.find(b"\n", line_start, line_start + MAX_FROM_LINE + 1)
    if eol < 0:
        if not w.eof or len(buf) - line_start > MAX_FROM_LINE:
            return None
        eol = len(buf)
    if c - 1 >= lo and buf[c - 1] == 0x0A:
        blank, end = True, c
    elif c - 2 >= lo and buf[c - 2 : c] == b"\n\r":
        blank, end = True, c - 1
    else:
        blank, end = False, c + 1
    grammar = FROM_LINE.match(buf, line_start, eol) is not None
    if not (blank and grammar) and not (
        (blank or grammar) and looks_like_headers(buf, eol + 1, complete=w.eof)
    ):
        return None
    return w.offset + end, cand + 1
