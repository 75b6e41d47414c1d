"""Contact values in their stored form, and the customers a search query names by contact.

The normal forms live here, below the core, so intake (``core/contacts.py`` re-exports them)
and search (``store/inbox.py``) agree on them: whatever way a phone number is typed, it is
found as it was stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.enums import ContactKind
from sdesk.store.models import Contact, Customer

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]+$")
MIN_PHONE_DIGITS = 6  # fewer is a ticket number or a word, not a phone number
MIN_NAME_CHARS = 3  # shorter would match half the customers
NAME_MATCHES = 50  # customers a name search takes at most (a bound for common fragments)


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


def contact_forms(query: str, region: str = "US") -> list[tuple[str, str]]:
    """Every (kind, stored value) the whole query could be: an email address, a phone number
    in any common format, a Telegram id, an account id in any letter case."""
    q = query.strip()
    if not q or len(q) > 320:
        return []
    forms: list[tuple[str, str]] = []
    if "@" in q:
        email = normalise(ContactKind.EMAIL, q)
        if email:
            forms.append((ContactKind.EMAIL.value, email))
    digits = sum(ch.isdigit() for ch in q)
    if _PHONE_LIKE.match(q) and digits >= MIN_PHONE_DIGITS:
        phone = normalise_phone(q, region)
        if phone:
            forms.append((ContactKind.PHONE.value, phone))
    if q.lstrip("-").isdigit():
        forms.append((ContactKind.TELEGRAM.value, q))
    if " " not in q:
        for variant in dict.fromkeys((q, q.upper(), q.lower())):
            forms.append((ContactKind.ACCOUNT.value, variant))
    return forms


@dataclass(frozen=True, slots=True)
class CustomerHits:
    """Customers a query names: by a contact (exact, ranked first) or by name."""

    by_contact: dict[int, str]  # customer id → the matched contact, e.g. "email ann@x.org"
    by_name: dict[int, str]  # customer id → "customer Ann Lee"

    def __bool__(self) -> bool:
        return bool(self.by_contact or self.by_name)

    @property
    def ids(self) -> list[int]:
        return list(dict.fromkeys([*self.by_contact, *self.by_name]))


def customers_matching(session: Session, query: str, region: str = "US") -> CustomerHits:
    """Exact contact matches use the (kind, value) unique index; a name match reads at most
    ``NAME_MATCHES`` customers."""
    by_contact: dict[int, str] = {}
    forms = contact_forms(query, region)
    if forms:
        wanted = or_(*(and_(col(Contact.kind) == k, col(Contact.value) == v) for k, v in forms))
        rows = session.execute(
            select(col(Contact.customer_id), col(Contact.kind), col(Contact.value)).where(wanted)
        )
        for customer_id, kind, value in rows:
            by_contact.setdefault(customer_id, f"{kind} {value}")
    by_name: dict[int, str] = {}
    name = " ".join(query.split())
    if len(name) >= MIN_NAME_CHARS:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        name_col = col(Customer.name)
        # SQLite's LIKE ignores ASCII case by itself; lower() on every name doubled the scan.
        sqlite = session.get_bind().dialect.name == "sqlite"
        like = name_col.like if sqlite else name_col.ilike
        # The query starts a word of the name: "lund" finds Bo Lund, "ann" not Joanna.
        matches = or_(like(f"{escaped}%", escape="\\"), like(f"% {escaped}%", escape="\\"))
        named = session.execute(
            select(col(Customer.id), name_col)
            .where(matches)
            .order_by(col(Customer.id).desc())
            .limit(NAME_MATCHES)
        )
        for named_id, customer_name in named:
            if named_id is not None and named_id not in by_contact:
                by_name[named_id] = f"customer {customer_name}"
    return CustomerHits(by_contact, by_name)
