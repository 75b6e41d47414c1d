"""RFC 5322/MIME bytes → ``Inbound``; raises nothing but ``UnparseableEmail``.

The MIME structure, header fields, transfer decoding and RFC 2231 parameters come from the
standard library's ``email`` package (compat32; guarded in ``message.py``); this module turns the
one Message it parses into an ``Inbound``. Every cost is bounded (ARCHITECTURE.md rule 7):
a size cap and a parse-cost estimate (headers plus a text excerpt above them), MIME depth and
part caps, address and text caps, a budget for charset guessing and HTML conversion, so any
input up to the size cap returns within ~2 s on a 2-core box. What was degraded is said in
``Inbound.notes`` for the operator; the raw bytes are always kept.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from functools import lru_cache
from typing import Any

from sdesk.channels.email.auto import detect_auto
from sdesk.channels.email.charsets import decode_words
from sdesk.channels.email.headers import HeaderView, address, addresses, parse_date
from sdesk.channels.email.htmltext import html_to_text
from sdesk.channels.email.ids import message_ids, normalise_message_id
from sdesk.channels.email.message import (
    PARSE_POLICY,
    header_block_end,
    parse_bytes,
    parse_cost,
    parse_headers_only,
)
from sdesk.channels.email.walk import MiB, Notes, PartWalk, fmt_size, one_line
from sdesk.core.enums import Channel, ContactKind
from sdesk.core.filenames import safe_filename
from sdesk.core.inbound import ContactRef, Inbound, Sender

__all__ = [
    "PARSE_POLICY",
    "EmailLimits",
    "UnparseableEmail",
    "parse_email",
    "parse_many",
    "to_wire",
    "from_wire",
    "safe_filename",
    "normalise_message_id",
    "message_ids",
    "detect_auto",
    "html_to_text",
]

PARSE_BUDGET_S = 1.0  # estimated parse seconds above which only headers + excerpt are read
EXCERPT_BYTES = 64 * 1024  # of the body, parsed for text when the whole is not
HEADER_WINDOW = 4 * MiB  # of a header block split off by hand, parsed at most
TOP_HEADER_LINES = 100_000
MAX_SUBJECT_CHARS = 1_000
MAX_NAME_CHARS = 200
MAX_META_CHARS = 4_000
_FIRST_LINES = re.compile(rb"(?:[^\r\n]*(?:\r\n?|\n)){%d}" % TOP_HEADER_LINES)


@dataclass(frozen=True)
class EmailLimits:
    """Caps that keep one hostile message from costing more than a bounded amount of work."""

    max_message_bytes: int = 50 * MiB
    max_attachment_bytes: int = 25 * MiB
    max_depth: int = 20
    max_parts: int = 500
    max_addresses: int = 200
    max_text_chars: int = 1_000_000


DEFAULT_LIMITS = EmailLimits()


class UnparseableEmail(Exception):
    """The bytes cannot become an ``Inbound``; ``reason`` is one short line for quarantine."""

    def __init__(self, reason: str) -> None:
        self.reason = " ".join(reason.split())[:200]
        super().__init__(self.reason)


def parse_email(
    raw: bytes,
    *,
    limits: EmailLimits = DEFAULT_LIMITS,
    received_at: datetime | None = None,
    source: str | None = None,
) -> Inbound:
    """Parse one raw message: an ``Inbound``, or ``UnparseableEmail`` and nothing else."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise UnparseableEmail(f"input is {type(raw).__name__}, not bytes")
    raw = bytes(raw)
    if not raw.strip():
        raise UnparseableEmail("empty message")
    try:
        return _build(raw, limits, received_at or datetime.now(UTC), source)
    except UnparseableEmail:
        raise
    except Exception as exc:  # the contract: a parser bug quarantines the message, not the poller
        raise UnparseableEmail(f"parser failure: {type(exc).__name__}: {exc}") from exc


