"""RFC 5322 message identifiers, normalised so threading and idempotency keys compare equal."""

from __future__ import annotations

import re

MAX_ID_CHARS = 998  # RFC 5322 line limit: anything longer is not an id we can store or match
MAX_REFERENCES = 100
_TOKEN = re.compile(r"<([^<>]*)>")
# A bracketed id that ``_valid`` accepts, found in one C-level pass (References runs long).
_VALID_TOKEN = re.compile(rf"<\s*([^<>\s\x00-\x1f\x7f]{{1,{MAX_ID_CHARS}}})\s*>")
_BAD = re.compile(r"[\s\x00-\x1f\x7f]")
_SCAN_CHARS = 64 * 1024


def _valid(ident: str) -> str | None:
    ident = ident.strip()
    if not ident or len(ident) > MAX_ID_CHARS or _BAD.search(ident):
        return None
    return ident


def normalise_message_id(value: str | None) -> str | None:
    """The id inside the first ``<...>`` (or the bare value), without brackets; None if unusable.

    None for missing, empty, whitespace-containing or over-long ids, so the core falls back to
    the sha256 of the raw bytes instead of keying on garbage.
    """
    if value is None:
        return None
    text = str(value)[:_SCAN_CHARS].replace("\r", "").replace("\n", "").strip()
    m = _TOKEN.search(text)
    return _valid(m.group(1) if m else text)


def message_ids(value: str | None) -> tuple[str, ...]:
    """All ids in an In-Reply-To/References value, de-duplicated, order kept, at most 100.

    When a References chain is longer than the cap, the root (first) and the most recent ids
    (the tail) are kept: those are the ones that find the ticket. Bare ``id@host`` tokens are
    accepted when the header has no brackets at all (some clients omit them).
    """
    if not value:
        return ()
    text = str(value)[: _SCAN_CHARS * 4]
    if "<" in text:
        ids = list(dict.fromkeys(_VALID_TOKEN.findall(text)))
    else:
        valid = (_valid(t) for t in text.split() if "@" in t)
        ids = list(dict.fromkeys(i for i in valid if i is not None))
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return tuple(ids)
