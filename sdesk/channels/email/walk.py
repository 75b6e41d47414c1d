"""A parsed MIME tree walked into body text, HTML and attachments, within the limits.

An explicit stack with depth and part caps (``Message.walk`` recurses and visits everything);
text is capped, charset guessing is budgeted, and every degradation leaves a note.
"""

from __future__ import annotations

import mimetypes
from email import errors
from email.message import Message
from typing import TYPE_CHECKING

from sdesk.channels.email.auto import dsn_fields
from sdesk.channels.email.charsets import codec_for, decode_text, decode_words, read_text
from sdesk.channels.email.headers import header_text
from sdesk.channels.email.htmltext import html_to_text
from sdesk.channels.email.ids import normalise_message_id
from sdesk.channels.email.message import (
    ParamValue,
    flatten,
    param_str,
    params,
    raw_payload,
    value_params,
)
from sdesk.channels.email.tnef import Tnef, TnefError, read_tnef, rtf_text
from sdesk.channels.email.uu import UU_ENCODINGS, decode_uu, inline_blocks
from sdesk.core.filenames import safe_filename
from sdesk.core.inbound import InboundAttachment

if TYPE_CHECKING:
    from sdesk.channels.email.parse import EmailLimits

MiB = 1024 * 1024
MAX_GUESSES = 4  # charset_normalizer runs per message (~10 ms each)
MAX_NOTES = 30
_BASE64_DEFECTS = (
    errors.InvalidBase64CharactersDefect,
    errors.InvalidBase64PaddingDefect,
    errors.InvalidBase64LengthDefect,
)
_TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
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


def file_type(name: str) -> str:
    """A content type for a file known only by its name (uuencode, TNEF)."""
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def _cte(part: Message) -> str:
    value = part.get("content-transfer-encoding")
    return value.strip().lower() if isinstance(value, str) else ""


def fmt_size(n: int) -> str:
    """A size for a note: "25 MiB", "1.5 MiB", "1 KiB", "700 bytes"."""
    if n >= MiB:
        return f"{n // MiB} MiB" if n % MiB == 0 else f"{n / MiB:.1f} MiB"
    return f"{n // 1024} KiB" if n >= 1024 and n % 1024 == 0 else f"{n} bytes"


def one_line(text: str, limit: int) -> str:
    """CR/LF and runs of whitespace folded to single spaces, NUL removed, capped."""
    return " ".join(text.replace("\x00", "").split())[:limit]


def clean_text(text: str) -> str:
    """NUL removed, line ends made LF (the console shows CR as a line break of its own)."""
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


class Notes:
    """Remarks for the operator: one line each, de-duplicated, at most ``MAX_NOTES``."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        if text not in self.items and len(self.items) < MAX_NOTES:
            self.items.append(text)


def _param_text(value: ParamValue | None, hint: str | None) -> str:
    """A parameter value as text: RFC 2231 bytes in their declared charset, raw 8-bit bytes
    as UTF-8 or ``hint``, each with the charset fallbacks."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        charset, _, text = value
        try:  # %XX octets arrive as latin-1 characters, raw 8-bit bytes surrogate-escaped
            data = text.encode("latin-1", "surrogateescape")
        except UnicodeEncodeError:
            return text
        return decode_text(data, charset, guess=False)[0]
    return header_text(value, hint=hint)