def parse_many(
    jobs: Iterable[list[tuple[bytes, str]]] | None, limits: EmailLimits
) -> Iterator[list[tuple[Any, ...] | str]]:
    """For a parser process (``ChildProcess`` work): each job's ``(raw, source)`` messages in
    order, as ``to_wire`` tuples or, for an unparseable one, its one-line error. An empty list
    comes first, as soon as the process is running."""
    yield []
    for job in jobs or ():
        out: list[tuple[Any, ...] | str] = []
        for raw, source in job:
            try:
                out.append(to_wire(parse_email(raw, limits=limits, source=source)))
            except UnparseableEmail as exc:
                out.append(exc.reason)
        yield out


_FIELDS = tuple(f.name for f in dataclasses.fields(Inbound))
_RAW = _FIELDS.index("raw")


def to_wire(inbound: Inbound) -> tuple[Any, ...]:
    """``inbound``'s fields as a tuple, without the raw bytes (the sender kept them; sending
    them back would double the traffic). A frozen dataclass unpickles field by field through
    ``__setstate__``; a tuple loads in half the time, which the storing process has not."""
    values = [getattr(inbound, name) for name in _FIELDS]
    values[_RAW] = None
    return tuple(values)


def from_wire(values: tuple[Any, ...], raw: bytes) -> Inbound:
    """The ``Inbound`` that ``to_wire`` took apart, with its raw bytes back."""
    fields = list(values)
    fields[_RAW] = raw
    return Inbound(*fields)


def _build(raw: bytes, limits: EmailLimits, received_at: datetime, source: str | None) -> Inbound:
    notes = Notes()
    walk = PartWalk(limits, notes, "\r\n" if b"\r\n" in raw[:EXCERPT_BYTES] else "\n")
    if len(raw) > limits.max_message_bytes:
        top, _ = _headers_only(raw, notes)
        notes.add(f"message over {fmt_size(limits.max_message_bytes)}; stored headers only")
        text = f"(message of {len(raw)} bytes exceeds the size cap; headers kept)"
    else:
        top = _parse(raw, limits, notes, walk)
        text = walk.body_text()
    h = HeaderView(top, hint=walk.charset or walk.guessed)
    mid = normalise_message_id(h.get("message-id"))
    meta: dict[str, str] = {}
    for field, label in (("to", "To"), ("cc", "Cc")):
        pairs, total = addresses(h.get(field), limits.max_addresses, h.count(field, "@"))
        if total > limits.max_addresses:
            notes.add(f"{label} header had {total} addresses; first {len(pairs)} kept")
        joined = ", ".join(a for a in (address(p[1]) for p in pairs) if a)
        if joined:
            meta[field] = joined[:MAX_META_CHARS]
    reply_to = next((a for _, v in addresses(h.get("reply-to"), 10)[0] if (a := address(v))), None)
    return Inbound(
        channel=Channel.EMAIL,
        sender=_sender(h),
        text=text,
        external_id=mid,
        subject=one_line(
            decode_words((h.get("subject") or "")[:16384], hint=h.hint), MAX_SUBJECT_CHARS
        ),
        html=walk.htmls[0] if walk.htmls else None,
        attachments=tuple(walk.attachments),
        message_id=mid,
        in_reply_to=message_ids(h.get("in-reply-to")),
        references=message_ids(h.get("references")),
        reply_to=reply_to,
        sent_at=parse_date(h.get("date")),
        received_at=received_at,
        auto=detect_auto(h, delivery_status=walk.delivery_status),
        raw=raw,
        source=source,
        notes=tuple(notes.items),
        meta=meta,
    )


def _parse(raw: bytes, limits: EmailLimits, notes: Notes, walk: PartWalk) -> Message:
    """The whole message through the feedparser when affordable, else headers and an excerpt."""
    if parse_cost(raw, limits.max_depth) > PARSE_BUDGET_S:
        lines = raw.count(b"\n") or raw.count(b"\r")
        reason = f"message of {fmt_size(len(raw))} in {lines} lines too costly to split into parts"
        return _fallback(raw, limits, notes, walk, f"{reason}; headers and a text excerpt kept")
    try:
        top, complete = parse_bytes(raw, max_depth=limits.max_depth, max_parts=2 * limits.max_parts)
    except RecursionError:  # only with a max_depth near the interpreter's recursion limit
        reason = "MIME structure too deeply nested; headers and a text excerpt kept"
        return _fallback(raw, limits, notes, walk, reason)
    if not complete:
        notes.add(f"more than {limits.max_parts} MIME parts; the rest skipped")
    if not len(top):
        _check_text_like(raw, notes)
    walk.run(top)
    return top


