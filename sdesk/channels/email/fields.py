"""Values of address and date header fields, parsed cheaply and never raising.

The stdlib's ``getaddresses`` and ``parsedate_to_datetime`` are pure Python and cost ~12 us
and ~5 us a call; the shapes nearly every mailer writes are matched by one regex first and
only the rest goes to the stdlib. Address lists are parsed from a bounded window so a
50,000-address header costs what 200 do.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parsedate_to_datetime

_BAD_ADDR = re.compile(r"[\s\x00-\x1f\x7f]")
# addr-spec without comments, quotes or routes; the classes exclude "@", so no backtracking.
_SPEC = re.compile(r"[^<>\s\"(),;:\\@\[\]]+@[^<>\s\"(),;:\\@\[\]]+")
_ADDR_TOKEN_SPLIT = re.compile(r"[\s<>\"(),;:\[\]]+")
_PHRASE_SPECIAL = re.compile(r"[\"<>,;:()\\@\[\]]")


def address(value: str) -> str | None:
    """A lower-cased addr-spec, or None when it cannot identify a mailbox."""
    addr = value.strip().strip("<>").lower()
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or len(addr) > 320 or _BAD_ADDR.search(addr):
        return None
    return addr


def _simple_addresses(value: str) -> list[tuple[str, str]] | None:
    """Fast path for `addr`, `Name <addr>` and `"Name" <addr>` lists, else None.

    Plain string operations, no regex over the whole piece: an ambiguous pattern here took
    minutes on 8,000 spaces. Comments, groups and quoted commas go to ``getaddresses``.
    """
    pieces = [value] if '"' in value else value.split(",")
    pairs: list[tuple[str, str]] = []
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        if piece.endswith(">"):
            lt = piece.rfind("<")
            spec, phrase = piece[lt + 1 : -1], piece[:lt].strip()
            if lt < 0 or _SPEC.fullmatch(spec) is None:
                return None
            if phrase.startswith('"'):
                inner = phrase[1:-1]
                if len(phrase) < 2 or not phrase.endswith('"') or '"' in inner or "\\" in inner:
                    return None
                phrase = inner
            elif _PHRASE_SPECIAL.search(phrase):
                return None
            pairs.append((phrase.strip(), spec))
        elif _SPEC.fullmatch(piece) is not None:
            pairs.append(("", piece))
        else:
            return None
    return pairs


def addresses(value: str | None, cap: int) -> tuple[list[tuple[str, str]], int]:
    """Up to ``cap`` (name, addr) pairs and the total count; parses a bounded window only."""
    if not value:
        return [], 0
    window = max(8192, cap * 256)
    if len(value) <= window:
        pairs = _simple_addresses(value)
        if pairs is not None:
            return pairs[:cap], len(pairs)
    try:
        pairs = [p for p in getaddresses([value[:window]]) if p[0] or p[1]]
    except Exception:  # the stdlib recurses on nested comments/groups: "((((...", ":::..."
        pairs = [("", t) for t in _ADDR_TOKEN_SPLIT.split(value[:window]) if _SPEC.fullmatch(t)]
    total = len(pairs)
    if len(value) > window:
        pairs = pairs[:-1]  # the last one may be cut in half by the window
        total = max(total, value.count("@"))
    return pairs[:cap], total


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
# The shape nearly every mailer writes; anything else goes to the stdlib's lenient parser.
_RFC5322_DATE = re.compile(
    r"(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+"
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s+([+-])(\d{2})(\d{2})(?:\s*\([^()]*\))?"
)


def parse_date(value: str | None) -> datetime | None:
    """Aware UTC datetime from a Date header; None for garbage (never raises)."""
    if not value:
        return None
    try:
        m = _RFC5322_DATE.fullmatch(value[:256].strip())
        month = _MONTHS.get(m.group(2).lower()) if m else None
        if m and month and int(m.group(3)) >= 1900 and int(m.group(8)) < 24:
            day, _, year, hour, minute, second, sign, tzh, tzm = m.groups()
            offset = timedelta(hours=int(tzh), minutes=int(tzm))
            return datetime(
                int(year), month, int(day), int(hour), int(minute), int(second or 0), tzinfo=UTC
            ) - (offset if sign == "+" else -offset)
        sent = parsedate_to_datetime(value[:256])
        return (sent if sent.tzinfo else sent.replace(tzinfo=UTC)).astimezone(UTC)
    except Exception:  # stdlib raises TypeError/ValueError/OverflowError on garbage dates
        return None
