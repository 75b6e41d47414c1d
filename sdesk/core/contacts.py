"""Normalising contacts so one person is found again whatever channel they use."""

from __future__ import annotations

from sdesk.core.enums import ContactKind
from sdesk.core.inbound import ContactRef

# The normal forms live in the store, so search finds a contact however it is typed.
from sdesk.store.contacts import normalise, normalise_phone

__all__ = ["contact", "normalise", "normalise_phone"]


def contact(kind: ContactKind, value: str | int | None, region: str = "US") -> ContactRef | None:
    if value is None:
        return None
    normal = normalise(kind, str(value), region)
    return ContactRef(kind, normal) if normal else None
