"""RFC 5322/MIME bytes → ``Inbound``; raises nothing but ``UnparseableEmail``.

Every cost is bounded (DESIGN reliability rule 7): a size cap (headers-only stub above it),
MIME depth and part caps, address and text caps, a budget for charset guessing and HTML
conversion, so any input up to the size cap returns within ~2 s on a 2-core box. What was
degraded is said in ``Inbound.notes`` for the operator; the raw bytes are always kept.
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from datetime import UTC, datetime

from sdesk.channels.email.auto import detect_auto
from sdesk.channels.email.charsets import codec_for, decode_text, decode_words
from sdesk.channels.email.fields import address, addresses, parse_date
from sdesk.channels.email.filenames import safe_filename
from sdesk.channels.email.htmltext import html_to_text
from sdesk.channels.email.ids import message_ids, normalise_message_id
from sdesk.channels.email.mime import (
    HeaderBlock,
    Headers,
    ScanBudget,
    decode_transfer,
    parse_headers,
    parse_params,
    split_multipart,
)
from sdesk.core.enums import Channel, ContactKind
from sdesk.core.inbound import ContactRef, Inbound, InboundAttachment, Sender

__all__ = [
    "PARSE_POLICY",
    "EmailLimits",
    "UnparseableEmail",
    "parse_email",
    "safe_filename",
    "normalise_message_id",
    "message_ids",
    "detect_auto",
    "html_to_text",
]

# compat32: 8x faster than policy.default on an ordinary message, and its header access does
# not take 16 s on a 50,000-address To (measured). parse_email does not run the feedparser at
# all (see mime.py); this is the policy for any stdlib parse around it and the benchmark base.
PARSE_POLICY = email.policy.compat32

MiB = 1024 * 1024
TOP_HEADER_LINES = 100_000
PART_HEADER_LINES = 1_000
DELIMITER_BUDGET = 200_000  # boundary-like candidates checked per message, over all levels
MAX_GUESSES = 4  # charset_normalizer runs per message (~10 ms each)
MAX_SUBJECT_CHARS = 1_000
MAX_NAME_CHARS = 200
MAX_META_CHARS = 4_000
MAX_NOTES = 30
_EXT = {
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "text/rfc822-headers": ".txt",
    "application/pgp-signature": ".asc",
}


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
        return _Parser(raw, limits).build(received_at or datetime.now(UTC), source)
    except UnparseableEmail:
        raise
    except Exception as exc:  # the contract: a parser bug quarantines the message, not the poller
        raise UnparseableEmail(f"parser failure: {type(exc).__name__}: {exc}") from exc


def _fmt_size(n: int) -> str:
    if n >= MiB:
        return f"{n // MiB} MiB" if n % MiB == 0 else f"{n / MiB:.1f} MiB"
    return f"{n // 1024} KiB" if n >= 1024 and n % 1024 == 0 else f"{n} bytes"


def _one_line(text: str, limit: int) -> str:
    """CR/LF and runs of whitespace folded to single spaces, NUL removed, capped."""
    return " ".join(text.replace("\x00", "").split())[:limit]


def _clean_text(text: str) -> str:
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


class _Parser:
    """One message's parse state: a single explicit-stack walk, no recursion."""

    def __init__(self, raw: bytes, limits: EmailLimits) -> None:
        self.raw = raw
        self.limits = limits
        self.notes: list[str] = []
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.attachments: list[InboundAttachment] = []
        self.text_chars = 0
        self.parts = 0
        self.index = 0
        self.charset: str | None = None
        self.guesses = MAX_GUESSES
        self.budget = ScanBudget(DELIMITER_BUDGET)

    def note(self, text: str) -> None:
        if text not in self.notes and len(self.notes) < MAX_NOTES:
            self.notes.append(text)

    def build(self, received_at: datetime, source: str | None) -> Inbound:
        raw, limits = self.raw, self.limits
        oversize = len(raw) > limits.max_message_bytes
        top = parse_headers(raw, 0, len(raw), TOP_HEADER_LINES)
        h = top.headers
        if top.truncated:
            self.note(f"header block over {TOP_HEADER_LINES} lines; the rest skipped")
        if oversize:
            self.note(f"message over {_fmt_size(limits.max_message_bytes)}; stored headers only")
            text = f"(message of {len(raw)} bytes exceeds the size cap; headers kept)"
        else:
            if not len(h):
                self._check_text_like(top)
            self.walk(top)
            text = self.body_text()
        h.hint = self.charset
        mid = normalise_message_id(h.get("message-id"))
        meta: dict[str, str] = {}
        for field, label in (("to", "To"), ("cc", "Cc")):
            pairs, total = addresses(h.get(field), limits.max_addresses)
            if total > limits.max_addresses:
                self.note(f"{label} header had {total} addresses; first {len(pairs)} kept")
            joined = ", ".join(a for a in (address(p[1]) for p in pairs) if a)
            if joined:
                meta[field] = joined[:MAX_META_CHARS]
        reply_to = next(
            (a for _, v in addresses(h.get("reply-to"), 10)[0] if (a := address(v))), None
        )
        return Inbound(
            channel=Channel.EMAIL,
            sender=self.sender(h),
            text=text,
            external_id=mid,
            subject=_one_line(
                decode_words(h.get("subject", "")[:16384], hint=h.hint), MAX_SUBJECT_CHARS
            ),
            html=self.htmls[0] if self.htmls else None,
            attachments=tuple(self.attachments),
            message_id=mid,
            in_reply_to=message_ids(h.get("in-reply-to")),
            references=message_ids(h.get("references")),
            reply_to=reply_to,
            sent_at=parse_date(h.get("date")),
            received_at=received_at,
            auto=detect_auto(h),
            raw=raw,
            source=source,
            notes=tuple(self.notes),
            meta=meta,
        )

    def _check_text_like(self, top: HeaderBlock) -> None:
        """No headers at all: keep a plain-text body, refuse binary garbage."""
        self.note("no headers; body only")
        sample = self.raw[top.body_start : top.body_start + 4096]
        controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13) or b == 127)
        if controls * 10 > len(sample):
            raise UnparseableEmail("no headers and the body is not text")

    def sender(self, h: Headers) -> Sender:
        """From, else Sender, else Return-Path; the display name comes from the first present."""
        name: str | None = None
        for field in ("from", "sender", "return-path"):
            value = h.get(field)
            if not value:
                continue
            pairs, _ = addresses(value, 1)
            display, addr = pairs[0] if pairs else ("", "")
            valid = address(addr)
            if name is None:  # "From: Ops Team" has no address: the whole value is the name
                shown = display if valid or "@" in value else value.strip().strip('"')
                name = _one_line(decode_words(shown[:4096]), MAX_NAME_CHARS) or None
            if valid:
                return Sender(name=name, contacts=(ContactRef(ContactKind.EMAIL, valid),))
        return Sender(name=name, contacts=())

    def walk(self, top: HeaderBlock) -> None:
        """Depth-first over the MIME tree with an explicit stack (depth and part caps)."""
        limits = self.limits
        stack: list[tuple[Headers | None, int, int, int, str]] = [
            (top.headers, top.body_start, len(self.raw), 0, "")
        ]
        while stack:
            headers, start, end, depth, parent = stack.pop()
            self.parts += 1
            if self.parts > limits.max_parts:
                self.note(f"more than {limits.max_parts} MIME parts; the rest skipped")
                return
            if headers is None:
                block = parse_headers(self.raw, start, end, PART_HEADER_LINES, guess=False)
                headers, start = block.headers, block.body_start
            ctype, params = parse_params(headers.get("content-type"))
            ctype = ctype.split(None, 1)[0] if ctype else ""
            if ctype.count("/") != 1 or ctype.startswith("/") or ctype.endswith("/"):
                ctype = "message/rfc822" if parent == "multipart/digest" else "text/plain"
            if ctype.startswith("multipart/"):
                children = self.split(ctype, params, start, end, depth)
                if children is not None:
                    stack.extend((None, s, e, depth + 1, ctype) for s, e in reversed(children))
                    continue
                ctype, params = "text/plain", {}
            self.leaf(headers, ctype, params, start, end, parent == "multipart/related")

    def split(
        self, ctype: str, params: dict[str, str], start: int, end: int, depth: int
    ) -> list[tuple[int, int]] | None:
        """Child offsets; [] when too deep; None when the body cannot be split (shown as text)."""
        boundary = params.get("boundary", "")
        if not boundary or len(boundary) > 200:
            self.note(f"{ctype} without a usable boundary; body shown as text")
            return None
        if depth >= self.limits.max_depth:
            self.note(
                f"MIME nesting deeper than {self.limits.max_depth} levels; inner parts skipped"
            )
            return []
        found = split_multipart(
            self.raw,
            start,
            end,
            boundary.encode("utf-8", "replace"),
            self.limits.max_parts,
            self.budget,
        )
        if not found.found:
            self.note("MIME boundary not found; body shown as text")
            return None
        if self.budget.left < 0:
            self.note("too many boundary-like lines; message not fully split")
        elif found.capped:
            self.note(f"more than {self.limits.max_parts} MIME parts; the rest skipped")
        elif not found.closed:
            self.note("MIME boundary never closed; the message may be truncated")
        return found.parts

    def payload(self, headers: Headers, start: int, end: int) -> bytes:
        data, repaired = decode_transfer(
            self.raw[start:end], headers.get("content-transfer-encoding")
        )
        if repaired:
            self.note("invalid base64 in a part; decoded what was readable")
        return data

    def leaf(
        self,
        headers: Headers,
        ctype: str,
        params: dict[str, str],
        start: int,
        end: int,
        related: bool,
    ) -> None:
        disp, dparams = parse_params(headers.get("content-disposition"))
        disp = disp.split(None, 1)[0] if disp else ""
        name = dparams.get("filename") or params.get("name") or ""
        attached = disp == "attachment" or bool(name)
        if not attached and ctype in ("text/plain", "text/html"):
            self.body_part(headers, ctype, params, start, end)
        else:
            inline = ctype.startswith("image/") and (
                disp != "attachment" or (related and "content-id" in headers)
            )  # referenced from HTML by cid: even when the client labelled it "attachment"
            self.attachment(headers, ctype, inline, name, start, end)

    def body_part(
        self, headers: Headers, ctype: str, params: dict[str, str], start: int, end: int
    ) -> None:
        room = self.limits.max_text_chars - (self.text_chars if ctype == "text/plain" else 0)
        if room <= 0:
            self.note(f"text over {self.limits.max_text_chars} characters; the rest skipped")
            return
        data = self.payload(headers, start, end)
        guess = self.guesses > 0
        text, degraded = decode_text(data[: room * 4], params.get("charset"), guess=guess)
        if guess and degraded:
            self.guesses -= 1
        if degraded:
            self.note("body charset missing or wrong; some characters may be guessed")
        if self.charset is None and codec_for(params.get("charset")):
            self.charset = params["charset"]
        text = _clean_text(text)
        if len(text) > room:
            text = text[:room]
            kind = "text" if ctype == "text/plain" else "HTML part"
            self.note(f"{kind} over {self.limits.max_text_chars} characters; truncated")
        if ctype == "text/plain":
            self.texts.append(text)
            self.text_chars += len(text)
        else:
            self.htmls.append(text)

    def attachment(
        self, headers: Headers, ctype: str, inline: bool, name: str, start: int, end: int
    ) -> None:
        self.index += 1
        fallback = f"attachment-{self.index}{_EXT.get(ctype, '.bin')}"
        data = self.payload(headers, start, end)
        if len(data) > self.limits.max_attachment_bytes:
            shown = safe_filename(_one_line(decode_words(name), 4096), fallback)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            cap = _fmt_size(self.limits.max_attachment_bytes)
            self.note(f"attachment {shown} over {cap} dropped")
            return
        if ctype in ("message/rfc822", "message/global") and not name:
            nested = parse_headers(data, 0, len(data), PART_HEADER_LINES, guess=False).headers
            subject = _one_line(decode_words(nested.get("subject", "")[:4096]), 200)
            name = f"{subject}.eml" if subject else ""
        filename = safe_filename(_one_line(decode_words(name), 4096), fallback)
        self.attachments.append(
            InboundAttachment(
                filename=filename,
                content_type=ctype,
                data=data,
                inline=inline,
                content_id=normalise_message_id(headers.get("content-id")),
                size=len(data),
            )
        )

    def body_text(self) -> str:
        """Plain parts joined; else the HTML converted (inscriptis, or a strip when huge)."""
        text = "\n\n".join(t.strip("\n") for t in self.texts if t.strip())
        if not text and self.htmls:
            text = _clean_text(html_to_text("\n".join(self.htmls)))
        if len(text) > self.limits.max_text_chars:
            text = text[: self.limits.max_text_chars]
            self.note(f"text over {self.limits.max_text_chars} characters; truncated")
        return text
