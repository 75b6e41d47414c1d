"""How many SMS segments a text takes, for the reply box (GSM 03.38 / 3GPP TS 23.038).

A text of GSM-7 characters only fits 160 in one SMS and 153 per part when split (the rest of
each part carries the concatenation header); the extension characters (``^{}\\[~]|€`` and
form feed) take two units each. One character outside that alphabet sends the whole text as
UCS-2: 70 in one SMS, 67 per part, counted in UTF-16 units (an emoji takes two).
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True, slots=True)
class SmsSize:
    segments: int
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)

    @property
    def label(self) -> str:
        """E.g. "2 SMS · GSM-7 · 170/306"."""
        per = (160 if self.encoding == "GSM-7" else 70) if self.segments <= 1 else None
        room = per if per is not None else self.segments * self._part()
        return f"{self.segments} SMS · {self.encoding} · {self.units}/{room}"

    def _part(self) -> int:
        return 153 if self.encoding == "GSM-7" else 67


def sms_size(text: str) -> SmsSize:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // part)
    return SmsSize(segments, encoding, units)
