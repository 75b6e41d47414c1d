"""Mail out: a reply from the outbox becomes one RFC 5322 message sent over SMTP, with the
operator's attachments (from the desk's blobs) and, when asked, the customer's quoted message.

No CR or LF from a subject, a display name or an address can reach a header (ARCHITECTURE.md
rule 9): every header value is flattened to one line before the message is built, and the
stdlib's SMTP policy refuses anything that still would fold into a new header.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from sdesk.channels.secrets import SecretError, read_secret
from sdesk.config import MailboxSettings
from sdesk.core.clock import utcnow
from sdesk.core.filenames import safe_filename

_CONTROL = {c: " " for c in range(0x20) if c != 0x09} | {0x7F: " "}


def one_line(value: str) -> str:
    """A header value: controls (CR, LF …) become spaces, runs of blanks collapse."""
    return " ".join(value.translate(_CONTROL).split())


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
_MSG_ID = re.compile(rf"^{_ATOM}@{_ATOM}$")


def _angle(message_id: str) -> str | None:
    """``<id>`` for a well-formed id, else None: the SMTP policy would cut a bad one short, and
    a cut id would no longer thread the customer's answer back."""
    bare = one_line(message_id).strip().strip("<>")
    return f"<{bare}>" if _MSG_ID.match(bare) else None


@dataclass(frozen=True, slots=True)
class SendResult:
    """``permanent`` failures (5xx, a refused recipient) are not retried."""

    ok: bool
    error: str = ""
    permanent: bool = False


BlobReader = Callable[[str], bytes | None]
_MIME_TYPE = re.compile(r"^([a-z0-9][a-z0-9!#$&^_.+-]*)/([a-z0-9][a-z0-9!#$&^_.+-]*)$")


def build_message(
    mailbox: MailboxSettings,
    recipient: str,
    payload: dict[str, Any],
    *,
    automatic: bool = False,
    blobs: BlobReader | None = None,
) -> EmailMessage:
    """The message for one outbox row. ``automatic`` (or the payload's ``automatic``) marks it
    ``Auto-Submitted: auto-replied``; attachments are read from the desk's blobs by hash."""
    automatic = automatic or bool(payload.get("automatic"))
    name, address = parseaddr(one_line(recipient))
    if not address or "@" not in address:
        raise ValueError(f"not an email address: {recipient!r}")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = formataddr((one_line(mailbox.display_name), mailbox.address))
    msg["To"] = formataddr((one_line(name), address))
    msg["Subject"] = one_line(str(payload.get("subject", "")))
    msg["Date"] = format_datetime(utcnow())
    own = _angle(str(payload["message_id"]))
    if own is None:
        raise ValueError(f"not a Message-ID: {payload['message_id']!r}")
    msg["Message-ID"] = own
    parent = _angle(str(payload.get("in_reply_to") or ""))
    if parent:
        msg["In-Reply-To"] = parent
    refs = [a for r in payload.get("references") or [] if (a := _angle(str(r)))]
    if refs:  # a malformed reference is dropped, not the reply
        msg["References"] = " ".join(refs)
    if automatic:
        msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: robots must not answer this
    msg["X-Auto-Response-Suppress"] = "All" if automatic else "OOF, AutoReply"
    text = str(payload.get("text", ""))
    if payload.get("quote"):
        text = f"{text.rstrip()}\n\n{payload['quote']}"
    msg.set_content(text)
    for n, item in enumerate(payload.get("attachments") or [], 1):
        _attach(msg, item, n, blobs)
    return msg


def _attach(msg: EmailMessage, item: dict[str, Any], n: int, blobs: BlobReader | None) -> None:
    """One attachment, verified against its hash: a changed or missing blob refuses the
    message (the operator sees why) rather than sending something else."""
    name = one_line(safe_filename(str(item.get("filename", "")), f"attachment-{n}.bin"))
    digest = str(item.get("sha256", ""))
    try:
        data = blobs(digest) if blobs is not None else None
    except ValueError:  # not a hash at all
        data = None
    if data is None:
        raise ValueError(f"the attachment {name!r} is not in the desk's files")
    if hashlib.sha256(data).hexdigest() != digest:
        raise ValueError(f"the attachment {name!r} changed in the desk's files")
    kind = _MIME_TYPE.match(str(item.get("content_type", "")).lower().strip())
    maintype, subtype = kind.groups() if kind else ("application", "octet-stream")
    if maintype in ("multipart", "message"):  # bytes can only go as a leaf part
        maintype, subtype = "application", "octet-stream"
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)


def envelope_address(address: str) -> str:
    return Address(addr_spec=one_line(address)).addr_spec


class SmtpSender:
    """Sends through the mailbox's SMTP server; one connection per batch of sends."""

    def __init__(
        self,
        mailbox: MailboxSettings,
        *,
        cafile: str | None = None,
        blobs: BlobReader | None = None,
    ) -> None:
        if mailbox.smtp is None:
            raise ValueError(f"mailbox {mailbox.name} has no [smtp] server")
        self.mailbox = mailbox
        self.blobs = blobs
        self.smtp = mailbox.smtp
        self.context = ssl.create_default_context(cafile=cafile)

    def _connect(self) -> smtplib.SMTP:
        cfg = self.smtp
        if cfg.security == "tls":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=self.context
            )
        else:
            server = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
        try:
            if cfg.security == "starttls":
                server.starttls(context=self.context)  # fails loudly rather than go plain
            if cfg.username:
                server.login(cfg.username, read_secret(cfg, f"mailbox {self.mailbox.name} smtp"))
        except BaseException:
            server.close()
            raise
        return server

    def send(
        self, recipient: str, payload: dict[str, Any], *, automatic: bool = False
    ) -> SendResult:
        try:
            msg = build_message(
                self.mailbox, recipient, payload, automatic=automatic, blobs=self.blobs
            )
        except (ValueError, KeyError) as exc:
            return SendResult(False, f"cannot build the message: {exc}", permanent=True)
        try:
            server = self._connect()
        except SecretError as exc:
            return SendResult(False, str(exc))
        except smtplib.SMTPAuthenticationError as exc:
            return SendResult(False, f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}")
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            return SendResult(False, f"cannot reach {self.smtp.host}:{self.smtp.port}: {exc}")
        try:
            server.send_message(
                msg,
                from_addr=envelope_address(self.mailbox.address),
                to_addrs=[envelope_address(parseaddr(msg["To"])[1])],
            )
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return SendResult(False, f"{code} {_text(text)}", permanent=code >= 500)
        except smtplib.SMTPResponseException as exc:
            return SendResult(
                False, f"{exc.smtp_code} {_text(exc.smtp_error)}", permanent=exc.smtp_code >= 500
            )
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult(False, f"SMTP failed: {exc}")
        finally:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()
        return SendResult(True)


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return one_line(text)[:300]
