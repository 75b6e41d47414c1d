"""Making untrusted text safe to show (ARCHITECTURE.md rule 8).

Rich and Textual strip only a few controls; ESC, C1, NUL, DEL, bidi overrides and zero-width
characters pass through and would let a customer move the cursor, retitle the terminal or
reverse the reading order. They become visible placeholders here instead.
"""

from __future__ import annotations

import re

# C0 except TAB and LF, DEL, C1; bidi embeddings/overrides/isolates; zero-width and BOM; the
# Unicode line and paragraph separators (a terminal may break the line at them).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)
_ESC_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.)?")


def _placeholder(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␀ ␁ ... ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def safe_text(text: str, *, single_line: bool = False) -> str:
    """Neutralise terminal escapes and invisible controls; keep every visible character."""
    text = text.replace("\r\n", "\n")
    text = _ESC_SEQUENCE.sub(lambda m: "\u241b" + m.group(0)[1:].replace("\x07", ""), text)
    if single_line:
        text = " ".join(text.split())
    return _UNSAFE.sub(_placeholder, text)


class Safe(str):
    """Text that went through ``safe_text``: fit for a terminal as it is. Only ``safe()`` makes
    one; anything built from it (``+``, an f-string, ``.format``) is a plain ``str`` again, so
    customer text added later is not taken for safe."""

    __slots__ = ()


def safe(value: object, *, single_line: bool = False) -> Safe:
    """``value`` as ``Safe`` text: the one way customer text reaches a toast or a widget that
    takes a plain string (ARCHITECTURE.md rule 8)."""
    if isinstance(value, Safe) and not single_line:
        return value
    return Safe(safe_text(str(value), single_line=single_line))
