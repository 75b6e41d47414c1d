"""Attachment names made safe to SHOW; they are never used as storage paths."""

from __future__ import annotations

import unicodedata

MAX_FILENAME_CHARS = 150
_MAX_INPUT_CHARS = 1024  # longer names are truncated anyway; bounds per-char work
_MAX_EXT_CHARS = 16


def _keep(ch: str) -> bool:
    """Drop controls, bidi overrides, zero-width and other format/unassigned characters."""
    return unicodedata.category(ch)[0] != "C"


def safe_filename(name: str, fallback: str) -> str:
    """Basename only, no control/bidi/zero-width characters, no leading dots, <= 150 chars.

    ``evil\\u202egpj.exe`` shows as ``evilgpj.exe``; ``../../etc/passwd`` as ``passwd``;
    an empty result becomes ``fallback`` (e.g. ``attachment-3.bin``).
    """
    text = unicodedata.normalize("NFC", str(name)[:_MAX_INPUT_CHARS])
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch if _keep(ch) else (" " if ch.isspace() else "") for ch in text)
    text = " ".join(text.split()).lstrip(". ").rstrip(" ")
    if not text or text.strip(".") == "":
        return fallback
    if len(text) > MAX_FILENAME_CHARS:
        stem, dot, ext = text.rpartition(".")
        if dot and stem and 0 < len(ext) <= _MAX_EXT_CHARS:
            text = stem[: MAX_FILENAME_CHARS - len(ext) - 1].rstrip(" ") + "." + ext
        else:
            text = text[:MAX_FILENAME_CHARS].rstrip(" ")
    return text
