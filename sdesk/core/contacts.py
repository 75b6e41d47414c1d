"""Normalising contacts so one person is found again whatever channel they use."""

from __future__ import annotations

import re

from sdesk.core.enums import ContactKind
from sdesk.core.inbound import ContactRef

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


def normalise_phone(value: str, region: str = "US") -> str | None:
    """E.164 (``+15551234567``); None when it is not a possible number."""
    import phonenumbers  # here: its metadata takes a noticeable while to load (console start)

    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(kind: ContactKind, value: str, region: str = "US") -> str | None:
    """The stored form of a contact, or None when the value cannot be one."""
    value = value.strip()
    if not value or len(value) > 320:
        return None
    if kind is ContactKind.EMAIL:
        value = value.lower()
        return value if _EMAIL.match(value) else None
    if kind is ContactKind.PHONE:
        return normalise_phone(value, region)
    if kind is ContactKind.TELEGRAM:
        return value if value.lstrip("-").isdigit() else None
    return value


def contact(kind: ContactKind, value: str | int | None, region: str = "US") -> ContactRef | None:
    if value is None:
        return None
    normal = normalise(kind, str(value), region)
    return ContactRef(kind, normal) if normal else None