class PartWalk:
    """One message's body: plain and HTML texts, attachments, notes, the body charset."""

    def __init__(self, limits: EmailLimits, notes: Notes, linesep: str) -> None:
        self.limits = limits
        self.notes = notes
        self.linesep = linesep
        self.excerpt = False  # a cut-off body: no attachments, no "never closed" remarks
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.tnef_found: Tnef | None = None  # a winmail.dat's body, for mail with no other
        self.attachments: list[InboundAttachment] = []
        self.text_chars = 0
        self.parts = 0
        self.index = 0
        self.charset: str | None = None  # the first declared body charset
        self.guessed: str | None = None  # else the codec an undeclared 8-bit body read as
        self.guesses = MAX_GUESSES
        self.delivery_status = False  # a message/delivery-status part with DSN fields seen

    def run(self, root: Message) -> None:
        """Depth-first, document order, explicit stack; message/* parts are not descended."""
        limits, note = self.limits, self.notes.add
        stack: list[tuple[Message, str]] = [(root, "")]
        while stack:
            part, parent = stack.pop()
            self.parts += 1
            if self.parts > limits.max_parts:
                note(f"more than {limits.max_parts} MIME parts; the rest skipped")
                return
            if getattr(part, "depth", 0) > limits.max_depth:
                note(f"MIME nesting deeper than {limits.max_depth} levels; inner parts skipped")
                continue
            ctype = part.get_content_type()
            if ctype.startswith("multipart/"):
                self._boundary_notes(part, ctype)
                payload = raw_payload(part)
                if isinstance(payload, list):
                    stack.extend((child, ctype) for child in reversed(payload))
                    continue
                ctype = "text/plain"  # no usable boundary: the body is shown as text
            self.leaf(part, ctype, parent == "multipart/related")

    def _boundary_notes(self, part: Message, ctype: str) -> None:
        for defect in part.defects:
            if isinstance(defect, errors.NoBoundaryInMultipartDefect):
                self.notes.add(f"{ctype} without a usable boundary; body shown as text")
            elif isinstance(defect, errors.StartBoundaryNotFoundDefect):
                self.notes.add("MIME boundary not found; body shown as text")
            elif isinstance(defect, errors.CloseBoundaryNotFoundDefect) and not self.excerpt:
                self.notes.add("MIME boundary never closed; the message may be truncated")

    def leaf(self, part: Message, ctype: str, related: bool) -> None:
        if ctype == "message/delivery-status" and not self.delivery_status:
            self.delivery_status = dsn_fields(raw_payload(part))
        disp, cd = value_params(part.get("content-disposition"))
        ct = params(part)
        name = _param_text(cd.get("filename"), self.charset)
        name = name or _param_text(ct.get("name"), self.charset)
        uu = _cte(part) in UU_ENCODINGS  # a file, whatever its type says
        if disp != "attachment" and not name and ctype in ("text/plain", "text/html") and not uu:
            self.body_part(part, ctype, param_str(ct.get("charset")) or None)
        elif self.excerpt:  # an excerpt's attachments are cut off
            return
        elif (ctype in _TNEF_TYPES or name.lower() == "winmail.dat") and not part.is_multipart():
            self.tnef(part, ctype, name, uu)
        else:
            inline = ctype.startswith("image/") and (
                disp != "attachment" or (related and "content-id" in part)
            )  # referenced from HTML by cid: even when the client labelled it "attachment"
            self.attachment(part, ctype, inline, name, uu)

    def payload(self, part: Message, uu: bool = False) -> bytes:
        """Transfer-decoded body: base64, quoted-printable by the stdlib, uuencode (``uu``:
        the part's Content-Transfer-Encoding says so) here."""
        raw = raw_payload(part)
        if raw is None:  # cut off by the part cap before its body was read
            return b""
        if uu and isinstance(raw, str):
            found = decode_uu(raw.encode("ascii", "surrogateescape"))
            if found is not None:
                return found[0]
            self.notes.add("uuencoded part without a begin line; kept as received")
            return raw.encode("ascii", "surrogateescape")
        seen = len(part.defects)
        data = part.get_payload(decode=True)
        if any(isinstance(d, _BASE64_DEFECTS) for d in part.defects[seen:]):
            self.notes.add("invalid base64 in a part; decoded what was readable")
        return data if isinstance(data, bytes) else b""

    def body_part(self, part: Message, ctype: str, charset: str | None) -> None:
        limit = self.limits.max_text_chars
        room = limit - (self.text_chars if ctype == "text/plain" else 0)
        if room <= 0:
            self.notes.add(f"text over {limit} characters; the rest skipped")
            return
        data = self.payload(part)
        guess = self.guesses > 0
        text, degraded, codec = read_text(data[: room * 4], charset, guess=guess)
        if guess and degraded:
            self.guesses -= 1
        if degraded:
            self.notes.add("body charset missing or wrong; some characters may be guessed")
        if self.charset is None and codec_for(charset):
            self.charset = charset
        elif self.guessed is None and codec not in (None, "utf-8"):
            self.guessed = codec  # what an undeclared 8-bit body read as: a hint for headers
        text = clean_text(text)
        if ctype == "text/plain" and "begin " in text:  # files uuencoded into the text
            text, files = inline_blocks(text)
            for name, data in files:
                self.notes.add(f"uuencoded file {one_line(name, 60)} in the text: an attachment")
                self.store(name, file_type(name), data)
        if len(text) > room:
            text = text[:room]
            kind = "text" if ctype == "text/plain" else "HTML part"
            self.notes.add(f"{kind} over {limit} characters; truncated")
        if ctype == "text/plain":
            self.texts.append(text)
            self.text_chars += len(text)
        else:
            self.htmls.append(text)

    def attachment(
        self, part: Message, ctype: str, inline: bool, name: str, uu: bool = False
    ) -> None:
        self.index += 1
        cap = self.limits.max_attachment_bytes
        payload = raw_payload(part)
        if isinstance(payload, list):  # message/*: the encapsulated message, as received
            data = flatten(part, self.linesep, cap, headers=False)
            if ctype in ("message/rfc822", "message/global") and not name and payload:
                subject = header_text(payload[0].get("subject", ""))
                subject = one_line(decode_words(subject[:4096]), 200)
                name = f"{subject}.eml" if subject else ""
        else:
            data = self.payload(part, uu)
            if uu and not name and isinstance(payload, str):
                found = decode_uu(payload[:4096].encode("ascii", "surrogateescape"))
                name = found[1] if found else ""  # the name on its begin line
        self.store(name, ctype, data, inline, part.get("content-id"), counted=True)

    def store(
        self,
        name: str,
        ctype: str,
        data: bytes | None,
        inline: bool = False,
        content_id: str | None = None,
        *,
        counted: bool = False,
    ) -> None:
        """One attachment kept, or dropped with a note when over the size cap."""
        if not counted:
            self.index += 1
        fallback = f"attachment-{self.index}{_EXT.get(ctype, '.bin')}"
        cap = self.limits.max_attachment_bytes
        if data is None or len(data) > cap:
            shown = safe_filename(one_line(decode_words(name), 4096), fallback)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            self.notes.add(f"attachment {shown} over {fmt_size(cap)} dropped")
            return
        self.attachments.append(
            InboundAttachment(
                filename=safe_filename(one_line(decode_words(name), 4096), fallback),
                content_type=ctype,
                data=data,
                inline=inline,
                content_id=normalise_message_id(content_id),
                size=len(data),
            )
        )

    def tnef(self, part: Message, ctype: str, name: str, uu: bool) -> None:
        """A winmail.dat: its files as the message's attachments, its body kept for a mail
        without another; unreadable, it is kept as received with a note. A read one is not
        kept (the raw message holds it): operators cannot open it and it doubles the size."""
        data = self.payload(part, uu)
        try:
            found = read_tnef(data)
        except TnefError as exc:
            self.notes.add(f"winmail.dat (TNEF) unreadable ({exc}); kept as received")
            self.store(name or "winmail.dat", ctype, data)
            return
        for file in found.files:
            self.store(file.name, file.mime or file_type(file.name), file.data)
        if self.tnef_found is None and (found.body or found.html or found.rtf):
            self.tnef_found = found  # read (RTF converted) only when no other body is found

    def _tnef_body(self, found: Tnef) -> str | None:
        if found.body and found.body.strip():
            return clean_text(found.body)
        if found.html:
            html = decode_text(found.html[: self.limits.max_text_chars * 4], found.html_codec)[0]
            return clean_text(html_to_text(html))
        if found.rtf:
            text = rtf_text(found.rtf)
            if text is None:
                self.notes.add("winmail.dat body in RTF too large or unreadable; not shown")
            return clean_text(text) if text else None
        return None

    def body_text(self) -> str:
        """Plain parts joined; else the HTML converted (inscriptis, or a strip when huge); else
        a winmail.dat's body."""
        text = "\n\n".join(t.strip("\n") for t in self.texts if t.strip())
        if not text and self.htmls:
            text = clean_text(html_to_text("\n".join(self.htmls)))
        if not text and self.tnef_found is not None:
            text = (self._tnef_body(self.tnef_found) or "").strip("\n")
        if len(text) > self.limits.max_text_chars:
            text = text[: self.limits.max_text_chars]
            self.notes.add(f"text over {self.limits.max_text_chars} characters; truncated")
        return text
