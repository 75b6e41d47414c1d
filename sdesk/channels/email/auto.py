"""Recognise robots (RFC 3834 and friends) so the desk never answers them automatically."""

from __future__ import annotations

import re
from typing import Protocol

from sdesk.channels.email.charsets import decode_words
from sdesk.channels.email.message import content_params, param_str
from sdesk.core.enums import AutoKind

_AUTO_SUBJECTS = ("auto:", "automatic reply:", "autoreply:", "auto-reply:", "out of office")
_AUTO_HEADERS = ("x-autoreply", "x-autorespond", "x-auto-response-suppress")
_LIST_HEADERS = ("list-id", "list-unsubscribe")
_EMPTY_PATH = re.compile(r"\s*<\s*>\s*")
_ADDR_STOP = re.compile(r"[\s<>\"@,;:()]")
_FIRST_TOKEN = re.compile(r"[^\s;(]*")
_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_MAX_VALUE = 2048


class HeaderSource(Protocol):
    """Anything with ``get(name)``: our ``HeaderView`` or a stdlib ``email.message.Message``."""

    def get(self, name: str, default: None = None) -> object: ...


def _value(msg: HeaderSource, name: str) -> str:
    value = msg.get(name)
    return "" if value is None else str(value)[:_MAX_VALUE]


def _from_localpart(value: str) -> str:
    """Local part of the first address; linear (a backtracking regex is quadratic here)."""
    at = value.find("@")
    if at > 0:
        return _ADDR_STOP.split(value[:at])[-1].lower()
    words = value.split()  # "MAILER-DAEMON (Mail Delivery System)" has no domain
    return words[0].strip("<>\"'").lower() if words else ""


def detect_auto(msg: HeaderSource, *, delivery_status: bool = False) -> AutoKind | None:
    """BOUNCE > AUTO_REPLY > LIST > BULK, from headers (and, when the caller walked the body,
    ``delivery_status``: a message/delivery-status part with DSN fields was found).

    A bounce is told by its structure: a delivery-status report (multipart/report;
    report-type=delivery-status, or a DSN part), or any multipart/report under an empty
    Return-Path (``<>``). The sender's name alone is not enough: postmaster@ is a role address
    people write from. A MAILER-DAEMON or postmaster sender counts as a bounce only with a
    null Return-Path or a non-delivery subject ("Undeliverable:", "failure notice"...); a
    MAILER-DAEMON without them is still a robot (AUTO_REPLY), never answered automatically.
    An empty Return-Path on anything else marks an auto-reply.
    """
    ctype = _value(msg, "content-type")
    report = "multipart/report" in ctype.lower()
    if report:
        main, params = content_params(ctype)
        report = main == "multipart/report"
        dsn = report and param_str(params.get("report-type")).lower() == "delivery-status"
    else:
        dsn = False
    empty_path = _EMPTY_PATH.fullmatch(_value(msg, "return-path")) is not None
    if dsn or delivery_status or (report and empty_path):
        return AutoKind.BOUNCE
    subject = " ".join(decode_words(_value(msg, "subject")).split()).lower()
    robot = _from_localpart(_value(msg, "from"))
    if robot in _BOUNCE_SENDERS:
        daemon = robot == "mailer-daemon"
        if empty_path or any(p in subject for p in _DAEMON_SUBJECTS if daemon or len(p) > 8):
            return AutoKind.BOUNCE
        if daemon:
            return AutoKind.AUTO_REPLY
    token = _FIRST_TOKEN.match(_value(msg, "auto-submitted").strip().lower())
    submitted = token.group() if token else ""  # always a match: the pattern allows ""
    if (submitted and submitted != "no") or report or empty_path:
        return AutoKind.AUTO_REPLY
    if any(msg.get(name) is not None for name in _AUTO_HEADERS):
        return AutoKind.AUTO_REPLY
    if subject.startswith(_AUTO_SUBJECTS):
        return AutoKind.AUTO_REPLY
    precedence = _value(msg, "precedence").strip().lower()
    if precedence == "list" or any(msg.get(name) is not None for name in _LIST_HEADERS):
        return AutoKind.LIST
    if precedence in ("bulk", "junk"):
        return AutoKind.BULK
    return None


# Non-delivery subjects of common MTAs (Postfix, Exim, Exchange, Sendmail, qmail, Gmail).
# Short words (8 characters or fewer) count only from MAILER-DAEMON, never a person's address.
_DAEMON_SUBJECTS = (
    "undeliverable",
    "undelivered mail",
    "delivery status notification",
    "mail delivery failed",
    "delivery failure",
    "failure notice",
    "returned mail",
    "non-delivery",
    "nondeliverable",
    "could not be delivered",
    "delivery has failed",
    "warning: could not send",
    "failure",
    "failed",
    "delayed",
    "returned",
)


def dsn_fields(blocks: object) -> bool:
    """True when a message/delivery-status payload (its header blocks, as the stdlib parses
    it) carries DSN fields (RFC 3464: Action, Status, Final-Recipient)."""
    if not isinstance(blocks, list):
        return False
    for block in blocks[:50]:
        get = getattr(block, "get", None)
        if get is not None and any(get(name) is not None for name in _DSN_FIELDS):
            return True
    return False


_DSN_FIELDS = ("action", "status", "final-recipient", "original-recipient")
