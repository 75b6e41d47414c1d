"""Recognise robots (RFC 3834 and friends) so the desk never answers them automatically."""

from __future__ import annotations

import re
from typing import Protocol

from sdesk.channels.email.charsets import decode_words
from sdesk.channels.email.mime import parse_params
from sdesk.core.enums import AutoKind

_AUTO_SUBJECTS = ("auto:", "automatic reply:", "autoreply:", "auto-reply:", "out of office")
_EMPTY_PATH = re.compile(r"<\s*>")
_LOCALPART = re.compile(r"([^\s<>\"@,;:()]+)@")
_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_MAX_VALUE = 2048


class HeaderSource(Protocol):
    """Anything with ``get(name)``: our ``Headers`` or a stdlib ``email.message.Message``."""

    def get(self, name: str, default: None = None) -> object: ...


def _value(msg: HeaderSource, name: str) -> str | None:
    value = msg.get(name)
    return None if value is None else str(value)[:_MAX_VALUE].strip()


def _from_localpart(value: str | None) -> str:
    if not value:
        return ""
    m = _LOCALPART.search(value)
    if m is not None:
        return m.group(1).lower()
    words = value.split()  # "MAILER-DAEMON (Mail Delivery System)" has no domain
    return words[0].strip("<>\"'").lower() if words else ""


def detect_auto(msg: HeaderSource) -> AutoKind | None:
    """BOUNCE > AUTO_REPLY > LIST > BULK, from headers alone (the body is never needed).

    An empty Return-Path (``<>``) marks a machine-generated message: a bounce when it carries
    a report, an auto-reply otherwise.
    """
    ctype, params = parse_params(_value(msg, "content-type"))
    report = ctype == "multipart/report"
    empty_path = _EMPTY_PATH.fullmatch(_value(msg, "return-path") or "x") is not None
    if (
        (report and params.get("report-type", "").lower() == "delivery-status")
        or _from_localpart(_value(msg, "from")) in _BOUNCE_SENDERS
        or (report and empty_path)
    ):
        return AutoKind.BOUNCE
    submitted = (_value(msg, "auto-submitted") or "").lower()
    if submitted and re.split(r"[\s;(]", submitted, maxsplit=1)[0] != "no":
        return AutoKind.AUTO_REPLY
    if any(msg.get(h) is not None for h in ("x-autoreply", "x-autorespond",
                                             "x-auto-response-suppress")):
        return AutoKind.AUTO_REPLY
    subject = " ".join(decode_words(_value(msg, "subject") or "").split()).lower()
    if report or empty_path or subject.startswith(_AUTO_SUBJECTS):
        return AutoKind.AUTO_REPLY
    precedence = (_value(msg, "precedence") or "").lower()
    if msg.get("list-id") is not None or msg.get("list-unsubscribe") is not None:
        return AutoKind.LIST
    if precedence == "list":
        return AutoKind.LIST
    if precedence in ("bulk", "junk"):
        return AutoKind.BULK
    return None