def _check_text_like(raw: bytes, notes: Notes) -> None:
    """No headers at all: keep a plain-text body, refuse binary garbage."""
    notes.add("no headers; body only")
    sample = raw[:4096]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13) or b == 127)
    if controls * 10 > len(sample):
        raise UnparseableEmail("no headers and the body is not text")


def _headers_only(raw: bytes, notes: Notes) -> tuple[Message, int]:
    """The top header block, split off by a bytes search and parsed alone; and the body offset."""
    end = header_block_end(raw)
    block = raw[:end]
    if len(block) > HEADER_WINDOW:
        cut = max(block.rfind(b"\n", 0, HEADER_WINDOW), block.rfind(b"\r", 0, HEADER_WINDOW))
        block = block[: cut + 1 if cut >= 0 else HEADER_WINDOW]
        notes.add(f"header block over {fmt_size(HEADER_WINDOW)}; the rest skipped")
    if block.count(b"\n") + block.count(b"\r") > TOP_HEADER_LINES:
        first = _FIRST_LINES.match(block)
        if first is not None:
            block = block[: first.end()]
            notes.add(f"header block over {TOP_HEADER_LINES} lines; the rest skipped")
    return parse_headers_only(block), end


def _fallback(
    raw: bytes, limits: EmailLimits, notes: Notes, walk: PartWalk, reason: str
) -> Message:
    """Headers only, plus the text found in the first ``EXCERPT_BYTES`` of the body."""
    top, body_start = _headers_only(raw, notes)
    notes.add(reason)
    if not len(top):
        _check_text_like(raw, notes)
    body = raw[body_start : body_start + EXCERPT_BYTES]
    if body_start + EXCERPT_BYTES < len(raw):  # end on a line break: a half line of base64 is noise
        body = body[: max(body.rfind(b"\n"), body.rfind(b"\r")) + 1] or body
    # The excerpt as an entity of its own, under the message's MIME headers (type, encoding).
    mime = "".join(
        f"{k}: {v}\n"
        for k, v in top.raw_items()
        if k.lower() in ("content-type", "content-transfer-encoding")
    )
    try:
        entity, _ = parse_bytes(
            mime.encode("utf-8", "surrogateescape") + b"\n" + body,
            max_depth=limits.max_depth,
            max_parts=2 * limits.max_parts,
        )
    except RecursionError:
        return top
    walk.excerpt = True
    walk.run(entity)
    return top


def _sender(h: HeaderView) -> Sender:
    """From, else Sender, else Return-Path; the display name comes from the first present."""
    name: str | None = None
    for field in ("from", "sender", "return-path"):
        value = h.get(field)
        if not value:
            continue
        shown, valid = _mailbox(value) if len(value) > 1024 else _cached_mailbox(value)
        name = shown if name is None else name
        if valid:
            return Sender(name=name, contacts=(ContactRef(ContactKind.EMAIL, valid),))
    return Sender(name=name, contacts=())


def _mailbox(value: str) -> tuple[str | None, str | None]:
    """Display name and valid address of the first mailbox in a From-like value."""
    pairs, _ = addresses(value, 1)
    display, addr = pairs[0] if pairs else ("", "")
    valid = address(addr)
    # "From: Ops Team" has no address: the whole value is the name
    shown = display if valid or "@" in value else value.strip().strip('"')
    return one_line(decode_words(shown[:4096]), MAX_NAME_CHARS) or None, valid


_cached_mailbox = lru_cache(maxsize=4096)(_mailbox)  # a desk hears from the same people
