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


def detect_auto(msg: HeaderSource) -> AutoKind | None:
    """BOUNCE > AUTO_REPLY > LIST > BULK, from headers alone (the body is never needed).

    An empty Return-Path (``<>``) marks a machine-generated message: a bounce when it carries
    a report (multipart/report), an auto-reply otherwise.
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
    if dsn or (report and empty_path) or _from_localpart(_value(msg, "from")) in _BOUNCE_SENDERS:
        return AutoKind.BOUNCE
    submitted = _FIRST_TOKEN.match(_value(msg, "auto-submitted").strip().lower()).group()
    if (submitted and submitted != "no") or report or empty_path:
        return AutoKind.AUTO_REPLY
    if any(msg.get(name) is not None for name in _AUTO_HEADERS):
        return AutoKind.AUTO_REPLY
    subject = " ".join(decode_words(_value(msg, "subject")).split()).lower()
    if subject.startswith(_AUTO_SUBJECTS):
        return AutoKind.AUTO_REPLY
    precedence = _value(msg, "precedence").strip().lower()
    if precedence == "list" or any(msg.get(name) is not None for name in _LIST_HEADERS):
        return AutoKind.LIST
    if precedence in ("bulk", "junk"):
        return AutoKind.BULK
    return None
